"""Channels' part of a contact's erasure: the messages, inbound messages and webhook bodies that
carried the person's address and words are blanked; the rows (counts, costs, statuses) stay."""

from django.dispatch import receiver

from madansara.channels.models import InboundMessage, Message, WebhookEvent
from madansara.contacts.signals import contact_erased


@receiver(contact_erased, dispatch_uid="channels.receivers.contact_erased")
def on_contact_erased(sender, contact, **kwargs) -> None:
    Message.objects.filter(contact=contact).update(
        to="", subject="", text="", html="", media_urls=[], template_variables={}, headers={}, reply_to="", context={}
    )
    inbound = InboundMessage.objects.filter(contact=contact)
    WebhookEvent.objects.filter(pk__in=inbound.exclude(raw_event=None).values("raw_event")).update(body="", headers={})
    inbound.update(sender="", recipient="", subject="", text="", html="", attachments=[], headers={})
