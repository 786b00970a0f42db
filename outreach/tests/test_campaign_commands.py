"""Operator commands: plan_campaigns, dispatch_outbox, recompute_engagement."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from outreach.models import OutboxMessage
from outreach.tests.campaign_helpers import campaign, contact

pytestmark = pytest.mark.django_db


def test_plan_then_dispatch_with_progress_output():
    camp = campaign(contacts=[contact(), contact()])
    out = StringIO()
    call_command("plan_campaigns", "--date", "2026-11-25", stdout=out)
    assert f"{camp.pk} {camp.name}: enrolled 2" in out.getvalue()
    assert "Planned 2 sends" in out.getvalue()
    OutboxMessage.objects.update(due_at="2026-01-01T00:00:00Z")
    out = StringIO()
    call_command("dispatch_outbox", "--once", stdout=out)
    assert "sent=2" in out.getvalue()
    assert OutboxMessage.objects.filter(status="sent").count() == 2


def test_bad_arguments_are_refused():
    with pytest.raises(CommandError):
        call_command("plan_campaigns", "--date", "tomorrow")
    with pytest.raises(CommandError):
        call_command("recompute_engagement", "--since", "last week")


def test_beat_schedules_are_declared():
    from outreach.schedules import SCHEDULES

    assert {s.task for s in SCHEDULES.values()} == {
        "outreach.tasks.campaigns_plan_task",
        "outreach.tasks.outbox_dispatch_task",
        "outreach.tasks.engagement_recompute_task",
        "outreach.tasks.direct_sends_due_task",
        "outreach.tasks.direct_sends_recover_task",
    }
