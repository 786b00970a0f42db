"""Sending and recording through the channel layer. No other code calls providers directly."""

import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from madansara.channels import registry, rules, states
from madansara.channels.attempts import attempt_outcome
from madansara.channels.base import OutboundPayload, Provider, ProviderError, SendResult
from madansara.channels.models import (
    AttemptOutcome,
    DeliveryAttempt,
    InboundMessage,
    Message,
    MessageEvent,
    MessageEventKind,
    MessageStatus,
)
from madansara.channels.ratelimit import rate_limit_acquire, rate_limit_block
from madansara.channels.signals import message_event, message_sent
from madansara.contacts.models import ConsentStatus, ContactConsent, ContactIdentity
from madansara.contacts.services import consent_set
from madansara.metrics import send_observe

logger = logging.getLogger(__name__)


def message_create(*, channel: str, contact=None, to: str = "", source: str = "", **content) -> Message:
    """A queued message; `to` defaults to the contact's identity on the channel."""
    if not to and contact is not None:
        identity = contact.identities.filter(channel=channel).first()
        if identity is None:
            raise ValueError(f"Contact {contact.pk} has no {channel} identity.")
        to = identity.value
    if not to:
        raise ValueError("A recipient is required.")
    return Message.objects.create(channel=channel, contact=contact, to=to, source=source, **content)


_LOOK_UP = object()


def payload_for(message: Message, *, last_inbound_at=_LOOK_UP) -> OutboundPayload:
    """The provider-neutral payload of a message, with the contact's messaging window
    (`last_inbound_at` of the recipient's identity: looked up unless the caller has it)."""
    if last_inbound_at is _LOOK_UP:
        last_inbound_at = (
            ContactIdentity.objects.filter(channel=message.channel, value=message.to)
            .values_list("last_inbound_at", flat=True)
            .first()
        )
    return OutboundPayload(
        channel=message.channel,
        to=message.to,
        message_id=str(message.id),
        text=message.text,
        html=message.html,
        subject=message.subject,
        media_urls=list(message.media_urls or []),
        template_name=message.template_name,
        template_variables=dict(message.template_variables or {}),
        headers=dict(message.headers or {}),
        reply_to=message.reply_to,
        categories=list(message.categories or []),
        human_approved=message.human_approved,
        last_inbound_at=last_inbound_at,
        context=dict(message.context or {}),
    )


def _consent_error(message: Message) -> ProviderError | None:
    if (
        message.contact_id
        and ContactConsent.objects.filter(
            contact_id=message.contact_id, channel=message.channel, status=ConsentStatus.UNSUBSCRIBED
        ).exists()
    ):
        return ProviderError("The contact unsubscribed from this channel", permanent=True, code="unsubscribed")
    if ContactIdentity.objects.filter(channel=message.channel, value=message.to, is_valid=False).exists():
        return ProviderError("The recipient identity is flagged as invalid", permanent=True, code="invalid_identity")
    return None


def message_send(*, message: Message, provider: Provider | None = None) -> DeliveryAttempt | None:
    """Make one delivery attempt. Claims the message (queued → sending) first, so two workers
    never send it twice; returns None when it was not queued. The attempt is recorded whatever
    happens; a transient error puts the message back to queued for the caller to retry."""
    if not states.claim(message_id=message.pk):
        return None
    message.refresh_from_db()
    provider = provider or registry.provider_for(message.channel)
    payload = payload_for(message)
    consent = _consent_error(message)
    result, error, latency_ms = message_send_prepared(
        message=message, payload=payload, provider=provider, error=consent
    )
    return _record_attempt(message=message, provider=provider, result=result, error=error, latency_ms=latency_ms)


