"""The dispatcher: claim due outbox rows under a lease, send them one at a time, exactly once.

Claiming: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` picks a batch that no other
dispatcher holds and marks it claimed with a lease; on SQLite each row is claimed with a
conditional single-row UPDATE (it must touch exactly one row). A row whose lease expired (its
worker died) is due again.

Exactly once: each row is sent through the channel layer, which claims the channels `Message`
(queued → sending) before calling the provider, and the row's outcome is recorded right after
— never a whole batch at the end. A crash can leave three states, each resolved on re-claim:
  * no Message yet, or a queued one → nothing was sent; send it;
  * the Message is final (sent/failed) → the send happened; record it on the row;
  * the Message is `sending` → ambiguous: the worker died around the provider call. Our
    message id travelled to the provider (payload.message_id), so if the provider offers
    `lookup(message_id)` we ask it: found → record that success without sending; not found →
    send again. A provider without lookup gets the same message id again, for its own
    idempotency/dedup (at-least-once only in that narrow window). A lease (OUTREACH_LEASE_SECONDS, 60 s) is longer
    than any provider timeout, so an expired lease means its worker is gone, not slow.
"""

import logging
import os
import random
import socket
import time
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from madansara.channels import registry
from madansara.channels.models import AttemptOutcome, Message, MessageStatus
from madansara.channels.services import _record_attempt, message_create, message_send
from outreach.models import (
    CampaignSpend,
    CampaignStatus,
    ChannelCost,
    ConsentStatus,
    ContactConsent,
    ContactEngagement,
    ContactIdentity,
    HoldReason,
    OutboxMessage,
    OutboxStatus,
    SuppressionEntry,
)
from outreach.services.content import ContentError, content_cache, message_render
from outreach.services.planning import channel_costs, in_quiet_hours, send_instant

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE = 30.0  # seconds; doubled per attempt, capped, with full jitter
BACKOFF_CAP = 3600.0


def lease() -> timedelta:
    """How long a claim holds (settings.OUTREACH_LEASE_SECONDS, longer than any provider timeout)."""
    return timedelta(seconds=settings.OUTREACH_LEASE_SECONDS)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter (at least the provider's retry_after)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(attempt - 1, 0)))
    return max(retry_after or 0.0, random.uniform(ceiling / 2, ceiling))


# --- claiming --------------------------------------------------------------------------------
def _due(now: datetime) -> Q:
    return Q(status=OutboxStatus.PENDING, due_at__lte=now) | Q(status=OutboxStatus.CLAIMED, lease_until__lt=now)


def outbox_claim(*, worker: str, batch: int = 100, now: datetime | None = None) -> list[int]:
    """Claim up to `batch` due rows of running campaigns for `worker`; returns their ids."""
    now = now or timezone.now()
    due = OutboxMessage.objects.filter(_due(now), campaign__status=CampaignStatus.RUNNING)
    fields = {"status": OutboxStatus.CLAIMED, "lease_until": now + lease(), "claimed_by": worker}
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(
                due.select_for_update(skip_locked=True, of=("self",))
                .order_by("due_at")
                .values_list("id", flat=True)[:batch]
            )
            OutboxMessage.objects.filter(pk__in=ids).update(**fields)
        return ids
    claimed = []
    for row_id in due.order_by("due_at").values_list("id", flat=True)[:batch]:
        if OutboxMessage.objects.filter(_due(now), pk=row_id).update(**fields) == 1:
            claimed.append(row_id)
    return claimed


# --- sending one row -------------------------------------------------------------------------
_COST_CACHE: dict = {}
COST_CACHE_SECONDS = 5.0


def _costs(configured_only: bool = False) -> dict[str, Decimal]:
    """Channel costs, cached for a few seconds per process (read once per message otherwise)."""
    key = "configured" if configured_only else "all"
    cached = _COST_CACHE.get(key)
    if cached and time.monotonic() - cached[0] < COST_CACHE_SECONDS:
        return cached[1]
    value = dict(ChannelCost.objects.values_list("channel", "cost_per_message")) if configured_only else channel_costs()
    _COST_CACHE[key] = (time.monotonic(), value)
    return value


def _release(row_id: int, worker: str, **fields) -> int:
    """Update a row we hold (status claimed, our name); 0 when the lease was lost."""
    return OutboxMessage.objects.filter(pk=row_id, status=OutboxStatus.CLAIMED, claimed_by=worker).update(
        lease_until=None, **fields
    )


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
    campaign = row.campaign
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return send_instant(
        tzname=row.contact.timezone,
        hour=campaign.window_start_hour,
        start=campaign.window_start_hour,
        end=campaign.window_end_hour,
        now=max(tomorrow, now),
    )


def _spend_add(*, campaign_id: int, day, channel: str, cost: Decimal) -> None:
    """Atomic upsert of the day's spend (concurrent dispatchers add, never overwrite)."""
    table = CampaignSpend._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (campaign_id, day, channel, messages, cost) VALUES (%s, %s, %s, 1, %s)
                ON CONFLICT (campaign_id, day, channel)
                DO UPDATE SET messages = {table}.messages + 1, cost = {table}.cost + excluded.cost""",
            [campaign_id, day, channel, str(cost)],
        )


def _engagement_sent(*, contact_id: int, channel: str) -> None:
    table = ContactEngagement._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (contact_id, channel, sent, delivered, opened, clicked, replied, bounced,
                                     converted, responses, hour_counts, score)
                VALUES (%s, %s, 1, 0, 0, 0, 0, 0, 0, 0, '[]', 0)
                ON CONFLICT (contact_id, channel) DO UPDATE SET sent = {table}.sent + 1""",
            [contact_id, channel],
        )


