"""Every celery-beat job is declared in code and synced into django-celery-beat's tables.

Each app declares its jobs in `<app>/schedules.py`:

    from madansara.periodic import every, cron
    SCHEDULES = {
        "inbox.reopen-snoozed": every(minutes=1, task="inbox.tasks.reopen_snoozed_task"),
        "website.funnel-snapshots": cron(task="website.tasks.funnel_snapshots_task", hour="2", minute="15"),
    }

`manage.py sync_periodic_tasks` (run by bin/run and at deploy) creates or updates the rows,
keeps the enabled/paused state an operator set in the admin, and removes jobs no longer declared.
"""

from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps

DECLARED_MARK = "[declared in code]"


@dataclass(frozen=True)
class Schedule:
    task: str
    seconds: int | None = None
    crontab: dict | None = None
    kwargs: dict = field(default_factory=dict)
    description: str = ""


def every(*, task: str, seconds: int = 0, minutes: int = 0, hours: int = 0, kwargs=None, description="") -> Schedule:
    """A job that runs at a fixed interval."""
    total = seconds + 60 * minutes + 3600 * hours
    if total <= 0:
        raise ValueError("An interval must be positive.")
    return Schedule(task=task, seconds=total, kwargs=kwargs or {}, description=description)


def cron(
    *,
    task: str,
    minute="*",
    hour="*",
    day_of_week="*",
    day_of_month="*",
    month_of_year="*",
    kwargs=None,
    description="",
) -> Schedule:
    """A job on a crontab (UTC)."""
    spec = {
        "minute": minute,
        "hour": hour,
        "day_of_week": day_of_week,
        "day_of_month": day_of_month,
        "month_of_year": month_of_year,
    }
    return Schedule(task=task, crontab=spec, kwargs=kwargs or {}, description=description)


def declared_schedules() -> dict[str, Schedule]:
    """All jobs declared by installed apps, by name."""
    found: dict[str, Schedule] = {}
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.schedules")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.schedules":
                raise
            continue
        found.update(getattr(module, "SCHEDULES", {}))
    return found


def sync_periodic_tasks() -> dict[str, int]:
    """Make django-celery-beat's rows match the declarations; returns counts."""
    import json

    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    declared = declared_schedules()
    created = updated = 0
    for name, spec in declared.items():
        defaults = {
            "task": spec.task,
            "kwargs": json.dumps(spec.kwargs),
            "description": f"{spec.description} {DECLARED_MARK}".strip(),
            "interval": None,
            "crontab": None,
        }
        if spec.seconds:
            defaults["interval"], _ = IntervalSchedule.objects.get_or_create(
                every=spec.seconds, period=IntervalSchedule.SECONDS
            )
        else:
            defaults["crontab"], _ = CrontabSchedule.objects.get_or_create(**spec.crontab, timezone="UTC")
        _, was_created = PeriodicTask.objects.update_or_create(name=name, defaults=defaults)
        created += was_created
        updated += not was_created
    stale = PeriodicTask.objects.filter(description__endswith=DECLARED_MARK).exclude(name__in=declared)
    removed = stale.count()
    stale.delete()
    return {"created": created, "updated": updated, "removed": removed}