def message_send_prepared(
    *, message: Message, payload: OutboundPayload, provider: Provider, error: ProviderError | None = None
) -> tuple[SendResult | None, ProviderError | None, int]:
    """The provider call of a message already claimed (`sending`) whose consent and identity the
    caller checked: channel rules, rate limit, send, errors classified. Records nothing; the caller
    records the outcome (record_attempt, or a faster equivalent) right after. Returns
    (result, error, latency_ms)."""
    started = time.perf_counter()
    error = error or rules.window_error(payload) or _private_reply_error(message, payload)
    if error is None:
        error = _rate_limit_error(provider, payload)
    result = None
    if error is None:
        try:
            result = provider.send(payload)
        except ProviderError as exc:
            error = exc
            if not exc.permanent and exc.retry_after:
                for key in provider.rate_limit_keys(payload):
                    rate_limit_block(key=key, seconds=exc.retry_after)
        except Exception as exc:  # noqa: BLE001 - network failures etc. are transient by default
            logger.warning("provider call failed", extra={"provider": provider.name, "error": exc.__class__.__name__})
            error = ProviderError(f"{exc.__class__.__name__}: {exc}", permanent=False, code="exception")
    seconds = time.perf_counter() - started
    outcome = attempt_outcome(error)
    send_observe(channel=message.channel, provider=provider.name, outcome=outcome.value, seconds=seconds)
    return result, error, int(seconds * 1000)


def _private_reply_error(message: Message, payload: OutboundPayload) -> ProviderError | None:
    comment_id = payload.context.get("comment_id")
    if not comment_id or message.channel not in rules.META_CHANNELS:
        return None
    comment_at = (
        InboundMessage.objects.filter(channel=message.channel, external_id=comment_id)
        .values_list("received_at", flat=True)
        .first()
    )
    already = (
        Message.objects.filter(channel=message.channel, context__comment_id=comment_id)
        .exclude(pk=message.pk)
        .exclude(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.FAILED])
        .exists()
    )
    return rules.private_reply_error(comment_at=comment_at, already_replied=already)


def _rate_limit_error(provider: Provider, payload: OutboundPayload) -> ProviderError | None:
    """Take a token from each of the provider account's buckets; a short wait is slept off."""
    if not provider.rate_per_second:
        return None
    for key in provider.rate_limit_keys(payload):
        wait = rate_limit_acquire(key=key, rate=provider.rate_per_second, burst=provider.burst)
        if 0 < wait <= settings.CHANNEL_RATE_LIMIT_MAX_SLEEP:
            time.sleep(wait)
            wait = rate_limit_acquire(key=key, rate=provider.rate_per_second, burst=provider.burst)
        if wait > 0:
            return ProviderError(
                f"Rate limit of {provider.name} reached", permanent=False, code="rate_limited", retry_after=wait
            )
    return None


@transaction.atomic
def _record_attempt(*, message, provider, result, error, latency_ms) -> DeliveryAttempt:
    now = timezone.now()
    if error is None:
        attempt = DeliveryAttempt.objects.create(
            message=message,
            provider=provider.name,
            outcome=AttemptOutcome.SUCCESS,
            latency_ms=latency_ms,
            provider_message_id=result.provider_message_id,
        )
        states.mark_sent(
            message_id=message.pk,
            provider=provider.name,
            provider_message_id=result.provider_message_id,
            cost=result.cost,
            currency=result.currency,
            at=now,
        )
        MessageEvent.objects.create(message=message, kind=MessageEventKind.SENT, occurred_at=now)
        message_sent_announce(message=message, sent_at=now)
        return attempt
    attempt = DeliveryAttempt.objects.create(
        message=message,
        provider=provider.name,
        outcome=attempt_outcome(error),
        error_code=error.code,
        error_message=error.message[:500],
        retry_after=error.retry_after,
        latency_ms=latency_ms,
    )
    if error.permanent:
        states.mark_failed(message_id=message.pk, provider=provider.name, code=error.code, reason=error.message, at=now)
        event = MessageEvent.objects.create(
            message=message, kind=MessageEventKind.FAILED, occurred_at=now, data={"code": error.code}
        )
        _apply_side_effects(message=message, error=error, provider_name=provider.name)
        _signal_on_commit(message, [event])
    else:
        states.requeue(message_id=message.pk, provider=provider.name)
    return attempt


def message_sent_announce(*, message: Message, sent_at) -> None:
    """Signal `message_sent` for a message that has just become `sent`; call it inside the
    transaction that made it so, once (every path to `sent` calls it: record_attempt and the
    outreach dispatcher's one-statement fast path)."""
    message_sent.send(sender=Message, message=message, sent_at=sent_at)


record_attempt = _record_attempt  # public name (outreach's dispatcher records error attempts with it)


def _apply_side_effects(*, message: Message, error: ProviderError, provider_name: str) -> None:
    if error.identity_invalid:
        ContactIdentity.objects.filter(channel=message.channel, value=message.to).update(
            is_valid=False, invalid_reason=error.message[:255]
        )
    if error.consent_revoked and message.contact_id:
        consent_set(
            contact=message.contact,
            channel=message.channel,
            status="unsubscribed",
            source=f"{provider_name}:{error.code}",
        )


