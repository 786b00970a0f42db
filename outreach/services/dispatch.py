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

The hot path (outbox_send_batch): a claimed batch is loaded in one query with its guards;
rows needing care (an earlier message, a budget cap, a hold) take outbox_send_one, the others
are rendered and get their queued Messages in one INSERT and one link UPDATE. Then each is sent
on its own: the provider call, then one commit (one statement on PostgreSQL) recording the
attempt, the message and row sent, the engagement — and claiming the next message (queued →
sending), so the states above still hold message by message. The day's spend (one row every
dispatcher updates) is added once per batch; a worker killed mid-batch under-counts it by the
messages it recorded in that batch (budget-capped campaigns take the exact careful path).
"""

import logging
import os
import random
import socket
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache

import psycopg
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from madansara.channels import registry
from madansara.channels.models import AttemptOutcome, DeliveryAttempt, Message, MessageEvent, MessageStatus
from madansara.channels.services import (
    message_create,
    message_send,
    message_send_prepared,
    message_sent_announce,
    payload_for,
    record_attempt,
)
from madansara.contacts.models import ConsentStatus, ContactConsent, ContactIdentity
from outreach.models import (
    CampaignSpend,
    CampaignStatus,
    CampaignStep,
    ChannelCost,
    ContactEngagement,
    HoldReason,
    OutboxMessage,
    OutboxStatus,
    OutreachCampaign,
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
        return _claim_postgresql(worker=worker, batch=batch, now=now)
    claimed = []
    for row_id in due.order_by("due_at").values_list("id", flat=True)[:batch]:
        if OutboxMessage.objects.filter(_due(now), pk=row_id).update(**fields) == 1:
            claimed.append(row_id)
    return claimed


def _claim_postgresql(*, worker: str, batch: int, now: datetime) -> list[int]:
    """One statement: lock a batch nobody holds (SKIP LOCKED) and lease it to `worker`. Expired
    leases first, then due rows in due order; each part is an index scan of outbox_due that stops
    after `batch` rows (an OR of both would sort every due row on each claim)."""
    outbox, campaigns = OutboxMessage._meta.db_table, OutreachCampaign._meta.db_table
    running = f"ARRAY(SELECT id FROM {campaigns} WHERE status = %(running)s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH expired AS (
                    SELECT id FROM {outbox} WHERE status = %(claimed)s AND lease_until < %(now)s
                        AND campaign_id = ANY({running}) LIMIT %(batch)s FOR UPDATE SKIP LOCKED
                ), pending AS (
                    SELECT id FROM {outbox} WHERE status = %(pending)s AND due_at <= %(now)s
                        AND campaign_id = ANY({running}) ORDER BY due_at LIMIT %(batch)s FOR UPDATE SKIP LOCKED
                ), picked AS (
                    SELECT id FROM expired UNION ALL SELECT id FROM pending LIMIT %(batch)s
                )
                UPDATE {outbox} AS t SET status = %(claimed)s, lease_until = %(lease_until)s, claimed_by = %(worker)s
                FROM picked WHERE t.id = picked.id RETURNING t.id""",
            {
                "running": CampaignStatus.RUNNING,
                "claimed": OutboxStatus.CLAIMED,
                "pending": OutboxStatus.PENDING,
                "now": now,
                "batch": batch,
                "lease_until": now + lease(),
                "worker": worker,
            },
        )
        return sorted(row[0] for row in cursor.fetchall())


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


def _spend_add(*, campaign_id: int, day, channel: str, cost: Decimal, messages: int = 1) -> None:
    """Atomic upsert of the day's spend (concurrent dispatchers add, never overwrite)."""
    table = CampaignSpend._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (campaign_id, day, channel, messages, cost) VALUES (%s, %s, %s, %s, %s)
                ON CONFLICT (campaign_id, day, channel)
                DO UPDATE SET messages = {table}.messages + excluded.messages, cost = {table}.cost + excluded.cost""",
            [campaign_id, day, channel, messages, str(cost)],
        )


def _engagement_sent(sent: list[tuple[int, str]]) -> None:
    """Add sends to the contacts' engagement counts: one upsert for (contact_id, channel) pairs,
    in key order (concurrent dispatchers lock the rows in the same order)."""
    counts = Counter(sent)
    if not counts:
        return
    table = ContactEngagement._meta.db_table
    keys = sorted(counts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (contact_id, channel, sent, delivered, opened, clicked, replied, bounced,
                                     converted, responses, hour_counts, score)
                VALUES {", ".join(["(%s, %s, %s, 0, 0, 0, 0, 0, 0, 0, '[]', 0)"] * len(keys))}
                ON CONFLICT (contact_id, channel) DO UPDATE SET sent = {table}.sent + excluded.sent""",
            [value for (contact_id, channel) in keys for value in (contact_id, channel, counts[contact_id, channel])],
        )


