"""Normalised inbound messages: the single hand-off point to the inbox and social apps."""

import logging
from datetime import timedelta

import nh3
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from madansara.channels.email_ids import message_ids_in
from madansara.channels.models import InboundKind, InboundMessage, Message, MessageEventKind, MessageStatus
from madansara.channels.services import message_event_record
from madansara.channels.signals import inbound_received
from madansara.choices import Channel
from madansara.contacts.models import ContactIdentity
from madansara.contacts.services import consent_set, contact_get_or_create_by_identity

logger = logging.getLogger(__name__)

# A reply on a thread-less channel (SMS, DMs) answers our latest message sent within this.
REPLY_LINK_WINDOW = timedelta(days=7)
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_WORDS = {"START", "UNSTOP", "YES", "OPTIN"}
HELP_WORDS = {"HELP", "INFO"}


def sanitize_html(html: str) -> str:
    """Inbound HTML made safe to display (nh3/ammonia defaults, links get rel=noopener)."""
    return nh3.clean(html or "", link_rel="noopener noreferrer nofollow")


def keyword_of(text: str) -> str:
    """'stop', 'start', 'help' or '' for an SMS/WhatsApp body that is just that keyword."""
    word = (text or "").strip().strip(".!").upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return ""


def _reply_target(*, channel: str, sender: str, headers: dict, received_at, context_message_id: str = ""):
    """The outbound Message this inbound one answers, if any."""
    if context_message_id:
        found = Message.objects.filter(channel=channel, provider_message_id=context_message_id).first()
        if found:
            return found
    if channel == Channel.EMAIL:
        ids = message_ids_in(headers.get("in_reply_to", ""), headers.get("references", ""))
        return Message.objects.filter(pk__in=ids).order_by("-created_at").first() if ids else None
    if not sender:
        return None
    return (
        Message.objects.filter(
            channel=channel,
            to=sender,
            sent_at__gte=received_at - REPLY_LINK_WINDOW,
            sent_at__lte=received_at,
        )
        .exclude(status=MessageStatus.FAILED)
        .order_by("-sent_at")
        .first()
    )


def inbound_record(
    *,
    channel: str,
    external_id: str,
    sender: str = "",
    kind: str = InboundKind.MESSAGE,
    recipient: str = "",
    thread_id: str = "",
    post_id: str = "",
    parent_id: str = "",
    subject: str = "",
    text: str = "",
    html: str = "",
    attachments: list | None = None,
    headers: dict | None = None,
    received_at=None,
    raw_event=None,
    sender_name: str = "",
    reply_to_provider_id: str = "",
    contact=None,
) -> tuple[InboundMessage, bool]:
    """Record one inbound message/comment/mention (idempotent by channel + external_id):
    matches or creates the contact by identity, opens the messaging window, links the outbound
    message it replies to, and sends `inbound_received` after commit. Returns (row, created).
    `contact`: the sender's contact when the channel knows it without an identity (website chat)."""
    existing = InboundMessage.objects.filter(channel=channel, external_id=external_id).first()
    if existing is not None:
        return existing, False
    received_at = received_at or timezone.now()
    headers = headers or {}
    try:
        with transaction.atomic():
            if contact is not None:
                identity = None
            else:
                contact, identity, sender = _sender_identity(channel=channel, sender=sender, sender_name=sender_name)
            _window_open(identity=identity, kind=kind, received_at=received_at)
            reply_to = _reply_target(
                channel=channel,
                sender=sender,
                headers=headers,
                received_at=received_at,
                context_message_id=reply_to_provider_id,
            )
            inbound = InboundMessage.objects.create(
                channel=channel,
                kind=kind,
                contact=contact,
                identity=identity,
                sender=sender[:255],
                recipient=recipient[:255],
                external_id=external_id[:255],
                thread_id=thread_id[:255],
                post_id=post_id[:255],
                parent_id=parent_id[:255],
                subject=subject[:998],
                text=text,
                html=sanitize_html(html) if html else "",
                attachments=attachments or [],
                headers=headers,
                in_reply_to_message=reply_to,
                raw_event=raw_event,
                received_at=received_at,
            )
            if reply_to is not None:
                _mark_replied(message=reply_to, inbound=inbound)
            transaction.on_commit(lambda: inbound_received.send(sender=InboundMessage, inbound=inbound))
    except IntegrityError:  # the same event processed concurrently: the other one won
        return InboundMessage.objects.get(channel=channel, external_id=external_id), False
    return inbound, True


def _sender_identity(*, channel: str, sender: str, sender_name: str):
    """(contact, identity, normalised sender): matched or created by identity; Nones if invalid."""
    if not sender:
        return None, None, ""
    try:
        contact, identity, _ = contact_get_or_create_by_identity(
            channel=channel, value=sender, defaults={"name": sender_name[:255]} if sender_name else None
        )
    except ValidationError:
        logger.info("inbound sender is not a valid identity", extra={"channel": channel})
        return None, None, sender
    return contact, identity, identity.value


def _window_open(*, identity, kind: str, received_at) -> None:
    """A message from the contact (re)opens the channel's customer-service window."""
    if identity is None or kind not in (InboundKind.MESSAGE, InboundKind.POSTBACK, InboundKind.STORY_REPLY):
        return
    ContactIdentity.objects.filter(pk=identity.pk).filter(
        models.Q(last_inbound_at__isnull=True) | models.Q(last_inbound_at__lt=received_at)
    ).update(last_inbound_at=received_at)


def _mark_replied(*, message: Message, inbound: InboundMessage) -> None:
    message_event_record(
        message=message,
        kind=MessageEventKind.REPLIED,
        occurred_at=inbound.received_at,
        provider_event_id=f"reply:{inbound.channel}:{inbound.external_id}"[:255],
        data={"inbound_id": inbound.pk},
    )


def inbound_keyword_consent(*, inbound: InboundMessage, keyword: str, source: str) -> None:
    """STOP unsubscribes and START re-subscribes the sender on the inbound channel."""
    if inbound.contact is None or keyword not in ("stop", "start"):
        return
    consent_set(
        contact=inbound.contact,
        channel=inbound.channel,
        status="unsubscribed" if keyword == "stop" else "opted_in",
        source=source,
        occurred_at=inbound.received_at,
    )