@transaction.atomic
def message_event_record(
    *, message: Message, kind: str, occurred_at=None, provider_event_id: str | None = None, data: dict | None = None
) -> MessageEvent | None:
    """Add an event to a message's timeline and move its status forward (never backwards).
    Returns None when the provider event was already recorded (idempotent)."""
    if provider_event_id and MessageEvent.objects.filter(provider_event_id=provider_event_id).exists():
        return None
    occurred_at = occurred_at or timezone.now()
    event = MessageEvent.objects.create(
        message=message, kind=kind, occurred_at=occurred_at, provider_event_id=provider_event_id, data=data or {}
    )
    states.event_apply(message_id=message.pk, kind=kind, occurred_at=occurred_at)
    _signal_on_commit(message, [event])
    return event


def _signal_on_commit(message: Message, events: list[MessageEvent]) -> None:
    def send():
        for event in events:
            message_event.send(sender=Message, message=message, event=event)

    transaction.on_commit(send)


def _stamps_set_if_empty(*, stamp: str, first_at: dict) -> None:
    """Set `stamp` to first_at[message_id] on messages where it is still empty: one statement on
    PostgreSQL (UPDATE … FROM unnest), one per distinct time elsewhere."""
    if connection.vendor == "postgresql":
        table, column = Message._meta.db_table, Message._meta.get_field(stamp).column
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{table}" AS m SET "{column}" = v.at FROM unnest(%s::uuid[], %s::timestamptz[]) AS v(id, at) '
                f'WHERE m."id" = v.id AND m."{column}" IS NULL',
                [list(first_at), list(first_at.values())],
            )
        return
    ids_by_time: dict = {}
    for message_id, at in first_at.items():
        ids_by_time.setdefault(at, []).append(message_id)
    for at, ids in ids_by_time.items():
        Message.objects.filter(pk__in=ids, **{f"{stamp}__isnull": True}).update(**{stamp: at})


def _advance_statuses(events: list[MessageEvent]) -> None:
    """Set-based: first-time stamps from the earliest event of each kind, and each message's status
    moved to the furthest one its new events reach (failed always wins; never backwards)."""
    first_stamps, target = states.events_targets(events)
    for stamp, first_at in first_stamps.items():
        _stamps_set_if_empty(stamp=stamp, first_at=first_at)
    states.statuses_advance(target=target)


@transaction.atomic
def message_events_record_many(*, events: list[dict]) -> list[MessageEvent]:
    """Set-based message_event_record for a webhook batch. Each dict has message_id, kind,
    occurred_at, provider_event_id and data; events already recorded are skipped. Returns the new ones."""
    wanted = {e["provider_event_id"] for e in events if e.get("provider_event_id")}
    seen = set(MessageEvent.objects.filter(provider_event_id__in=wanted).values_list("provider_event_id", flat=True))
    fresh: list[MessageEvent] = []
    for item in events:
        key = item.get("provider_event_id")
        if key and key in seen:
            continue
        seen.add(key)
        fresh.append(
            MessageEvent(
                message_id=item["message_id"],
                kind=item["kind"],
                occurred_at=item.get("occurred_at") or timezone.now(),
                provider_event_id=key,
                data=item.get("data") or {},
            )
        )
    if not fresh:
        return []
    MessageEvent.objects.bulk_create(fresh)
    _advance_statuses(fresh)
    messages = Message.objects.in_bulk({e.message_id for e in fresh})
    for event in fresh:
        event.message = messages[event.message_id]

    def send():
        for event in fresh:
            message_event.send(sender=Message, message=event.message, event=event)

    transaction.on_commit(send)
    return fresh


@transaction.atomic
def message_fail(*, message: Message, code: str, reason: str) -> bool:
    """Give up on a message that is still queued or sending (e.g. retries exhausted)."""
    now = timezone.now()
    updated = states.give_up(message_id=message.pk, code=code, reason=reason, at=now)
    if updated:
        event = MessageEvent.objects.create(
            message=message, kind=MessageEventKind.FAILED, occurred_at=now, data={"code": code}
        )
        _signal_on_commit(message, [event])
    return bool(updated)
