"""Turn stored, verified webhook events into message events, inbound messages and consent.

Every processor is idempotent: message events are unique by provider_event_id, inbound
messages by (channel, external_id), and consent_set is a no-op when nothing changes.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from madansara.channels import tasks
from madansara.channels.inbound import inbound_keyword_consent, inbound_record, keyword_of
from madansara.channels.models import InboundKind, Message, MessageEventKind, WebhookEvent, WebhookStatus
from madansara.channels.retry import WEBHOOK
from madansara.channels.services import message_event_record, message_events_record_many
from madansara.choices import Channel
from madansara.contacts.models import Contact, ContactIdentity
from madansara.contacts.services import consent_set

# How long a provider may deliver the same request again (its documented retries, or X's Replay
# API); a replay key (WebhookEvent.dedup_key) is kept for that window plus REPLAY_KEY_MARGIN.
# Past it a redelivery cannot come, and processing stays idempotent by provider ids anyway.
RETRY_WINDOWS = {
    "meta": timedelta(hours=36),  # retries with decreasing frequency for 36 hours
    "x": timedelta(days=5),  # retries for 5 minutes; the Replay API re-delivers up to 5 days back
    "linkedin": timedelta(days=1),  # retries within minutes of a failed delivery
    "twilio": timedelta(days=1),  # connection-override retries, within minutes
    "sendgrid": timedelta(days=3),  # Event Webhook retries for 24 hours, Inbound Parse for 3 days
}
DEFAULT_RETRY_WINDOW = timedelta(days=7)
REPLAY_KEY_MARGIN = timedelta(days=1)

SENDGRID_KINDS = {
    "processed": MessageEventKind.SENT,
    "delivered": MessageEventKind.DELIVERED,
    "deferred": MessageEventKind.DEFERRED,
    "open": MessageEventKind.OPENED,
    "click": MessageEventKind.CLICKED,
    "bounce": MessageEventKind.BOUNCED,
    "dropped": MessageEventKind.DROPPED,
    "spamreport": MessageEventKind.SPAM_REPORT,
    "unsubscribe": MessageEventKind.UNSUBSCRIBED,
    "group_unsubscribe": MessageEventKind.UNSUBSCRIBED,
}
SENDGRID_CONSENT_EVENTS = {"bounce", "spamreport", "unsubscribe", "group_unsubscribe"}
TWILIO_KINDS = {
    "sent": MessageEventKind.SENT,
    "delivered": MessageEventKind.DELIVERED,
    "read": MessageEventKind.OPENED,
    "undelivered": MessageEventKind.FAILED,
    "failed": MessageEventKind.FAILED,
}


def _epoch(value, *, millis: bool = False):
    try:
        seconds = float(value) / (1000 if millis else 1)
    except (TypeError, ValueError):
        return timezone.now()
    return datetime.fromtimestamp(seconds, tz=UTC)


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _sg_id(item: dict) -> str:
    """The X-Message-Id part of an event's sg_message_id ("<x-message-id>.<filter suffix>")."""
    return str(item.get("sg_message_id", "")).split(".")[0]


# --- SendGrid -------------------------------------------------------------------------------


def process_sendgrid_events(event: WebhookEvent) -> None:
    items = [e for e in json.loads(event.body) if e.get("event") in SENDGRID_KINDS]
    fields = ("pk", "provider_message_id", "contact_id", "to")
    by_uuid = {_uuid(e.get("ms_message_id")) for e in items} - {None}
    rows = list(Message.objects.filter(pk__in=by_uuid).values_list(*fields))
    found = {pk for pk, _, _, _ in rows}
    by_sg_id = {_sg_id(e) for e in items if _uuid(e.get("ms_message_id")) not in found} - {""}
    if by_sg_id:  # events of messages sent before custom_args carried our id
        rows += Message.objects.filter(provider="sendgrid", provider_message_id__in=by_sg_id).values_list(*fields)
    pk_by_uuid = {pk: pk for pk, _, _, _ in rows}
    pk_by_sg = {pid: pk for pk, pid, _, _ in rows if pid}
    contact_of = {pk: contact for pk, _, contact, _ in rows}
    to_of = {pk: to for pk, _, _, to in rows}
    batch = []
    for item in items:
        pk = pk_by_uuid.get(_uuid(item.get("ms_message_id"))) or pk_by_sg.get(_sg_id(item))
        if pk is None:
            continue
        data = {k: item[k] for k in ("event", "reason", "type", "url", "status", "response") if item.get(k)}
        batch.append(
            {
                "message_id": pk,
                "kind": SENDGRID_KINDS[item["event"]],
                "occurred_at": _epoch(item.get("timestamp")),
                "provider_event_id": f"sendgrid:{item.get('sg_event_id') or uuid.uuid4()}",
                "data": data,
            }
        )
    fresh = message_events_record_many(events=batch)
    for new in fresh:
        sg_event = new.data.get("event")
        if sg_event not in SENDGRID_CONSENT_EVENTS:
            continue
        _email_consent_revoked(
            contact_id=contact_of.get(new.message_id), source=f"sendgrid:{sg_event}", at=new.occurred_at
        )
        if sg_event == "bounce" and new.data.get("type", "bounce") == "bounce":
            ContactIdentity.objects.filter(channel=Channel.EMAIL, value=to_of[new.message_id]).update(
                is_valid=False, invalid_reason=(new.data.get("reason") or "bounced")[:255]
            )


