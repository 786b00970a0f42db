"""The inbox listens to the channel layer's inbound hand-off."""

from django.dispatch import receiver

from inbox.services.conversations import conversation_ingest, inbound_is_for_inbox
from madansara.channels.signals import inbound_received


@receiver(inbound_received, dispatch_uid="inbox.inbound_received")
def on_inbound_received(sender, inbound, **kwargs):
    """Direct messages go to a conversation; comments and mentions belong to the social app."""
    if inbound_is_for_inbox(inbound):
        conversation_ingest(inbound=inbound)
