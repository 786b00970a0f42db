"""The channel layer's part of erasure: its copies of a person's addresses and words.

Outbound messages, their attempts and events, inbound messages and the raw webhook requests
keep their ids, statuses, costs and times (aggregates); addresses, bodies and payloads go.
"""

from django.db.models import Q
from django.dispatch import receiver

from madansara.channels.models import (
    ChatThread,
    DeliveryAttempt,
    InboundMessage,
    Message,
    MessageEvent,
    WebhookEvent,
)
from madansara.choices import Channel
from madansara.contacts.signals import contact_erased
from madansara.erasure import matching, search_forms
from madansara.models import LiveEvent

MESSAGE_BLANK = {
    "to": "", "subject": "", "text": "", "html": "", "media_urls": [], "template_variables": {}, "headers": {},
    "reply_to": "", "context": {}, "failure_reason": "",
}  # fmt: skip
INBOUND_BLANK = {
    "sender": "", "recipient": "", "thread_id": "", "subject": "", "text": "", "html": "", "attachments": [],
    "headers": {},
}  # fmt: skip


@receiver(contact_erased, dispatch_uid="channels.contact_erased")
def on_contact_erased(sender, contact, values: list[str], **kwargs) -> dict[str, int]:
    forms = search_forms(values)
    messages = Message.objects.filter(Q(contact_id=contact.pk) | Q(contact=None, to__in=values))
    inbound = InboundMessage.objects.filter(Q(contact_id=contact.pk) | Q(contact=None, sender__in=values))
    # raw requests: those behind the person's inbound messages, and status callbacks naming them
    raw = WebhookEvent.objects.filter(
        Q(pk__in=inbound.exclude(raw_event=None).values("raw_event"))
        | Q(pk__in=matching(WebhookEvent.objects.all(), ["body", "headers"], forms).values("pk"))
    )
    # website chats: what the visitor typed into the widget besides their messages (before the
    # inbound rows lose the thread ids that find them)
    chats = ChatThread.objects.filter(key__in=inbound.filter(channel=Channel.CHAT).values("thread_id"))
    # live notices pushed to the person's chat pages (and any other quoting them) keep their kind only
    topics = [f"chat:{key}" for key in chats.values_list("key", flat=True)]
    live = LiveEvent.objects.filter(
        Q(topic__in=topics) | Q(pk__in=matching(LiveEvent.objects.all(), ["data"], forms).values("pk"))
    )
    return {
        "madansara.liveevent": live.exclude(data={}).update(data={}),
        "channels.chatthread": chats.update(name="", email="", prechat={}, csat_comment="", visitor_id=""),
        "channels.webhookevent": raw.exclude(body="", headers={}).update(body="", headers={}),
        "channels.deliveryattempt": DeliveryAttempt.objects.filter(message__in=messages)
        .exclude(error_message="")
        .update(error_message=""),
        "channels.messageevent": MessageEvent.objects.filter(message__in=messages).exclude(data={}).update(data={}),
        "channels.message": messages.update(**MESSAGE_BLANK),
        "channels.inboundmessage": inbound.update(**INBOUND_BLANK),
    }