def _resolve_in_flight(message: Message, provider) -> None:
    """The previous worker died with this message `sending`: ask the provider whether it got it."""
    lookup = getattr(provider, "lookup", None)
    found = lookup(str(message.pk)) if lookup else None
    if found is not None:
        record_attempt(message=message, provider=provider, result=found, error=None, latency_ms=0)
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


def _rows(ids: list[int]) -> list[OutboxMessage]:
    """Rows with everything a send needs (guards as annotations), in three queries."""
    unsubscribed = ContactConsent.objects.filter(
        contact_id=OuterRef("contact_id"), channel=OuterRef("channel"), status=ConsentStatus.UNSUBSCRIBED
    )
    identities = ContactIdentity.objects.filter(
        contact_id=OuterRef("contact_id"), channel=OuterRef("channel")
    ).order_by("id")
    own_values = ContactIdentity.objects.filter(
        contact_id=OuterRef(OuterRef("contact_id")), channel=OuterRef(OuterRef("channel"))
    ).values("value")
    suppressed = SuppressionEntry.objects.filter(Q(channel="") | Q(channel=OuterRef("channel")), value__in=own_values)
    rows = list(
        OutboxMessage.objects.select_related("contact", "message")
        .annotate(
            is_unsubscribed=Exists(unsubscribed),
            is_suppressed=Exists(suppressed),
            identity_value=Subquery(identities.values("value")[:1]),
            identity_is_valid=Subquery(identities.values("is_valid")[:1]),
            identity_inbound_at=Subquery(identities.values("last_inbound_at")[:1]),
        )
        .filter(pk__in=ids)
        .order_by("id")
    )
    # A batch shares a few campaigns and steps: load each once, not once per row.
    campaigns = OutreachCampaign.objects.select_related("subject_test").in_bulk({row.campaign_id for row in rows})
    steps = CampaignStep.objects.in_bulk({row.step_id for row in rows})
    for row in rows:
        row.campaign = campaigns[row.campaign_id]
        row.step = steps[row.step_id]
    return rows


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
        if attempts >= MAX_ATTEMPTS:
            Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
                status=MessageStatus.FAILED, failure_code=attempt.error_code, failed_at=now
            )
            return _fail_or_fallback(row, worker, now, attempt.error_code, "too many transient errors")
        due = now + timedelta(seconds=backoff_seconds(attempts, attempt.retry_after))
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


# --- sending a claimed batch (the hot path) --------------------------------------------------
def _plain(row: OutboxMessage, worker: str, now: datetime) -> bool:
    """Nothing to resolve or check per message (no message yet, no budget cap, not blocked, in
    the window)? Other rows take the careful path, outbox_send_one."""
    campaign = row.campaign
    return bool(
        row.status == OutboxStatus.CLAIMED
        and row.claimed_by == worker
        and row.message_id is None
        and campaign.status == CampaignStatus.RUNNING
        and campaign.daily_spend_cap is None
        and campaign.daily_volume_cap is None
        and not (row.is_unsubscribed or row.is_suppressed)
        and row.identity_value
        and row.identity_is_valid
        and not in_quiet_hours(
            tzname=row.contact.timezone, start=campaign.window_start_hour, end=campaign.window_end_hour, now=now
        )
    )


def _message_fields(row: OutboxMessage, rendered) -> dict:
    """What a campaign message carries, whichever path creates it."""
    return {
        "channel": row.channel,
        "source": "campaign",
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "template_name": rendered.template_name,
        "template_variables": rendered.template_variables,
        "headers": rendered.headers,
        "categories": [f"campaign-{row.campaign_id}"],
        "context": {
            "campaign_id": row.campaign_id,
            "step": row.step.position,
            "outbox_id": row.pk,
            "channel_reason": row.reason,
            "variant": rendered.variant_key,
        },
    }


