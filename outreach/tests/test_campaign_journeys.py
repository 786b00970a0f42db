"""End-to-end campaigns through the sandbox providers: plan → dispatch → events → next step."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from madansara.channels.services import message_event_record
from outreach.models import CampaignEnrollment, CampaignSpend, ChannelCost, OutboxMessage
from outreach.services.campaigns import campaign_pause, campaign_resume
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_goal_reached, campaign_plan
from outreach.tests.campaign_helpers import NOON, campaign, contact

pytestmark = pytest.mark.django_db


def run_day(camp, now):
    """What beat does: plan, then dispatch what is due."""
    campaign_plan(campaign=camp, now=now)
    outbox_dispatch(once=True, now=now)
    campaign_plan(campaign=camp, now=now)
    camp.refresh_from_db()


def sent(camp, person):
    return list(
        OutboxMessage.objects.filter(campaign=camp, contact=person, status="sent")
        .order_by("step__position")
        .values_list("step__position", "channel")
    )


def test_multi_step_campaign_waits_in_the_database_then_sends_the_next_step():
    person = contact(channels=("email", "sms"))
    camp = campaign(
        contacts=[person],
        steps=[
            {"kind": "send", "channel": "email"},
            {"kind": "wait", "wait_hours": 48},
            {"kind": "send", "channel": "sms"},
        ],
    )
    run_day(camp, NOON)
    assert sent(camp, person) == [(1, "email")]

    run_day(camp, NOON + timedelta(days=1))
    assert sent(camp, person) == [(1, "email")]  # still waiting

    run_day(camp, NOON + timedelta(days=2, minutes=1))
    assert sent(camp, person) == [(1, "email"), (3, "sms")]
    assert camp.status == "completed"


def test_branch_on_reply_sends_a_reminder_only_to_those_who_did_not_reply():
    replier, silent = contact(channels=("email", "sms")), contact(channels=("email", "sms"))
    camp = campaign(
        contacts=[replier, silent],
        steps=[
            {"kind": "send", "channel": "email"},
            {"kind": "branch", "branch_on": "reply", "within_hours": 72, "goto_position": 99, "else_position": 3},
            {"kind": "send", "channel": "sms"},
        ],
    )
    run_day(camp, NOON)
    message = OutboxMessage.objects.get(campaign=camp, contact=replier).message
    message_event_record(message=message, kind="replied", occurred_at=NOON + timedelta(hours=2))

    run_day(camp, NOON + timedelta(hours=3))
    assert CampaignEnrollment.objects.get(campaign=camp, contact=replier).state == "completed"
    assert sent(camp, silent) == [(1, "email")]

    run_day(camp, NOON + timedelta(hours=73))
    assert sent(camp, silent) == [(1, "email"), (3, "sms")]
    assert sent(camp, replier) == [(1, "email")]


def test_permanent_failure_falls_back_to_the_next_channel_on_the_same_step():
    person = contact(channels=("email", "sms"), values={"email": "fail-permanent@example.com"})
    camp = campaign(contacts=[person], steps=[{"kind": "send", "channel": "email", "fallback_channels": ["sms"]}])

    run_day(camp, NOON)

    row = OutboxMessage.objects.get(campaign=camp, contact=person)
    assert (row.status, row.channel, row.reason) == ("sent", "sms", "fallback")
    assert row.fallback_from[0]["channel"] == "email"
    assert row.fallback_from[0]["code"] == "sandbox_rejected"


def test_permanent_failure_without_fallback_fails_with_a_reason():
    person = contact(values={"email": "fail-permanent@example.com"})
    camp = campaign(contacts=[person])
    run_day(camp, NOON)
    row = OutboxMessage.objects.get(campaign=camp)
    assert row.status == "failed"
    assert "sandbox_rejected" in row.error


def test_no_response_falls_back_to_another_channel_after_the_delay():
    opener, silent = contact(channels=("email", "sms")), contact(channels=("email", "sms"))
    camp = campaign(
        contacts=[opener, silent],
        steps=[
            {"kind": "send", "channel": "email"},
            {"kind": "branch", "branch_on": "no_response", "within_hours": 48, "goto_position": 3, "else_position": 99},
            {"kind": "send", "channel": "sms"},
        ],
    )
    run_day(camp, NOON)
    message = OutboxMessage.objects.get(campaign=camp, contact=opener).message
    message_event_record(message=message, kind="opened", occurred_at=NOON + timedelta(hours=1))

    run_day(camp, NOON + timedelta(hours=2))
    assert CampaignEnrollment.objects.get(campaign=camp, contact=opener).state == "completed"
    assert sent(camp, silent) == [(1, "email")]

    run_day(camp, NOON + timedelta(hours=49))
    assert sent(camp, silent) == [(1, "email"), (3, "sms")]


def test_goal_conversion_ends_the_journey_and_cancels_pending_sends():
    from conversion.models import ConversionEvent, ConversionType

    person = contact(channels=("email", "sms"))
    camp = campaign(
        contacts=[person],
        goal_conversion="purchase",
        steps=[
            {"kind": "send", "channel": "email"},
            {"kind": "wait", "wait_hours": 24},
            {"kind": "send", "channel": "sms"},
        ],
    )
    run_day(camp, NOON)
    kind, _ = ConversionType.objects.get_or_create(code="purchase", defaults={"name": "Purchase"})
    ConversionEvent.objects.create(
        external_id="order-1", conversion_type=kind, contact=person, occurred_at=timezone.now() + timedelta(hours=1)
    )

    run_day(camp, NOON + timedelta(days=2))

    assert CampaignEnrollment.objects.get(campaign=camp).state == "goal"
    assert sent(camp, person) == [(1, "email")]


def test_campaign_goal_reached_service_cancels_pending_rows():
    person = contact()
    camp = campaign(contacts=[person], goal_conversion="signup", window_start_hour=9, window_end_hour=10)
    campaign_plan(campaign=camp, now=NOON)  # due tomorrow 09:00
    assert campaign_goal_reached(contact=person, conversion_type="signup") == 1
    row = OutboxMessage.objects.get(campaign=camp)
    assert (row.status, row.hold_reason) == ("cancelled", "goal")


def test_budget_exhaustion_stops_the_day_cleanly_and_resumes_the_next_day():
    ChannelCost.objects.create(channel="sms", cost_per_message=Decimal("0.10"))
    people = [contact(channels=("sms",)) for _ in range(5)]
    camp = campaign(contacts=people, steps=[{"kind": "send", "channel": "sms"}], daily_spend_cap=Decimal("0.25"))

    run_day(camp, NOON)
    assert OutboxMessage.objects.filter(campaign=camp, status="sent").count() == 2
    assert camp.status == "running"

    run_day(camp, NOON + timedelta(days=1))
    run_day(camp, NOON + timedelta(days=2))
    assert OutboxMessage.objects.filter(campaign=camp, status="sent").count() == 5
    spend = {(s.day.isoformat(), s.channel): (s.messages, s.cost) for s in CampaignSpend.objects.filter(campaign=camp)}
    assert spend[(NOON.date().isoformat(), "sms")][0] == 2
    assert camp.status == "completed"


def test_dispatcher_defers_a_due_row_when_todays_spend_is_used_up():
    ChannelCost.objects.create(channel="sms", cost_per_message=Decimal("0.10"))
    people = [contact(channels=("sms",)) for _ in range(3)]
    camp = campaign(contacts=people, steps=[{"kind": "send", "channel": "sms"}])
    campaign_plan(campaign=camp, now=NOON)
    camp.daily_spend_cap = Decimal("0.15")  # lowered after planning
    camp.save()

    outbox_dispatch(once=True, now=NOON)

    statuses = sorted(OutboxMessage.objects.filter(campaign=camp).values_list("status", "hold_reason"))
    assert statuses.count(("sent", "")) == 1
    deferred = OutboxMessage.objects.filter(campaign=camp, status="pending")
    assert deferred.count() == 2 and all(row.due_at > NOON + timedelta(hours=6) for row in deferred)


def test_paused_campaign_sends_nothing_until_resumed():
    person = contact()
    camp = campaign(contacts=[person])
    campaign_plan(campaign=camp, now=NOON)
    campaign_pause(campaign=camp)
    outbox_dispatch(once=True, now=NOON)
    assert OutboxMessage.objects.get(campaign=camp).status == "pending"
    campaign_resume(campaign=camp)
    outbox_dispatch(once=True, now=NOON)
    assert OutboxMessage.objects.get(campaign=camp).status == "sent"


def test_quiet_hours_across_time_zones_end_to_end():
    tokyo, paris = contact(tz="Asia/Tokyo"), contact(tz="Europe/Paris")
    camp = campaign(contacts=[tokyo, paris], window_start_hour=9, window_end_hour=20)
    run_day(camp, NOON)  # 21:00 in Tokyo, 13:00 in Paris
    paris_row = OutboxMessage.objects.get(campaign=camp, contact=paris)
    tokyo_row = OutboxMessage.objects.get(campaign=camp, contact=tokyo)
    assert tokyo_row.status == "pending"
    outbox_dispatch(once=True, now=paris_row.due_at)
    outbox_dispatch(once=True, now=tokyo_row.due_at)
    tokyo_row.refresh_from_db()
    assert tokyo_row.status == "sent"
    assert 9 <= tokyo_row.due_at.astimezone(tokyo.tzinfo).hour < 20