def _email_consent_revoked(*, contact_id, source: str, at) -> None:
    contact = Contact.objects.filter(pk=contact_id).first() if contact_id else None
    if contact is not None:
        consent_set(contact=contact, channel=Channel.EMAIL, status="unsubscribed", source=source, occurred_at=at)


def process_sendgrid_inbound(event: WebhookEvent) -> None:
    data = json.loads(event.body)
    headers = data.get("headers") or {}
    inbound_record(
        channel=Channel.EMAIL,
        external_id=headers.get("message_id") or f"sendgrid-inbound:{event.pk}",
        sender=data.get("from", ""),
        sender_name=data.get("from_name", ""),
        recipient=", ".join(data.get("to") or []),
        thread_id=(headers.get("references", "").split() or [headers.get("message_id", "")])[0],
        subject=data.get("subject", ""),
        text=data.get("text", ""),
        html=data.get("html", ""),
        attachments=data.get("attachments") or [],
        headers=headers,
        raw_event=event,
    )


# --- Twilio ---------------------------------------------------------------------------------


def process_twilio_message(event: WebhookEvent) -> None:
    params = json.loads(event.body)
    sender = params.get("From", "")
    channel = Channel.WHATSAPP if sender.startswith("whatsapp:") else Channel.SMS
    sender = sender.removeprefix("whatsapp:")
    media = [
        {"url": params.get(f"MediaUrl{i}", ""), "content_type": params.get(f"MediaContentType{i}", "")}
        for i in range(int(params.get("NumMedia") or 0))
    ]
    inbound, created = inbound_record(
        channel=channel,
        external_id=params["MessageSid"],
        sender=sender,
        sender_name=params.get("ProfileName", ""),
        recipient=params.get("To", "").removeprefix("whatsapp:"),
        thread_id=sender,
        text=params.get("Body", ""),
        attachments=media,
        raw_event=event,
        reply_to_provider_id=params.get("OriginalRepliedMessageSid", ""),
    )
    keyword = (params.get("OptOutType") or "").lower() or keyword_of(params.get("Body", ""))
    if created:
        inbound_keyword_consent(inbound=inbound, keyword=keyword, source=f"{channel}:{keyword.upper()}")


def process_twilio_status(event: WebhookEvent) -> None:
    params = json.loads(event.body)
    status = params.get("MessageStatus", "")
    kind = TWILIO_KINDS.get(status)
    message = Message.objects.filter(provider="twilio", provider_message_id=params.get("MessageSid")).first()
    if kind is None or message is None:
        return
    code = params.get("ErrorCode") or ""
    recorded = message_event_record(
        message=message,
        kind=kind,
        provider_event_id=f"twilio:{params['MessageSid']}:{status}",
        data={"status": status, "error_code": code} if code else {"status": status},
    )
    if recorded is None or kind != MessageEventKind.FAILED:
        return
    Message.objects.filter(pk=message.pk).update(failure_code=code[:64], failure_reason=f"Twilio {status} {code}"[:500])
    if code == "21610" and message.contact_id:
        consent_set(contact=message.contact, channel=message.channel, status="unsubscribed", source="twilio:21610")
    if code in ("21211", "21614", "63024"):
        ContactIdentity.objects.filter(channel=message.channel, value=message.to).update(
            is_valid=False, invalid_reason=f"Twilio {code}"
        )


