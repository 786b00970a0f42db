"""Conversations: where every inbound message lands (threading), status changes, notes."""

import re
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inbox import tasks
from inbox.classifier import strip_quoted
from inbox.live import inbox_changed
from inbox.models import (
    Conversation,
    ConversationMessage,
    ConversationStatus,
    Direction,
    InternalNote,
    Label,
    SLAEventKind,
)
from inbox.services.assignment import conversation_auto_assign
from inbox.services.sla import sla_due
from madansara.audit import audit_record
from madansara.channels.chat import chat_thread_closed_by_agent
from madansara.channels.models import InboundKind, InboundMessage, Message
from madansara.choices import Channel

_MESSAGE_ID = re.compile(r"<?([^<>\s]+)>?")
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|tr|rv|aw)\s*:\s*)+", re.IGNORECASE)
_REPLY_TOKEN = re.compile(r"^reply\+([0-9a-f]{8,32})@", re.IGNORECASE)


def message_id_header(message_id: uuid.UUID | str) -> str:
    """Our RFC 5322 Message-ID for an outbound message: its UUID at the reply domain."""
    return f"<{message_id}@{settings.EMAIL_REPLY_DOMAIN}>"


def _ids(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    return _MESSAGE_ID.findall(str(value))


def referenced_ids(inbound: InboundMessage) -> list[str]:
    """Message ids the inbound email answers, nearest first (In-Reply-To, then References)."""
    headers = {k.lower().replace("-", "_"): v for k, v in (inbound.headers or {}).items()}
    refs = _ids(headers.get("references"))
    return _ids(headers.get("in_reply_to")) + list(reversed(refs))


def _our_message(ids: list[str]) -> Message | None:
    """The first of `ids` that is one of our outbound messages (`<uuid@reply-domain>`)."""
    for raw in ids:
        local, _, domain = raw.partition("@")
        try:
            pk = uuid.UUID(local)
        except ValueError:
            continue
        if domain and domain.lower() != settings.EMAIL_REPLY_DOMAIN.lower():
            continue
        message = Message.objects.filter(pk=pk).first()
        if message is not None:
            return message
    return None


def clean_subject(subject: str) -> str:
    return _SUBJECT_PREFIX.sub("", subject or "").strip()


def _conversation_of(message: Message) -> Conversation | None:
    entry = ConversationMessage.objects.filter(outbound=message).select_related("conversation").first()
    return entry.conversation if entry else None


def thread_email(inbound: InboundMessage) -> tuple[Conversation | None, Message | None]:
    """(existing conversation, campaign message answered): headers, then reply token."""
    ours = _our_message(referenced_ids(inbound)) or inbound.in_reply_to_message
    if ours is not None:
        conversation = _conversation_of(ours)
        if conversation is not None:
            return conversation, None
        return None, ours  # an answer to an outreach message: new conversation linked to it
    match = _REPLY_TOKEN.match(inbound.recipient or "")
    if match:
        conversation = Conversation.objects.filter(reply_token=match.group(1).lower()).first()
        if conversation is not None:
            return conversation, None
    return None, None


def thread_direct(inbound: InboundMessage) -> tuple[Conversation | None, Message | None]:
    """DMs, WhatsApp, SMS: the channel's thread, else the contact's latest conversation there."""
    existing = Conversation.objects.filter(channel=inbound.channel)
    if inbound.thread_id:
        found = existing.filter(thread_key=inbound.thread_id).order_by("-last_message_at").first()
        if found is not None:
            return found, None
    found = existing.filter(participant=inbound.sender).order_by("-last_message_at").first()
    if found is not None:
        return found, None
    return None, inbound.in_reply_to_message


@transaction.atomic
def conversation_ingest(*, inbound: InboundMessage, classify: bool = True) -> Conversation:
    """Put an inbound message into exactly one conversation (idempotent) and start its work.

    The public hand-off for other apps too: social routes DMs or comments it wants answered in
    the inbox through this function. Reopens resolved/snoozed conversations, sets SLA due
    times, auto-assigns, and enqueues classification after commit.
    """
    existing = ConversationMessage.objects.filter(inbound=inbound).select_related("conversation").first()
    if existing is not None:
        return existing.conversation
    thread = thread_email if inbound.channel == Channel.EMAIL else thread_direct
    conversation, campaign_message = thread(inbound)
    now = inbound.received_at or timezone.now()
    if conversation is None:
        conversation = _conversation_start(inbound=inbound, campaign_message=campaign_message, now=now)
    else:
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    ConversationMessage.objects.create(
        conversation=conversation, direction=Direction.INBOUND, inbound=inbound, created_at=now
    )
    _on_inbound(conversation=conversation, inbound=inbound, now=now)
    inbox_changed(conversation_id=conversation.pk, what="message")
    if classify:
        transaction.on_commit(lambda: tasks.classify_inbound_task.delay(inbound.pk))
    return conversation


def _conversation_start(*, inbound: InboundMessage, campaign_message: Message | None, now) -> Conversation:
    first = not (inbound.contact_id and Conversation.objects.filter(contact_id=inbound.contact_id).exists())
    conversation = Conversation.objects.create(
        channel=inbound.channel,
        contact_id=inbound.contact_id,
        participant=inbound.sender,
        thread_key=inbound.thread_id or "",
        subject=clean_subject(inbound.subject)[:998],
        campaign_message=campaign_message,
        is_first_for_contact=first,
        last_message_at=now,
        created_at=now,
    )
    conversation_auto_assign(conversation=conversation)
    conversation.resolution_due = sla_due(conversation=conversation, kind=SLAEventKind.RESOLUTION, start=now)
    conversation.save(update_fields=["resolution_due"])
    return conversation


SEARCH_TEXT_LIMIT = 20000


def _search_text(conversation: Conversation, inbound: InboundMessage) -> str:
    """The searchable words: kept short by dropping the oldest text (quoted history never added)."""
    head = f"{conversation.subject} {conversation.participant}"
    words = f"{conversation.search_text[len(head) :]} {inbound.subject} {strip_quoted(inbound.text)[:2000]}".strip()
    return f"{head} {words[-SEARCH_TEXT_LIMIT:]}"


def _on_inbound(*, conversation: Conversation, inbound: InboundMessage, now) -> None:
    fields = {
        "last_message_at": max(now, conversation.last_message_at),
        "last_inbound_at": now,
        "search_text": _search_text(conversation, inbound),
    }
    if conversation.status != ConversationStatus.OPEN:
        fields |= {"status": ConversationStatus.OPEN, "snoozed_until": None, "resolved_at": None}
        if conversation.status == ConversationStatus.RESOLVED:
            fields["resolution_due"] = sla_due(conversation=conversation, kind=SLAEventKind.RESOLUTION, start=now)
    if not conversation.awaiting_reply:
        fields["awaiting_reply"] = True
        fields["sla_breached"] = False
        if conversation.first_responded_at is None:
            fields["first_response_due"] = sla_due(
                conversation=conversation, kind=SLAEventKind.FIRST_RESPONSE, start=now
            )
        else:
            fields["next_response_due"] = sla_due(conversation=conversation, kind=SLAEventKind.NEXT_RESPONSE, start=now)
    if inbound.thread_id and not conversation.thread_key:
        fields["thread_key"] = inbound.thread_id
    if inbound.contact_id and not conversation.contact_id:  # e.g. a chat visitor identified meanwhile
        fields["contact_id"] = inbound.contact_id
    for name, value in fields.items():
        setattr(conversation, name, value)
    conversation.save(update_fields=list(fields))


def conversation_status_set(*, conversation: Conversation, status: str, actor, snoozed_until=None) -> Conversation:
    """open / pending / snoozed (until a time) / resolved, audited."""
    if status not in ConversationStatus.values:
        raise ValueError(f"Unknown status '{status}'.")
    if status == ConversationStatus.SNOOZED and (snoozed_until is None or snoozed_until <= timezone.now()):
        raise ValueError("Snoozing needs a time in the future.")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        previous = conversation.status
        conversation.status = status
        conversation.snoozed_until = snoozed_until if status == ConversationStatus.SNOOZED else None
        conversation.resolved_at = timezone.now() if status == ConversationStatus.RESOLVED else None
        if status == ConversationStatus.RESOLVED:
            conversation.awaiting_reply = False
        conversation.save(update_fields=["status", "snoozed_until", "resolved_at", "awaiting_reply"])
        audit_record(
            actor=actor,
            action="inbox.conversation.status",
            target=conversation,
            data={
                "from": previous,
                "to": status,
                "snoozed_until": snoozed_until.isoformat() if snoozed_until else None,
            },
        )
        inbox_changed(conversation_id=conversation.pk, what="status", status=status)
        if status == ConversationStatus.RESOLVED and conversation.channel == Channel.CHAT:
            chat_thread_closed_by_agent(thread_key=conversation.thread_key or conversation.participant)
    return conversation


def conversations_contact_attach(*, contact_id: int, inbound_ids: list[int]) -> int:
    """Conversations of these inbound messages that had no contact are the contact's now (a chat
    visitor identified after writing); set-based. Returns how many changed."""
    return Conversation.objects.filter(contact=None, entries__inbound_id__in=inbound_ids).update(contact_id=contact_id)


def conversations_reopen_snoozed(*, now=None) -> int:
    """Set-based: snoozed conversations whose time has come are open again."""
    now = now or timezone.now()
    return Conversation.objects.filter(status=ConversationStatus.SNOOZED, snoozed_until__lte=now).update(
        status=ConversationStatus.OPEN, snoozed_until=None
    )


def note_add(*, conversation: Conversation, author, text: str) -> InternalNote:
    """An internal note (never sent to the contact)."""
    if not text.strip():
        raise ValueError("A note needs text.")
    return InternalNote.objects.create(conversation=conversation, author=author, text=text.strip())


def conversation_label(*, conversation: Conversation, names: list[str]) -> Conversation:
    """Add labels by name (created on first use)."""
    labels = [Label.objects.get_or_create(name=name.strip().lower())[0] for name in names if name.strip()]
    conversation.labels.add(*labels)
    return conversation


def inbound_is_for_inbox(inbound: InboundMessage) -> bool:
    """Direct messages belong to the inbox; comments and mentions to the social app."""
    return inbound.kind in (InboundKind.MESSAGE, InboundKind.POSTBACK, InboundKind.STORY_REPLY)
