"""Thin Celery entry points: load by id, call a service."""

from celery import shared_task
from django.utils import timezone

from conversion import services
from conversion.models import ConversionEvent
from madansara.channels.retry import ATTRIBUTE


@shared_task(name="conversion.tasks.conversion_attribute_task", bind=True, max_retries=ATTRIBUTE.max_attempts - 1)
def conversion_attribute_task(self, conversion_id: int) -> None:
    """Attribute one conversion; an I/O error is retried with the ATTRIBUTE policy."""
    conversion = ConversionEvent.objects.filter(pk=conversion_id).first()
    if conversion is None:
        return
    try:
        # one conversion reuses the day's Markov effects for 15 minutes; the beat refresh and backfill recompute
        services.conversions_attribute(conversion_ids=[conversion.pk], effects_max_age=900)
        services.channel_performance_refresh(day=conversion.occurred_at.astimezone(timezone.UTC).date())
    except OSError as exc:
        raise self.retry(exc=exc, countdown=ATTRIBUTE.countdown(self.request.retries)) from exc


@shared_task(name="conversion.tasks.attribution_refresh_task")
def attribution_refresh_task() -> dict:
    return services.attribution_refresh()


@shared_task(name="conversion.tasks.funnel_runs_mark_converted_task", soft_time_limit=240, time_limit=300)
def funnel_runs_mark_converted_task() -> int:
    return services.funnel_runs_mark_converted()