def _resolve_in_flight(message: Message, provider) -> None:
    """The previous worker died with this message `sending`: ask the provider whether it got it."""
    lookup = getattr(provider, "lookup", None)
    found = lookup(str(message.pk)) if lookup else None
    if found is not None:
        _record_attempt(message=message, provider=provider, result=found, error=None, latency_ms=0)
    else:
        Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(status=MessageStatus.QUEUED)
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
    """The row with everything a send needs, in one query (guards as annotations)."""
    unsubscribed = ContactConsent.objects.filter(
        contact_id=OuterRef("contact_id"), channel=OuterRef("channel"), status=ConsentStatus.UNSUBSCRIBED
    )
    identities = ContactIdentity.objects.filter(contact_id=OuterRef("contact_id"), channel=OuterRef("channel"))
    own_values = ContactIdentity.objects.filter(
        contact_id=OuterRef(OuterRef("contact_id")), channel=OuterRef(OuterRef("channel"))
    ).values("value")
    suppressed = SuppressionEntry.objects.filter(Q(channel="") | Q(channel=OuterRef("channel")), value__in=own_values)
    return (
        OutboxMessage.objects.select_related("campaign__subject_test", "step", "contact", "message")
        .annotate(
            is_unsubscribed=Exists(unsubscribed),
            is_suppressed=Exists(suppressed),
            identity_value=Subquery(identities.values("value")[:1]),
        )
        .filter(pk=row_id)
        .first()
    )


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
        campaign = row.campaign
        if in_quiet_hours(
            tzname=row.contact.timezone, start=campaign.window_start_hour, end=campaign.window_end_hour, now=now
        ):
            due = send_instant(
                tzname=row.contact.timezone,
                hour=campaign.window_start_hour,
                start=campaign.window_start_hour,
                end=campaign.window_end_hour,
                now=now,
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
            message = message_create(
                channel=row.channel,
                contact=row.contact,
                to=row.identity_value or "",
                source="campaign",
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                template_name=rendered.template_name,
                template_variables=rendered.template_variables,
                headers=rendered.headers,
                categories=[f"campaign-{row.campaign_id}"],
                context={
                    "campaign_id": row.campaign_id,
                    "step": row.step.position,
                    "outbox_id": row.pk,
                    "channel_reason": row.reason,
                    "variant": rendered.variant_key,
                },
            )
            if not OutboxMessage.objects.filter(pk=row_id, claimed_by=worker, status=OutboxStatus.CLAIMED).update(
                message=message, variant_key=rendered.variant_key
            ):
                transaction.set_rollback(True)
                return "lost"
    if message.status == MessageStatus.QUEUED:
        attempt = message_send(message=message, provider=provider)
        message.refresh_from_db()
        if attempt is not None and attempt.outcome == AttemptOutcome.TRANSIENT:
            attempts = row.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
                    status=MessageStatus.FAILED, failure_code=attempt.error_code, failed_at=now
                )
                return _fail_or_fallback(row, worker, now, attempt.error_code, "too many transient errors")
            due = now + timedelta(seconds=backoff_seconds(attempts, attempt.retry_after))
            _release(
                row_id,
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
        _engagement_sent(contact_id=row.contact_id, channel=row.channel)
    return "sent"


def outbox_dispatch(
    *,
    worker: str | None = None,
    batch: int = 100,
    once: bool = True,
    provider=None,
    max_seconds: float | None = None,
    progress=None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Claim and send due rows until none are due (once) or for `max_seconds`; `now` pins the
    clock (backfills, tests)."""
    worker = worker or worker_name()
    _COST_CACHE.clear()
    async_commit = settings.OUTREACH_DISPATCH_ASYNC_COMMIT and connection.vendor == "postgresql"
    if async_commit:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
    try:
        with content_cache():
            return _dispatch_loop(worker, batch, once, provider, max_seconds, progress, now)
    finally:
        if async_commit:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def _dispatch_loop(worker, batch, once, provider, max_seconds, progress, now) -> dict[str, int]:
    counts: dict[str, int] = {}
    started = time.monotonic()
    while True:
        ids = outbox_claim(worker=worker, batch=batch, now=now)
        for row_id in ids:
            try:
                outcome = outbox_send_one(row_id=row_id, worker=worker, provider=provider, now=now)
            except Exception:
                logger.exception("outbox row failed", extra={"outbox_id": row_id})
                outcome = "error"
            counts[outcome] = counts.get(outcome, 0) + 1
        if progress and ids:
            progress(counts)
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
        if not ids:
            if once:
                break
            time.sleep(1.0)
    return counts


def outbox_retry_now(*, row: OutboxMessage) -> int:
    """Operator action: make a pending (backing-off) row due now."""
    return OutboxMessage.objects.filter(pk=row.pk, status=OutboxStatus.PENDING).update(due_at=timezone.now())
