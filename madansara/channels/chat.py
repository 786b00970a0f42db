"""The website chat channel's operations: threads, inbound messages, delivery, presence, CSAT.

The website app serves the visitor's endpoints and calls these; the inbox sees chat like any
other channel (inbound_received → conversation; replies through message_send → ChatProvider).
Everything the visitor's page must learn is published to the thread's live topic.
"""

import html
import logging
from datetime import timedelta

import nh3
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from madansara.channels.inbound import inbound_record
from madansara.channels.models import ChatThread, ChatThreadStatus, InboundMessage, Message, MessageStatus
from madansara.channels.services import message_create
from madansara.channels.signals import inbound_contact_attached
from madansara.channels.tasks import message_send_task
from madansara.choices import Channel
from madansara.live import live_publish

logger = logging.getLogger(__name__)

HISTORY_LIMIT = 200


def chat_text_clean(text: str) -> str:
    """Plain text as the visitor meant it: markup removed (nh3 with no tags allowed), trimmed.
    The widget and the console show it as text too, never as HTML."""
    return html.unescape(nh3.clean(text or "", tags=set())).strip()


def chat_thread_open(
    *, site_key: str, visitor_id: str = "", name: str = "", email: str = "", language: str = "", prechat=None
) -> ChatThread:
    """A new chat thread for a visitor of a site."""
    return ChatThread.objects.create(
        site_key=site_key,
        visitor_id=visitor_id[:64],
        name=name[:200],
        email=email[:254],
        language=language[:8],
        prechat=prechat or {},
    )


def chat_inbound(*, thread: ChatThread, text: str, client_id: str, contact=None) -> tuple[InboundMessage, bool]:
    """A visitor's message: recorded as an inbound message of the chat channel (idempotent by the
    widget's client id), which the inbox threads, classifies and drafts like any other."""
    with transaction.atomic():
        inbound, created = inbound_record(
            channel=Channel.CHAT,
            external_id=f"{thread.key}:{client_id}"[:255],
            sender=thread.key,
            thread_id=thread.key,
            subject=f"Website chat with {thread.name}" if thread.name else "Website chat",
            text=text,
            sender_name=thread.name,
            contact=contact,
        )
        if created:
            if thread.status == ChatThreadStatus.CLOSED:
                ChatThread.objects.filter(pk=thread.pk).update(status=ChatThreadStatus.OPEN, closed_at=None)
            live_publish(
                topics=[thread.topic],
                kind="message",
                data={"id": f"in-{inbound.pk}", "client_id": client_id, "from": "visitor", "text": text},
            )
    return inbound, created


def chat_visitor_identified(*, site_key: str, visitor_id: str, contact) -> int:
    """The site identified its tracker visitor as `contact`: the messages they chatted before are the
    contact's from now on (inbox, attribution, erasure follow through `inbound_contact_attached`).
    Returns how many messages were attached."""
    if not visitor_id:
        return 0
    threads = ChatThread.objects.filter(site_key=site_key, visitor_id=visitor_id).values("key")
    ids = list(
        InboundMessage.objects.filter(channel=Channel.CHAT, contact=None, thread_id__in=threads).values_list(
            "pk", flat=True
        )
    )
    if ids:
        InboundMessage.objects.filter(pk__in=ids, contact=None).update(contact=contact)
        transaction.on_commit(
            lambda: inbound_contact_attached.send(sender=InboundMessage, contact_id=contact.pk, inbound_ids=ids)
        )
    return len(ids)


def chat_seen(*, thread_key: str, now=None) -> None:
    """The visitor's page is open (it polls): one conditional UPDATE, a write at most every 15 s."""
    now = now or timezone.now()
    stale = Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=now - timedelta(seconds=15))
    ChatThread.objects.filter(stale, key=thread_key).update(last_seen_at=now)


def chat_is_away(thread: ChatThread, now=None) -> bool:
    now = now or timezone.now()
    return thread.last_seen_at is None or now - thread.last_seen_at > timedelta(
        seconds=settings.CHAT_AWAY_AFTER_SECONDS
    )


