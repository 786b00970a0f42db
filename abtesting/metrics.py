"""Experiment alarm gauges for /metrics (read at scrape time; see madansara.metrics)."""

from datetime import timedelta

from django.utils import timezone

from abtesting.models import ABTestDecision, ABTestStatus, DecisionAction
from madansara.metrics import Gauge

ALARM_WINDOW = timedelta(hours=24)
ALARMS = {"srm": DecisionAction.SRM_ALERT, "guardrail": DecisionAction.GUARDRAIL_ALERT}


def experiment_gauges() -> list[Gauge]:
    since = timezone.now() - ALARM_WINDOW
    gauge = Gauge(
        "madansara_experiments_alarm",
        "Running experiments with an SRM or guardrail alarm in the last 24 hours.",
        ("kind",),
    )
    for kind, action in ALARMS.items():
        count = (
            ABTestDecision.objects.filter(action=action, created_at__gte=since, test__status=ABTestStatus.RUNNING)
            .values("test")
            .distinct()
            .count()
        )
        gauge.samples.append(((kind,), count))
    return [gauge]


GAUGES = [experiment_gauges]
