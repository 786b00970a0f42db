"""Experiment alarms that tell a person (run every minute by madansara.notifications)."""

from datetime import timedelta

from django.urls import reverse

from abtesting.models import ABTestDecision, DecisionAction
from madansara.notifications.models import NoticeKind, Severity
from madansara.notifications.services import notify
from madansara.roles import ROLE_MARKETER

LOOK_BACK = timedelta(hours=24)
KINDS = {
    DecisionAction.SRM_ALERT: NoticeKind.EXPERIMENT_SRM,
    DecisionAction.GUARDRAIL_ALERT: NoticeKind.EXPERIMENT_GUARDRAIL,
}


def experiment_alarms(*, now) -> int:
    """Each SRM or guardrail alarm of the decision log, once, to the marketers."""
    raised = 0
    alarms = ABTestDecision.objects.filter(action__in=list(KINDS), created_at__gte=now - LOOK_BACK).select_related(
        "test"
    )
    for decision in alarms.order_by("pk")[:200]:
        test = decision.test
        raised += bool(
            notify(
                kind=KINDS[decision.action],
                key=f"abtest_decision:{decision.pk}",
                window=None,
                severity=Severity.CRITICAL,
                title=f"Experiment {test.key}: {decision.get_action_display().lower()}",
                body=decision.reason,
                url=reverse("admin:abtesting_abtest_change", args=[test.pk]),
                roles=[ROLE_MARKETER],
                target=test,
                now=now,
            )
        )
    return raised


CHECKS = [experiment_alarms]
