"""Thin Celery entry points for website tracking."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from website import partitions, recommendations, services
from website.models import Site


@shared_task(soft_time_limit=120, time_limit=150, acks_late=True)
def events_ingested_task(site_id: int, events: list[dict] | None = None, packed: str = "") -> None:
    """After a batch is stored: tell subscribers (A/B metrics, attribution) via events_ingested.

    The ingest path sends the events `packed` (services.events_pack: far cheaper to publish).
    """
    if packed:
        events = services.events_unpack(packed)
    services.events_ingested_send(site_id=site_id, events=events or [])


@shared_task(soft_time_limit=240, time_limit=300)
def spool_flush_task() -> int:
    """Every minute: store batches spooled while the database was unavailable."""
    return services.spool_flush()


@shared_task(soft_time_limit=240, time_limit=300)
def sessions_refresh_task(minutes: int = 10) -> int:
    """Every few minutes: rebuild the sessions touched by recent events."""
    end = timezone.now()
    return services.sessions_rebuild(start=end - timedelta(minutes=minutes), end=end)


@shared_task(soft_time_limit=1500, time_limit=1800)
def funnel_snapshots_task() -> int:
    """Daily: refresh the last two days of sessions, then snapshot every funnel for yesterday (UTC)."""
    yesterday = (timezone.now() - timedelta(days=1)).date()
    services.sessions_rebuild(start=timezone.now() - timedelta(days=2), end=timezone.now())
    return services.funnel_snapshots_build(day=yesterday)


@shared_task(soft_time_limit=1500, time_limit=1800)
def recommendations_task(days: int = 28) -> int:
    """Daily: run the optimisation rules for every active site over the last `days` days."""
    end = timezone.now()
    count = 0
    for site_id in Site.objects.filter(is_active=True).values_list("pk", flat=True):
        count += len(
            recommendations.recommendations_generate(site_id=site_id, start=end - timedelta(days=days), end=end)
        )
    return count


@shared_task(soft_time_limit=60, time_limit=90)
def partitions_ensure_task() -> int:
    """Daily: create next months' event partitions ahead of time (PostgreSQL)."""
    return len(partitions.partitions_ensure(around=timezone.now().date()))
