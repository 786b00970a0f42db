"""The hot path: a claimed batch loaded in one query, its plain rows rendered and inserted
together, then sent one by one, each recorded in one commit (one statement on PostgreSQL) that
also claims the next message. Rows needing care go through send_one. outbox_dispatch loops
claim → batch."""

import logging
import time
import uuid
from datetime import datetime
from decimal import Decimal
from functools import cache

import psycopg
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from madansara.channels import registry, states
from madansara.channels.models import (
    AttemptOperation,
    AttemptOutcome,
    DeliveryAttempt,
    Message,
    MessageEvent,
    MessageEventKind,
)
from madansara.channels.services import message_send_prepared, message_sent_announce, payload_for, record_attempt
from outreach.models import CampaignStatus, HoldReason, OutboxMessage, OutboxStatus
from outreach.services.content import ContentError, content_cache, message_render
from outreach.services.dispatch.claim import outbox_claim
from outreach.services.dispatch.send_one import _after_attempt, outbox_send_one
from outreach.services.dispatch.shared import (
    _COST_CACHE,
    _costs,
    _engagement_sent,
    _message_fields,
    _release,
    _rows,
    _spend_add,
    lease,
    row_send_arm,
    worker_name,
)
from outreach.services.planning import in_quiet_hours

logger = logging.getLogger(__name__)


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
        and not _quiet(row, now)
    )


def _quiet(row: OutboxMessage, now: datetime) -> bool:
    arm = row_send_arm(row)
    return in_quiet_hours(tzname=row.contact.timezone, start=arm.start, end=arm.end, now=now, days=arm.weekdays)


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
    return states.claim(message_id=message_id)


def _message_unclaim(message_id) -> None:
    """Undo _message_claim for a message whose provider call never started."""
    states.unclaim(message_id=message_id)


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


SENT_SQL = (
    """
WITH msg AS (
    """
    + states.SQL_MARK_SENT
    + """
), attempt AS (
    INSERT INTO {attempt} (operation, message_id, reference, provider, outcome, error_code, error_message,
                           retry_after, latency_ms, provider_message_id, created_at)
    SELECT %(operation_send)s, id, '', %(provider)s, %(outcome_success)s, '', '', NULL, %(latency_ms)s,
           %(provider_id)s, %(at)s FROM msg
), event AS (
    INSERT INTO {event} (message_id, kind, occurred_at, provider_event_id, data)
    SELECT id, %(event_sent)s, %(at)s, NULL, '{{}}' FROM msg
), held AS (
    UPDATE {outbox} SET status = %(outbox_sent)s, lease_until = NULL, sent_at = %(at)s, cost = %(cost)s
    WHERE id = %(row_id)s AND status = %(outbox_claimed)s AND claimed_by = %(worker)s
    RETURNING id
), claim_next AS (
    """
    + states.SQL_CLAIM_NEXT
    + """
)
SELECT (SELECT count(*) FROM held), (SELECT count(*) FROM claim_next)
"""
)
# The statuses and kinds the statement writes, as the choices' values.
SENT_SQL_VALUES = {
    **states.SQL_VALUES,
    "operation_send": AttemptOperation.SEND.value,
    "outcome_success": AttemptOutcome.SUCCESS.value,
    "event_sent": MessageEventKind.SENT.value,
    "outbox_sent": OutboxStatus.SENT.value,
    "outbox_claimed": OutboxStatus.CLAIMED.value,
}


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
            **SENT_SQL_VALUES,
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
