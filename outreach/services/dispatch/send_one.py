"""The careful path: one claimed row at a time, with every guard checked and every in-flight
state resolved (an earlier message, budgets, holds, fallbacks)."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from madansara.channels import registry, states
from madansara.channels.models import AttemptOutcome, Message, MessageStatus
from madansara.channels.retry import SEND
from madansara.channels.services import message_create, message_send, record_attempt
from madansara.contacts.models import ConsentStatus, ContactConsent, ContactIdentity
from outreach.models import (
    CampaignSpend,
    CampaignStatus,
    HoldReason,
    OutboxMessage,
    OutboxStatus,
)
from outreach.services.content import ContentError, message_render
from outreach.services.dispatch.shared import (
    _costs,
    _engagement_sent,
    _message_fields,
    _release,
    _rows,
    _spend_add,
    lease,
    row_send_arm,
)
from outreach.services.planning import in_quiet_hours, send_instant


def _over_budget(row: OutboxMessage, cost: Decimal, now: datetime) -> bool:
    cap = row.campaign.daily_spend_cap
    volume = row.campaign.daily_volume_cap
    if cap is None and volume is None:
        return False
    spent = CampaignSpend.objects.filter(campaign_id=row.campaign_id, day=now.date()).aggregate(
        c=Sum("cost"), n=Sum("messages")
    )
    if cap is not None and (spent["c"] or Decimal("0")) + cost > cap:
        return True
    return volume is not None and (spent["n"] or 0) >= volume


def _next_day_start(row: OutboxMessage, now: datetime) -> datetime:
    arm = row_send_arm(row)
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return send_instant(
        tzname=row.contact.timezone,
        hour=arm.start,
        start=arm.start,
        end=arm.end,
        now=max(tomorrow, now),
        days=arm.weekdays,
    )


def _resolve_in_flight(message: Message, provider) -> None:
    """The previous worker died with this message `sending`: ask the provider whether it got it."""
    lookup = getattr(provider, "lookup", None)
    found = lookup(str(message.pk)) if lookup else None
    if found is not None:
        record_attempt(message=message, provider=provider, result=found, error=None, latency_ms=0)
    else:
        states.requeue(message_id=message.pk)
    message.refresh_from_db()


def _fallback_channel(row: OutboxMessage) -> str | None:
    """The next fallback channel where the contact is reachable and consents."""
    tried = {entry["channel"] for entry in row.fallback_from} | {row.channel}
    for channel in row.step.fallback_channels or []:
        if channel in tried:
            continue
        reachable = ContactIdentity.objects.filter(contact_id=row.contact_id, channel=channel, is_valid=True).exists()
        consents = ContactConsent.objects.filter(
            contact_id=row.contact_id, channel=channel, status=ConsentStatus.OPTED_IN
        ).exists()
        if reachable and consents:
            return channel
    return None


def _fail_or_fallback(row: OutboxMessage, worker: str, now: datetime, code: str, reason: str) -> str:
    channel = _fallback_channel(row)
    if channel is None:
        _release(row.pk, worker, status=OutboxStatus.FAILED, error=f"{code}: {reason}"[:500])
        return "failed"
    history = [*row.fallback_from, {"channel": row.channel, "code": code, "message": str(row.message_id or "")}]
    _release(
        row.pk,
        worker,
        status=OutboxStatus.PENDING,
        channel=channel,
        message=None,
        fallback_from=history,
        due_at=now,
        reason="fallback",
        attempts=0,
        error="",
    )
    return "fallback"


def _load(row_id: int) -> OutboxMessage | None:
    rows = _rows([row_id])
    return rows[0] if rows else None


def outbox_send_one(*, row_id: int, worker: str, provider=None, now: datetime | None = None) -> str:
    """Send one claimed row and record the outcome; returns what happened (sent, retry,
    failed, fallback, skipped, deferred, lost)."""
    now = now or timezone.now()
    row = _load(row_id)
    if row is None or row.status != OutboxStatus.CLAIMED or row.claimed_by != worker:
        return "lost"
    # Renew a lease running short; every later write also checks we still hold the row.
    short = row.lease_until is None or row.lease_until - now < lease() / 2
    if short and not OutboxMessage.objects.filter(pk=row_id, status=OutboxStatus.CLAIMED, claimed_by=worker).update(
        lease_until=now + lease()
    ):
        return "lost"
    if row.campaign.status != CampaignStatus.RUNNING:
        _release(row_id, worker, status=OutboxStatus.PENDING)
        return "deferred"
    provider = provider or registry.provider_for(row.channel)
    message = row.message
    if message is not None and message.status == MessageStatus.SENDING:
        _resolve_in_flight(message, provider)
    if message is None or message.status == MessageStatus.QUEUED:
        blocked = (
            HoldReason.UNSUBSCRIBED if row.is_unsubscribed else HoldReason.SUPPRESSED if row.is_suppressed else None
        )
        if blocked:
            _release(row_id, worker, status=OutboxStatus.SKIPPED, hold_reason=blocked)
            return "skipped"
        arm = row_send_arm(row)
        if in_quiet_hours(tzname=row.contact.timezone, start=arm.start, end=arm.end, now=now, days=arm.weekdays):
            due = send_instant(
                tzname=row.contact.timezone, hour=arm.start, start=arm.start, end=arm.end, now=now, days=arm.weekdays
            )
            _release(row_id, worker, status=OutboxStatus.PENDING, due_at=due, hold_reason=HoldReason.QUIET_HOURS)
            return "deferred"
        cost = _costs()[row.channel]
        if _over_budget(row, cost, now):
            _release(
                row_id,
                worker,
                status=OutboxStatus.PENDING,
                due_at=_next_day_start(row, now),
                hold_reason=HoldReason.BUDGET,
            )
            return "deferred"
    if message is None:
        try:
            rendered = message_render(row=row)
        except ContentError as exc:
            _release(row_id, worker, status=OutboxStatus.FAILED, hold_reason=HoldReason.CONTENT, error=str(exc)[:500])
            return "failed"
        with transaction.atomic():
            message = message_create(contact=row.contact, to=row.identity_value or "", **_message_fields(row, rendered))
            if not OutboxMessage.objects.filter(pk=row_id, claimed_by=worker, status=OutboxStatus.CLAIMED).update(
                message=message, variant_key=rendered.variant_key
            ):
                transaction.set_rollback(True)
                return "lost"
    if message.status == MessageStatus.QUEUED:
        attempt = message_send(message=message, provider=provider)
        message.refresh_from_db()
        return _after_attempt(row, message, attempt, worker, now)
    return _record_final(row, message, worker, now)


def _after_attempt(row: OutboxMessage, message: Message, attempt, worker: str, now: datetime) -> str:
    """Record on the row what an attempt (already recorded on the message) came to."""
    if attempt is not None and attempt.outcome == AttemptOutcome.TRANSIENT:
        attempts = row.attempts + 1
        if SEND.exhausted(attempts):
            states.give_up(message_id=message.pk, code=attempt.error_code, reason=attempt.error_message, at=now)
            return _fail_or_fallback(row, worker, now, attempt.error_code, "too many transient errors")
        due = now + timedelta(seconds=SEND.delay(attempts, attempt.retry_after))
        _release(
            row.pk,
            worker,
            status=OutboxStatus.PENDING,
            attempts=attempts,
            due_at=due,
            error=attempt.error_message[:500],
        )
        return "retry"
    return _record_final(row, message, worker, now)


def _record_final(row: OutboxMessage, message: Message, worker: str, now: datetime) -> str:
    if message.status == MessageStatus.FAILED:
        return _fail_or_fallback(row, worker, now, message.failure_code, message.failure_reason)
    if message.status in (MessageStatus.QUEUED, MessageStatus.SENDING):
        _release(row.pk, worker, status=OutboxStatus.PENDING)  # someone else holds it; look again later
        return "deferred"
    # A configured ChannelCost is what budgets count; else the provider's reported cost.
    configured = _costs(configured_only=True).get(row.channel)
    cost = configured if configured is not None else message.cost if message.cost is not None else row.cost
    with transaction.atomic():
        if not _release(row.pk, worker, status=OutboxStatus.SENT, sent_at=message.sent_at or now, cost=cost):
            return "lost"
        _spend_add(campaign_id=row.campaign_id, day=now.date(), channel=row.channel, cost=cost)
        _engagement_sent([(row.contact_id, row.channel)])
    return "sent"