def chat_deliver(*, thread: ChatThread, message_id: str, text: str) -> dict:
    """Publish a reply to the visitor's page; e-mail a copy when they are away and left an address.
    Returns what happened, for the delivery attempt's record."""
    live_publish(topics=[thread.topic], kind="message", data={"id": str(message_id), "from": "agent", "text": text})
    result = {"published": thread.topic}
    if thread.email and chat_is_away(thread):
        result |= _email_copy(thread=thread, message_id=message_id, text=text)
    return result


def _email_copy(*, thread: ChatThread, message_id: str, text: str) -> dict:
    """The reply as an e-mail of its own (queued, sent by the worker, recorded like any other)."""
    email = message_create(
        channel=Channel.EMAIL,
        to=thread.email,
        source="chat",
        subject="Reply to your chat message",
        text=f"{text}\n\n— You can also read and answer this in the chat on our website.",
        human_approved=True,
        context={"chat_thread": thread.key, "chat_message": str(message_id)},
    )
    transaction.on_commit(lambda: message_send_task.delay(str(email.pk)))
    return {"emailed_to": thread.email, "email_message": str(email.pk)}


def chat_email_set(*, thread: ChatThread, email: str) -> ChatThread:
    """The address an away visitor left for replies (validated by the caller)."""
    ChatThread.objects.filter(pk=thread.pk).update(email=email[:254])
    thread.email = email[:254]
    return thread


def chat_close(*, thread: ChatThread) -> ChatThread:
    """End the chat (the visitor or an agent resolving it): the page asks for a rating."""
    with transaction.atomic():
        closed = ChatThread.objects.filter(pk=thread.pk, status=ChatThreadStatus.OPEN).update(
            status=ChatThreadStatus.CLOSED, closed_at=timezone.now()
        )
        if closed:
            live_publish(topics=[thread.topic], kind="closed", data={"csat": thread.csat_score is None})
    thread.refresh_from_db()
    return thread


def chat_rate(*, thread: ChatThread, score: int, comment: str = "") -> ChatThread:
    """The visitor's CSAT answer (1-5) at the end of a chat; the latest answer counts."""
    if not 1 <= score <= 5:
        raise ValueError("The rating is a whole number from 1 to 5.")
    ChatThread.objects.filter(pk=thread.pk).update(
        csat_score=score, csat_comment=chat_text_clean(comment)[:1000], csat_at=timezone.now()
    )
    thread.refresh_from_db()
    return thread


def chat_thread_closed_by_agent(*, thread_key: str) -> None:
    """The inbox resolved the conversation of this thread."""
    thread = ChatThread.objects.filter(key=thread_key).first()
    if thread is not None:
        chat_close(thread=thread)


def chat_agent_typing(*, thread_key: str) -> None:
    """An agent is writing in this thread: the visitor's page shows it for a few seconds."""
    live_publish(topics=[f"chat:{thread_key}"], kind="typing", data={})


def chat_thread_for(conversation) -> ChatThread | None:
    """The chat thread behind an inbox conversation of the chat channel, with `away` set."""
    thread = ChatThread.objects.filter(key=conversation.thread_key or conversation.participant).first()
    if thread is not None:
        thread.away = chat_is_away(thread)
    return thread


def chat_history(*, thread: ChatThread) -> list[dict]:
    """The thread's messages, oldest first, as the widget shows them."""
    inbound = InboundMessage.objects.filter(channel=Channel.CHAT, thread_id=thread.key).values_list(
        "pk", "text", "received_at", "external_id"
    )
    outbound = (
        Message.objects.filter(channel=Channel.CHAT, to=thread.key)
        .exclude(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.FAILED])
        .values_list("pk", "text", "sent_at")
    )
    rows = [
        {"id": f"in-{pk}", "client_id": external.partition(":")[2], "from": "visitor", "text": text, "at": at}
        for pk, text, at, external in inbound.order_by("-received_at")[:HISTORY_LIMIT]
    ]
    rows += [
        {"id": str(pk), "from": "agent", "text": text, "at": at}
        for pk, text, at in outbound.order_by("-sent_at")[:HISTORY_LIMIT]
    ]
    rows.sort(key=lambda row: row["at"])
    for row in rows:
        row["at"] = row["at"].isoformat()
    return rows[-HISTORY_LIMIT:]
