"""Periodic jobs are declared in code and synced into django-celery-beat, keeping operators' pauses."""

import pytest
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from madansara.periodic import DECLARED_MARK, declared_schedules

pytestmark = pytest.mark.django_db


def test_sync_creates_every_declared_job_keeps_pauses_and_removes_stale_ones(capsys):
    declared = declared_schedules()
    assert declared, "the apps declare periodic jobs in <app>/schedules.py"
    # given an operator paused one job and an old declared job is gone from the code
    call_command("sync_periodic_tasks")
    name = next(iter(declared))
    PeriodicTask.objects.filter(name=name).update(enabled=False)
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="old.job", task="old.task", description=f"gone {DECLARED_MARK}", interval=every_minute
    )
    # when synced again
    call_command("sync_periodic_tasks")
    # then every declared job exists once, the pause stands, the stale job is removed
    assert set(PeriodicTask.objects.filter(description__endswith=DECLARED_MARK).values_list("name", flat=True)) == set(
        declared
    )
    assert PeriodicTask.objects.get(name=name).enabled is False
    assert not PeriodicTask.objects.filter(name="old.job").exists()
    for job_name, spec in declared.items():
        assert PeriodicTask.objects.get(name=job_name).task == spec.task