def _message_for(row: OutboxMessage, rendered, created_at: datetime) -> Message:
    return Message(
        id=uuid.uuid4(),
        contact_id=row.contact_id,
        to=row.identity_value,
        created_at=created_at,
        **_message_fields(row, rendered),
    )


def _messages_insert(messages: list[Message]) -> None:
    """bulk_create, through COPY on PostgreSQL: building a 100-row, 30-column INSERT costs the
    ORM ~13 ms per batch, a quarter of the dispatcher's own CPU."""
    if connection.vendor != "postgresql":
        Message.objects.bulk_create(messages)
        return
    from psycopg.types.json import Jsonb

    fields = Message._meta.concrete_fields
    # Values go as they are (str, UUID, aware datetimes, bools, ints, Decimals); JSON as jsonb.
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor, cursor.copy(f"COPY {Message._meta.db_table} ({columns}) FROM STDIN") as copy:
        for message in messages:
            copy.write_row(
                [
                    Jsonb(getattr(message, f.attname)) if f.attname in json_fields else getattr(message, f.attname)
                    for f in fields
                ]
            )


def _link(pairs: list[tuple[OutboxMessage, Message]], worker: str) -> set[int]:
    """Attach each message to its row if we still hold it; the ids of the rows linked."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""UPDATE {OutboxMessage._meta.db_table} AS t SET message_id = v.mid, variant_key = v.vk
                    FROM unnest(%s::bigint[], %s::uuid[], %s::text[]) AS v(id, mid, vk)
                    WHERE t.id = v.id AND t.status = %s AND t.claimed_by = %s RETURNING t.id""",
                [
                    [row.pk for row, _ in pairs],
                    [message.pk for _, message in pairs],
                    [row.variant_key for row, _ in pairs],
                    OutboxStatus.CLAIMED,
                    worker,
                ],
            )
            return {row_id for (row_id,) in cursor.fetchall()}
    return {
        row.pk
        for row, message in pairs
        if OutboxMessage.objects.filter(pk=row.pk, status=OutboxStatus.CLAIMED, claimed_by=worker).update(
            message=message.pk, variant_key=row.variant_key
        )
    }


def _message_claim(message_id) -> bool:
    """queued → sending: from now on a crash leaves it ambiguous (resolved by lookup on re-claim)."""
    return bool(
        Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SENDING, attempts_count=F("attempts_count") + 1
        )
    )


def _message_unclaim(message_id) -> None:
    """Undo _message_claim for a message whose provider call never started."""
    Message.objects.filter(pk=message_id, status=MessageStatus.SENDING).update(
        status=MessageStatus.QUEUED, attempts_count=F("attempts_count") - 1
    )


def _prepare(rows: list[OutboxMessage], worker: str, count) -> tuple[list[tuple[OutboxMessage, Message]], bool]:
    """Render the rows and create their (queued) Messages in one INSERT, linked to the rows in
    one UPDATE, in one transaction; the first is claimed (sending) in it. Returns the pairs we
    still hold and whether the first is claimed."""
    pairs = []
    created_at = timezone.now()
    for row in rows:
        try:
            rendered = message_render(row=row)
        except ContentError as exc:
            _release(row.pk, worker, status=OutboxStatus.FAILED, hold_reason=HoldReason.CONTENT, error=str(exc)[:500])
            count("failed")
            continue
        row.variant_key = rendered.variant_key
        message = _message_for(row, rendered, created_at)
        row.message_id = message.pk
        pairs.append((row, message))
    if not pairs:
        return [], False
    with transaction.atomic():
        _messages_insert([message for _, message in pairs])
        linked = _link(pairs, worker)
        orphans = [message.pk for row, message in pairs if row.pk not in linked]
        if orphans:  # the lease was lost meanwhile: the new holder creates its own
            Message.objects.filter(pk__in=orphans).delete()
            count("lost", len(orphans))
        pairs = [(row, message) for row, message in pairs if row.pk in linked]
        first_claimed = bool(pairs) and _message_claim(pairs[0][1].pk)
    return pairs, first_claimed


