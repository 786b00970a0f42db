"""Thin Celery entry points of the A/B testing engine."""

from celery import shared_task

from abtesting import services
from abtesting.models import ABTest


@shared_task(soft_time_limit=240, time_limit=300)
def results_refresh_task() -> int:
    """Scheduled: snapshot every running test, check SRM and guardrails, roll out or re-weight."""
    return len(services.results_refresh())


@shared_task(soft_time_limit=60, time_limit=90)
def test_results_refresh_task(test_id: int) -> int:
    """On demand (admin/API): refresh one test."""
    tests = ABTest.objects.filter(pk=test_id).prefetch_related("variants")
    return len(services.results_refresh(tests=tests))
