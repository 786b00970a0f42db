"""Outreach listens to the channel layer: delivery events feed engagement and A/B outcomes."""

from madansara.channels.signals import message_event
from outreach.services.feedback import on_message_event

message_event.connect(on_message_event, dispatch_uid="outreach.feedback")