SENT_SQL = """
WITH msg AS (
    UPDATE {message} SET status = 'sent', provider = %(provider)s, provider_message_id = %(provider_id)s,
        cost = %(message_cost)s, currency = %(currency)s, sent_at = %(at)s
    WHERE id = %(message_id)s RETURNING id
), attempt AS (
    INSERT INTO {attempt} (message_id, provider, outcome, error_code, error_message, retry_after, latency_ms,
                           provider_message_id, created_at)
    SELECT id, %(provider)s, 'success', '', '', NULL, %(latency_ms)s, %(provider_id)s, %(at)s FROM msg
), event AS (
    INSERT INTO {event} (message_id, kind, occurred_at, provider_event_id, data)
    SELECT id, 'sent', %(at)s, NULL, '{{}}' FROM msg
), held AS (
    UPDATE {outbox} SET status = 'sent', lease_until = NULL, sent_at = %(at)s, cost = %(cost)s
    WHERE id = %(row_id)s AND status = 'claimed' AND claimed_by = %(worker)s
    RETURNING id
), claim_next AS (
    UPDATE {message} SET status = 'sending', attempts_count = attempts_count + 1
    WHERE id = %(next_id)s::uuid AND status = 'queued' RETURNING id
)
SELECT (SELECT count(*) FROM held), (SELECT count(*) FROM claim_next)
"""


@cache
def _sent_sql() -> str:
    return SENT_SQL.format(
        message=Message._meta.db_table,
        attempt=DeliveryAttempt._meta.db_table,
        event=MessageEvent._meta.db_table,
        outbox=OutboxMessage._meta.db_table,
    )


def _record_sent(
    *, row, message, provider, result, latency_ms, next_id, worker, now, sent
) -> tuple[str, bool, Decimal]:
    """One transaction (one statement on PostgreSQL) per message: the message sent with its
    provider id, its successful attempt and `sent` event, the row sent with its cost — and the
    next message of the batch claimed (sending), so each message costs one commit and a crash
    leaves at most one message in doubt. Returns (outcome, next claimed, cost).
    Two counters are added once per batch instead (each a hot row that every dispatcher
    updates): the day's spend by the caller, and on PostgreSQL the contacts' engagement `sent`
    counts, collected in `sent` and written by _engagement_sent (derived data: the scheduled
    engagement_recompute rebuilds it from the messages if a worker died before writing it)."""
    configured = _costs(configured_only=True).get(row.channel)
    cost = configured if configured is not None else result.cost if result.cost is not None else row.cost
    at = timezone.now()
    if connection.vendor == "postgresql":
        params = {
            "provider": provider.name,
            "provider_id": result.provider_message_id,
            "message_cost": result.cost,
            "currency": result.currency,
            "at": at,
            "message_id": message.pk,
            "latency_ms": latency_ms,
            "cost": cost,
            "row_id": row.pk,
            "worker": worker,
            "next_id": next_id,
        }
        # Server-side binding, prepared once per connection: parsing and planning the CTE per
        # message costs more than running it. The announcement's rows (webhook deliveries)
        # commit with the message's move to sent.
        with transaction.atomic():
            with _server_cursor() as cursor:
                cursor.execute(_sent_sql(), params, prepare=True)
                held, next_claimed = cursor.fetchone()
            message_sent_announce(message=message, sent_at=at)
        if held:
            sent.append((row.contact_id, row.channel))
        return ("sent" if held else "lost"), bool(next_claimed), cost
    with transaction.atomic():
        record_attempt(message=message, provider=provider, result=result, error=None, latency_ms=latency_ms)
        held = _release(row.pk, worker, status=OutboxStatus.SENT, sent_at=at, cost=cost)
        if held:
            _engagement_sent([(row.contact_id, row.channel)])
        next_claimed = next_id is not None and _message_claim(next_id)
    return ("sent" if held else "lost"), next_claimed, cost


def _server_cursor() -> psycopg.Cursor:
    """A server-side-binding cursor on Django's connection where `prepare=True` works. Django
    sets prepare_threshold=None (prepared statements off, for poolers), which also ignores
    prepare=True; a threshold never reached keeps every other query unprepared."""
    connection.ensure_connection()
    raw = connection.connection
    if settings.OUTREACH_DISPATCH_PREPARE and raw.prepare_threshold is None:
        raw.prepare_threshold = 2**31 - 1
    return psycopg.Cursor(raw)


