"""The channel layer's hand-off points. Sent from Celery tasks after the rows are committed.

inbound_received(sender, inbound: InboundMessage)
    a normalised inbound message, comment, mention, postback or story reply was recorded
    (sent once per InboundMessage; duplicates of the same provider event are not re-sent).
message_event(sender, message: Message, event: MessageEvent)
    an outbound message got a delivery/engagement event (delivered, opened, clicked,
    replied, bounced, failed, unsubscribed, spam_report).
"""

from django.dispatch import Signal

inbound_received = Signal()
message_event = Signal()
