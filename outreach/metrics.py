"""Outbox gauges for /metrics (read at scrape time; see madansara.metrics)."""

from django.db.models import Min
from django.utils import timezone

from madansara.metrics import Gauge
from outreach.models import OutboxMessage, OutboxStatus

COUNT_CAP = 1_000_000  # counts stop here: a scrape stays a bounded index range scan


def outbox_gauges() -> list[Gauge]:
    now = timezone.now()
    due = OutboxMessage.objects.filter(status=OutboxStatus.PENDING, due_at__lte=now)
    claimed = OutboxMessage.objects.filter(status=OutboxStatus.CLAIMED)
    oldest = due.aggregate(oldest=Min("due_at"))["oldest"]
    return [
        Gauge(
            "madansara_outbox_due",
            "Outbox messages due now and not yet claimed.",
            samples=[((), due[:COUNT_CAP].count())],
        ),
        Gauge(
            "madansara_outbox_claimed",
            "Outbox messages claimed by a dispatcher.",
            samples=[((), claimed[:COUNT_CAP].count())],
        ),
        Gauge(
            "madansara_outbox_oldest_due_age_seconds",
            "How long the oldest due outbox message has waited (0 when none).",
            samples=[((), (now - oldest).total_seconds() if oldest else 0.0)],
        ),
    ]


GAUGES = [outbox_gauges]
