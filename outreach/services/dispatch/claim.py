"""Claiming due outbox rows under a lease: SKIP LOCKED on PostgreSQL, one conditional UPDATE
per row (it must touch exactly one) elsewhere."""

from datetime import datetime

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from outreach.models import CampaignStatus, OutboxMessage, OutboxStatus, OutreachCampaign
from outreach.services.dispatch.shared import lease


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
