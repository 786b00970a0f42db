"""Builders shared by the social tests."""

from django.utils import timezone

from madansara.channels.models import InboundMessage
from madansara.channels.signals import inbound_received


def deliver_inbound(*, channel="instagram", kind="comment", sender="rose.boutique", text="", external_id="c-1",
                    post_id="", recipient="17841400000", contact=None, received_at=None):  # fmt: skip
    """What the channel layer does for a verified webhook: store the InboundMessage, then signal it."""
    from madansara.contacts.services import contact_get_or_create_by_identity

    identity = None
    if contact is None:
        contact, identity, _ = contact_get_or_create_by_identity(
            channel=channel, value=sender, defaults={"name": sender}
        )
    else:
        identity = contact.identities.filter(channel=channel).first()
    inbound = InboundMessage.objects.create(
        channel=channel,
        kind=kind,
        contact=contact,
        identity=identity,
        sender=sender,
        recipient=recipient,
        external_id=external_id,
        post_id=post_id,
        text=text,
        received_at=received_at or timezone.now(),
    )
    if kind == "message" and identity is not None:
        identity.last_inbound_at = inbound.received_at
        identity.save(update_fields=["last_inbound_at"])
    inbound_received.send(sender=InboundMessage, inbound=inbound)
    return inbound


def graph_error(code: int, message: str = "error", subcode: int | None = None) -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}