def _send_prepared(*, row, message, next_id, worker, provider, now, sent) -> tuple[str, bool, Decimal | None]:
    """Send one claimed (sending) message of the batch and record it; (outcome, next claimed, cost)."""
    result, error, latency_ms = message_send_prepared(
        message=message, payload=payload_for(message, last_inbound_at=row.identity_inbound_at), provider=provider
    )
    if error is None:
        return _record_sent(
            row=row,
            message=message,
            provider=provider,
            result=result,
            latency_ms=latency_ms,
            next_id=next_id,
            worker=worker,
            now=now,
            sent=sent,
        )
    attempt = record_attempt(message=message, provider=provider, result=None, error=error, latency_ms=latency_ms)
    message.refresh_from_db()
    return _after_attempt(row, message, attempt, worker, now), False, None


def _send_one_safely(row_id: int, worker: str, provider, now: datetime | None) -> str:
    try:
        return outbox_send_one(row_id=row_id, worker=worker, provider=provider, now=now)
    except Exception:
        logger.exception("outbox row failed", extra={"outbox_id": row_id})
        return "error"


def outbox_send_batch(*, ids: list[int], worker: str, provider=None, now: datetime | None = None) -> dict[str, int]:
    """Send claimed rows one at a time, each recorded (one commit) as soon as its provider call
    returns. Plain rows share one load, one INSERT of their Messages and one link UPDATE; rows
    needing care (an earlier message, budgets, holds) go through outbox_send_one."""
    claimed_at = time.monotonic()
    counts: dict[str, int] = {}

    def count(outcome: str, n: int = 1) -> None:
        counts[outcome] = counts.get(outcome, 0) + n

    rows = _rows(ids)
    count("lost", len(ids) - len(rows))
    pinned = now or timezone.now()
    plain = [row for row in rows if _plain(row, worker, pinned)]
    plain_ids = {row.pk for row in plain}
    for row in rows:
        if row.pk not in plain_ids:
            count(_send_one_safely(row.pk, worker, provider, now))
    pairs, claimed = _prepare(plain, worker, count)
    spend: dict[tuple[int, str], list] = {}
    try:
        _send_pairs(pairs, claimed, worker, provider, now, pinned, claimed_at, count, spend)
    finally:
        for (campaign_id, channel), (messages, cost) in spend.items():
            _spend_add(campaign_id=campaign_id, day=pinned.date(), channel=channel, cost=cost, messages=messages)
    return {key: value for key, value in counts.items() if value}


def _send_pairs(pairs, claimed, worker, provider, now, pinned, claimed_at, count, spend) -> None:
    sent: list[tuple[int, str]] = []
    try:
        _send_loop(pairs, claimed, worker, provider, now, pinned, claimed_at, count, spend, sent)
    finally:
        try:
            _engagement_sent(sent)
        except Exception:
            logger.exception("engagement counts of a batch not written", extra={"messages": len(sent)})


def _send_loop(pairs, claimed, worker, provider, now, pinned, claimed_at, count, spend, sent) -> None:
    providers: dict[str, object] = {}
    for index, (row, message) in enumerate(pairs):
        if not claimed:
            claimed = _message_claim(message.pk)
        if not claimed:
            count(_send_one_safely(row.pk, worker, provider, now))
            continue
        if time.monotonic() - claimed_at > lease().total_seconds() / 2:
            # The lease runs short: the careful path renews it, row by row.
            _message_unclaim(message.pk)
            for rest, _ in pairs[index:]:
                count(_send_one_safely(rest.pk, worker, provider, now))
            break
        if provider is None and row.channel not in providers:
            providers[row.channel] = registry.provider_for(row.channel)
        next_id = pairs[index + 1][1].pk if index + 1 < len(pairs) else None
        try:
            outcome, claimed, cost = _send_prepared(
                row=row,
                message=message,
                next_id=next_id,
                worker=worker,
                provider=provider or providers[row.channel],
                now=pinned,
                sent=sent,
            )
        except Exception:
            logger.exception("outbox row failed", extra={"outbox_id": row.pk})
            outcome, claimed, cost = "error", False, None
        count(outcome)
        if outcome == "sent":
            total = spend.setdefault((row.campaign_id, row.channel), [0, Decimal("0")])
            total[0] += 1
            total[1] += cost


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
        if ids:
            for outcome, n in outbox_send_batch(ids=ids, worker=worker, provider=provider, now=now).items():
                counts[outcome] = counts.get(outcome, 0) + n
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