# --- Meta (Messenger, Instagram) ------------------------------------------------------------


def process_meta(event: WebhookEvent) -> None:
    data = json.loads(event.body)
    channel = Channel.INSTAGRAM if data.get("object") == "instagram" else Channel.FACEBOOK
    for entry in data.get("entry") or []:
        for item in entry.get("messaging") or []:
            _meta_messaging(event, channel, entry, item)
        for change in entry.get("changes") or []:
            _meta_change(event, channel, change.get("field", ""), change.get("value") or {})


def _meta_messaging(event, channel, entry, item) -> None:
    sender = str((item.get("sender") or {}).get("id", ""))
    received_at = _epoch(item.get("timestamp"), millis=True)
    if "delivery" in item:
        for mid in item["delivery"].get("mids") or []:
            message = Message.objects.filter(provider="meta", provider_message_id=mid).first()
            if message:
                message_event_record(
                    message=message, kind=MessageEventKind.DELIVERED, provider_event_id=f"meta:delivered:{mid}"
                )
        return
    message = item.get("message")
    if message and not message.get("is_echo"):
        reply_to = message.get("reply_to") or {}
        inbound_record(
            channel=channel,
            kind=InboundKind.STORY_REPLY if reply_to.get("story") else InboundKind.MESSAGE,
            external_id=message.get("mid", ""),
            sender=sender,
            recipient=str(entry.get("id", "")),
            thread_id=sender,
            post_id=str((reply_to.get("story") or {}).get("id", "")),
            text=message.get("text", ""),
            attachments=[
                {"type": a.get("type", ""), "url": (a.get("payload") or {}).get("url", "")}
                for a in message.get("attachments") or []
            ],
            received_at=received_at,
            raw_event=event,
            reply_to_provider_id=reply_to.get("mid", ""),
        )
    postback = item.get("postback")
    if postback:
        inbound_record(
            channel=channel,
            kind=InboundKind.POSTBACK,
            external_id=postback.get("mid") or f"postback:{sender}:{item.get('timestamp')}",
            sender=sender,
            thread_id=sender,
            text=postback.get("title", ""),
            headers={"payload": postback.get("payload", "")},
            received_at=received_at,
            raw_event=event,
        )


def _meta_change(event, channel, field: str, value: dict) -> None:
    if field == "mentions":
        inbound_record(
            channel=channel,
            kind=InboundKind.MENTION,
            external_id=str(value.get("comment_id") or value.get("media_id", "")),
            post_id=str(value.get("media_id", "")),
            raw_event=event,
        )
        return
    is_page_comment = field == "feed" and value.get("item") == "comment" and value.get("verb") == "add"
    if not (field == "comments" or is_page_comment):
        return
    author = value.get("from") or {}
    inbound_record(
        channel=channel,
        kind=InboundKind.COMMENT,
        external_id=str(value.get("id") or value.get("comment_id", "")),
        sender=str(author.get("id", "")),
        sender_name=author.get("username") or author.get("name", ""),
        post_id=str((value.get("media") or {}).get("id") or value.get("post_id", "")),
        parent_id=str(value.get("parent_id", "")),
        text=value.get("text") or value.get("message", ""),
        received_at=_epoch(value["created_time"]) if str(value.get("created_time", "")).isdigit() else None,
        raw_event=event,
    )


# --- X and LinkedIn -------------------------------------------------------------------------


def process_x(event: WebhookEvent) -> None:
    data = json.loads(event.body)
    me = str(data.get("for_user_id", ""))
    users = data.get("users") or {}
    for dm in data.get("direct_message_events") or []:
        create = dm.get("message_create") or {}
        sender_id = str(create.get("sender_id", ""))
        if dm.get("type") != "message_create" or sender_id == me:
            continue
        handle = (users.get(sender_id) or {}).get("screen_name") or sender_id
        inbound_record(
            channel=Channel.X,
            external_id=str(dm.get("id", "")),
            sender=handle,
            sender_name=(users.get(sender_id) or {}).get("name", ""),
            thread_id=sender_id,
            text=(create.get("message_data") or {}).get("text", ""),
            received_at=_epoch(dm.get("created_timestamp"), millis=True),
            raw_event=event,
        )
    for tweet in data.get("tweet_create_events") or []:
        user = tweet.get("user") or {}
        if str(user.get("id_str", "")) == me:
            continue
        parent = str(tweet.get("in_reply_to_status_id_str") or "")
        inbound_record(
            channel=Channel.X,
            kind=InboundKind.COMMENT if parent else InboundKind.MENTION,
            external_id=str(tweet.get("id_str", "")),
            sender=user.get("screen_name", ""),
            sender_name=user.get("name", ""),
            post_id=parent or str(tweet.get("id_str", "")),
            parent_id=parent,
            text=tweet.get("text", ""),
            raw_event=event,
        )


