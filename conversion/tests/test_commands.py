"""backfill_attribution and the declared celery-beat job."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conversion.models import AttributionCredit, ChannelPerformance, ConversionEvent
from conversion.tests.conftest import NOW
from madansara.periodic import declared_schedules

pytestmark = pytest.mark.django_db


def test_backfill_attributes_every_day_with_a_progress_bar(contact, touch):
    from conversion import services

    touch("email", 2, contact=contact)
    services.conversion_record(external_id="a", type="signup", contact_id=contact.pk, occurred_at=NOW, source="api")
    out = StringIO()
    call_command("backfill_attribution", "--since=2026-11-18", "--until=2026-11-20", stdout=out)
    text = out.getvalue()
    assert "[" + "#" * 30 + "] 3/3" in text
    assert "3 days, 1 conversions" in text
    assert ConversionEvent.objects.get().attributed_at is not None
    assert AttributionCredit.objects.filter(channel="email").count() == 8
    assert ChannelPerformance.objects.filter(day=NOW.date(), channel="email").exists()


def test_backfill_rejects_reversed_dates():
    with pytest.raises(CommandError, match="--since"):
        call_command("backfill_attribution", "--since=2026-11-20", "--until=2026-11-01", stdout=StringIO())


def test_refresh_job_is_declared_for_celery_beat():
    schedule = declared_schedules()["conversion.attribution-refresh"]
    assert schedule.task == "conversion.tasks.attribution_refresh_task"
    assert schedule.seconds == 900
