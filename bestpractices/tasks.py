"""Thin Celery entry points for the beat jobs (bestpractices/schedules.py)."""

from celery import shared_task

from bestpractices import services


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)  # a million sends: minutes
def practices_learn_task() -> int:
    return services.practices_learn().pk


@shared_task(acks_late=True)
def draft_edits_learn_task() -> int:
    return len(services.draft_edits_learn())


@shared_task(acks_late=True)
def experiments_review_task() -> int:
    return services.experiments_review()


@shared_task(acks_late=True)
def tests_schedule_task() -> int:
    return len(services.tests_schedule())
