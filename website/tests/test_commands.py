from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from madansara.periodic import declared_schedules
from website.models import FunnelAnalytics, FunnelDefinition, WebsiteSession
from website.tests.factories import T0, add_event


@pytest.mark.django_db
def test_backfill_rebuilds_sessions_and_snapshots_day_by_day_with_progress(site):
    add_event(site, "a", "pageview", T0, session="s1")
    add_event(site, "a", "signup", T0 + timedelta(minutes=1), session="s1")
    add_event(site, "b", "pageview", T0 + timedelta(days=1), session="s2")
    FunnelDefinition.objects.create(site=site, name="Signup", steps=[{"event": "pageview"}, {"event": "signup"}])
    out = StringIO()
    call_command("website_backfill", "--start", "2026-11-01", "--end", "2026-11-03", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[1/3] 2026-11-01: 1 sessions, 1 funnel snapshots")
    assert "(100%)" in lines[2]
    assert WebsiteSession.objects.count() == 2
    first = FunnelAnalytics.objects.get(day="2026-11-01")
    assert (first.entered, first.converted) == (1, 1)
    assert FunnelAnalytics.objects.get(day="2026-11-02").entered == 1


@pytest.mark.django_db
def test_backfill_rejects_an_inverted_range():
    with pytest.raises(CommandError):
        call_command("website_backfill", "--start", "2026-11-03", "--end", "2026-11-01")


def test_periodic_jobs_are_declared():
    jobs = declared_schedules()
    assert jobs["website.funnel-snapshots"].task == "website.tasks.funnel_snapshots_task"
    assert jobs["website.spool-flush"].seconds == 60
