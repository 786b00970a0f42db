"""The channel layer's hand-off points. Sent from Celery tasks after the rows are committed,
except `message_sent`.

inbound_received(sender, inbound: InboundMessage)
    a normalised inbound message, comment, mention, postback or story reply was recorded
    (sent once per InboundMessage; duplicates of the same provider event are not re-sent).
message_event(sender, message: Message, event: MessageEvent)
    an outbound message got a delivery/engagement event (delivered, opened, clicked,
    replied, bounced, failed, unsubscribed, spam_report).
message_sent(sender, message: Message, sent_at: datetime)
    the message went to the provider: sent exactly once per message, at its transition to
    `sent` and inside that transaction (a receiver's rows commit or roll back with it). A
    provider's later "sent"/"processed" callback is a `message_event`, not this.
inbound_contact_attached(sender, contact_id: int, inbound_ids: list[int])
    inbound messages received without a contact now belong to one (a website chat visitor
    the site identified afterwards); sent after commit, so the inbox and the touchpoints follow.
"""

from django.dispatch import Signal

inbound_received = Signal()
message_event = Signal()
message_sent = Signal()
inbound_contact_attached = Signal()
