"""The feedback loop: engagement per channel, preference and best hour; recompute backfill."""

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from madansara.channels.services import message_event_record
from outreach.models import ContactEngagement, OutboxMessage
from outreach.services.dispatch import outbox_dispatch
from outreach.services.feedback import best_hour, engagement_recompute
from outreach.services.planning import campaign_plan, population_best_hour
from outreach.tests.campaign_helpers import campaign, contact

pytestmark = pytest.mark.django_db
UTC = timezone.UTC


def send_to(person):
    camp = campaign(contacts=[person])
    now = timezone.now()
    campaign_plan(campaign=camp, now=now)
    OutboxMessage.objects.filter(campaign=camp).update(due_at=now)
    outbox_dispatch(now=now)
    return OutboxMessage.objects.get(campaign=camp).message


def test_opens_and_replies_update_engagement_and_the_best_local_hour(django_capture_on_commit_callbacks):
    person = contact(tz="Asia/Tokyo")
    message = send_to(person)
    with django_capture_on_commit_callbacks(execute=True):
        # 10:00 UTC is 19:00 in Tokyo
        message_event_record(message=message, kind="opened", occurred_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
        message_event_record(message=message, kind="replied", occurred_at=datetime(2026, 11, 20, 11, 0, tzinfo=UTC))
    row = ContactEngagement.objects.get(contact=person, channel="email")
    assert (row.sent, row.opened, row.replied, row.responses) == (1, 1, 1, 1)  # one response per message
    assert row.best_hour == 19
    assert row.score > 0.5


def test_best_hour_and_population_fallback():
    assert best_hour([0] * 24) is None
    assert best_hour([0] * 9 + [3] + [0] * 8 + [3] + [0] * 5) == 9
    assert population_best_hour(default=10) == 10
    for hour in (8, 8, 14):
        ContactEngagement.objects.create(contact=contact(), channel="email", best_hour=hour, hour_counts=[])
    assert population_best_hour() == 8


def test_recompute_rebuilds_engagement_from_message_history():
    person = contact()
    message = send_to(person)
    message_event_record(message=message, kind="clicked", occurred_at=timezone.now())  # no on_commit: not counted
    ContactEngagement.objects.all().delete()

    call_command("recompute_engagement", "--since", (timezone.now() - timedelta(days=1)).date().isoformat())

    row = ContactEngagement.objects.get(contact=person, channel="email")
    assert (row.sent, row.clicked, row.responses) == (1, 1, 1)
    assert row.best_hour == message.clicked_at.hour if message.refresh_from_db() is None else False
    assert engagement_recompute(since=timezone.now() + timedelta(days=1)) == 0