LINKEDIN_KINDS = {"COMMENT": InboundKind.COMMENT, "MENTION": InboundKind.MENTION, "SHARE_MENTION": InboundKind.MENTION}


def process_linkedin(event: WebhookEvent) -> None:
    data = json.loads(event.body)
    for note in data.get("notifications") or []:
        kind = LINKEDIN_KINDS.get(note.get("action", ""))
        if kind is None:
            continue
        decorated = note.get("decoratedGeneratedActivity") or {}
        inbound_record(
            channel=Channel.LINKEDIN,
            kind=kind,
            external_id=str(note.get("generatedActivity") or note.get("notificationId", "")),
            sender=str(note.get("actor", "")),
            post_id=str(note.get("sourcePost", "")),
            text=(decorated.get("comment") or {}).get("text", "") or decorated.get("text", ""),
            received_at=_epoch(note.get("lastModifiedAt"), millis=True) if note.get("lastModifiedAt") else None,
            raw_event=event,
        )


PROCESSORS = {
    ("sendgrid", "events"): process_sendgrid_events,
    ("sendgrid", "inbound"): process_sendgrid_inbound,
    ("twilio", "message"): process_twilio_message,
    ("twilio", "status"): process_twilio_status,
    ("meta", "event"): process_meta,
    ("x", "event"): process_x,
    ("linkedin", "event"): process_linkedin,
}


def webhook_event_process(*, event: WebhookEvent) -> bool:
    """Process a stored event once (atomically); on error mark it failed, due again after the
    WEBHOOK policy's delay (the sweep retries it), and re-raise. Returns False when it was already
    processed."""
    if event.status == WebhookStatus.PROCESSED:
        return False
    try:
        with transaction.atomic():
            PROCESSORS[(event.provider, event.kind)](event)
            WebhookEvent.objects.filter(pk=event.pk).update(
                status=WebhookStatus.PROCESSED, processed_at=timezone.now(), last_error="", attempts=event.attempts + 1
            )
    except Exception as exc:
        attempts = event.attempts + 1
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=WebhookStatus.FAILED,
            last_error=f"{exc.__class__.__name__}: {exc}"[:2000],
            attempts=attempts,
            retry_at=timezone.now() + timedelta(seconds=WEBHOOK.delay(attempts)),
        )
        raise
    return True


@transaction.atomic
def webhook_event_retry(*, event: WebhookEvent) -> None:
    """Queue a failed (or stuck) event for processing again."""
    WebhookEvent.objects.filter(pk=event.pk).exclude(status=WebhookStatus.PROCESSED).update(
        status=WebhookStatus.PENDING, retry_at=timezone.now()
    )
    transaction.on_commit(lambda: tasks.webhook_event_process_task.delay(event.pk))


def webhook_replay_keys_prune(*, now: datetime | None = None) -> int:
    """Forget the replay keys of events older than their provider's retry window (one UPDATE per
    provider, on the received_at index; the events themselves stay). Returns the keys pruned."""
    now = now or timezone.now()
    keyed = WebhookEvent.objects.filter(dedup_key__isnull=False)
    pruned = (
        keyed.exclude(provider__in=RETRY_WINDOWS)
        .filter(received_at__lt=now - DEFAULT_RETRY_WINDOW - REPLAY_KEY_MARGIN)
        .update(dedup_key=None)
    )
    for provider, window in RETRY_WINDOWS.items():
        cutoff = now - window - REPLAY_KEY_MARGIN
        pruned += keyed.filter(provider=provider, received_at__lt=cutoff).update(dedup_key=None)
    return pruned
