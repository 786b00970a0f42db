"""The planner's guards and rules, each on its own (given / when / then)."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from outreach.models import (
    CampaignEnrollment,
    ChannelCost,
    ContactEngagement,
    DirectSend,
    DirectSendStatus,
    FrequencyCap,
    OutboxMessage,
    SuppressionEntry,
)
from outreach.services.planning import campaign_enroll, campaign_plan, in_quiet_hours, send_instant, step_plan
from outreach.tests.campaign_helpers import NOON, campaign, contact

pytestmark = pytest.mark.django_db

UTC = timezone.UTC


def rows(camp):
    return {row.contact_id: row for row in OutboxMessage.objects.filter(campaign=camp)}


# --- deduplication --------------------------------------------------------------------------
def test_replanning_the_same_day_never_creates_a_second_message_per_step():
    # given a planned campaign
    people = [contact(channels=("email", "sms")) for _ in range(3)]
    camp = campaign(contacts=people, steps=[{"kind": "send", "channel": "auto", "templates": ["email", "sms"]}])
    campaign_plan(campaign=camp, now=NOON)
    # when the planner runs again (a duplicated beat tick)
    campaign_plan(campaign=camp, now=NOON)
    # then each contact still has exactly one outbox row for the step
    assert OutboxMessage.objects.filter(campaign=camp).count() == 3


def test_the_database_refuses_a_second_row_for_the_same_step_on_another_channel():
    person = contact(channels=("email", "sms"))
    camp = campaign(contacts=[person])
    campaign_plan(campaign=camp, now=NOON)
    row = OutboxMessage.objects.get(campaign=camp)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(campaign=camp, step=row.step, contact=person, channel="sms", due_at=NOON)


# --- consent and suppression -----------------------------------------------------------------
def test_contacts_without_opt_in_or_suppressed_are_held_back_with_the_guard_named():
    ok = contact()
    unknown = contact(consent="unknown")
    unsubscribed = contact(consent="unsubscribed")
    suppressed = contact(values={"email": "blocked@example.com"})
    SuppressionEntry.objects.create(value="blocked@example.com", reason="complaint")
    camp = campaign(contacts=[ok, unknown, unsubscribed, suppressed])

    campaign_plan(campaign=camp, now=NOON)

    planned = rows(camp)
    assert planned[ok.pk].status == "pending"
    assert (planned[unknown.pk].status, planned[unknown.pk].hold_reason) == ("skipped", "no_channel")
    assert planned[unsubscribed.pk].hold_reason == "unsubscribed"
    assert planned[suppressed.pk].hold_reason == "suppressed"


# --- frequency caps --------------------------------------------------------------------------
def test_global_daily_cap_defers_the_contact_to_a_later_day():
    # given a contact already messaged today by another campaign, and a global cap of 1/day
    FrequencyCap.objects.create(channel="", per_day=1)
    person = contact()
    first = campaign(contacts=[person])
    campaign_plan(campaign=first, now=NOON)
    second = campaign(contacts=[person])
    # when the second campaign plans today
    campaign_plan(campaign=second, now=NOON)
    # then nothing is planned today, and the journey waits (not skipped)
    assert not OutboxMessage.objects.filter(campaign=second).exists()
    assert CampaignEnrollment.objects.get(campaign=second).state == "active"
    # and tomorrow it is planned
    campaign_plan(campaign=second, now=NOON + timedelta(days=1))
    assert OutboxMessage.objects.get(campaign=second).status == "pending"


def test_per_channel_weekly_cap_makes_auto_pick_another_channel():
    FrequencyCap.objects.create(channel="email", per_week=1)
    person = contact(channels=("email", "sms"))
    ContactEngagement.objects.create(contact=person, channel="email", sent=10, responses=9, hour_counts=[0] * 24)
    earlier = campaign(contacts=[person])
    campaign_plan(campaign=earlier, now=NOON - timedelta(days=3))
    camp = campaign(contacts=[person], steps=[{"kind": "send", "channel": "auto", "templates": ["email", "sms"]}])

    campaign_plan(campaign=camp, now=NOON)

    assert OutboxMessage.objects.get(campaign=camp).channel == "sms"


def test_direct_sends_count_against_the_planners_caps():
    # given a global cap of 1 a day and a per-channel email cap of 1 a week, a contact who got an
    # e-mail through the send-one API today, and one who got one three days ago
    FrequencyCap.objects.create(channel="", per_day=1)
    FrequencyCap.objects.create(channel="email", per_week=1)
    today, this_week, awaiting = contact(), contact(channels=("email", "sms")), contact()
    ContactEngagement.objects.create(contact=this_week, channel="email", sent=10, responses=9, hour_counts=[0] * 24)
    DirectSend.objects.create(contact=today, channel="email", status=DirectSendStatus.SENT, due_at=NOON)
    DirectSend.objects.create(
        contact=this_week, channel="email", status=DirectSendStatus.SENT, due_at=NOON - timedelta(days=3)
    )
    # (a send still waiting for a person's approval has not gone out: it does not count)
    DirectSend.objects.create(contact=awaiting, channel="email", status=DirectSendStatus.AWAITING_APPROVAL, due_at=NOON)
    camp = campaign(
        contacts=[today, this_week, awaiting],
        steps=[{"kind": "send", "channel": "auto", "templates": ["email", "sms"]}],
    )
    # when the campaign plans today
    campaign_plan(campaign=camp, now=NOON)
    # then the first waits for another day, the second goes by SMS (e-mail is its best channel but
    # capped), the third is planned by e-mail
    planned = rows(camp)
    assert today.pk not in planned
    assert CampaignEnrollment.objects.get(campaign=camp, contact=today).state == "active"
    assert planned[this_week.pk].channel == "sms"
    assert planned[awaiting.pk].channel == "email"


# --- channel selection -------------------------------------------------------------------------
def test_auto_prefers_the_contacts_own_best_channel_once_there_is_history():
    person = contact(channels=("email", "sms"))
    ContactEngagement.objects.create(contact=person, channel="email", sent=10, responses=1, hour_counts=[0] * 24)
    ContactEngagement.objects.create(contact=person, channel="sms", sent=10, responses=6, hour_counts=[0] * 24)
    newcomer = contact(channels=("email", "sms"))
    camp = campaign(
        contacts=[person, newcomer], steps=[{"kind": "send", "channel": "auto", "templates": ["email", "sms"]}]
    )

    campaign_plan(campaign=camp, now=NOON)

    planned = rows(camp)
    assert (planned[person.pk].channel, planned[person.pk].reason) == ("sms", "contact")
    assert planned[person.pk].channel_score == pytest.approx(0.6)
    # the newcomer gets the population's preference (prior: sms 0.25 > email 0.15)
    assert (planned[newcomer.pk].channel, planned[newcomer.pk].reason) == ("sms", "population")


def test_auto_breaks_ties_on_cost():
    ChannelCost.objects.create(channel="email", cost_per_message=Decimal("0.001"))
    ChannelCost.objects.create(channel="sms", cost_per_message=Decimal("0.05"))
    person = contact(channels=("email", "sms"))
    for channel in ("email", "sms"):
        ContactEngagement.objects.create(contact=person, channel=channel, sent=10, responses=3, hour_counts=[0] * 24)
    camp = campaign(contacts=[person], steps=[{"kind": "send", "channel": "auto", "templates": ["email", "sms"]}])

    campaign_plan(campaign=camp, now=NOON)

    row = OutboxMessage.objects.get(campaign=camp)
    assert row.channel == "email"
    assert row.cost == Decimal("0.001")


def test_auto_never_picks_linkedin_nor_a_messenger_channel_with_a_closed_window():
    person = contact(channels=("linkedin", "facebook"))
    camp = campaign(
        contacts=[person], steps=[{"kind": "send", "channel": "auto", "templates": ["linkedin", "facebook"]}]
    )
    campaign_plan(campaign=camp, now=NOON)
    assert OutboxMessage.objects.get(campaign=camp).hold_reason == "no_channel"

    # once the contact wrote to us on Messenger within 24 h, Messenger is allowed
    other = contact(channels=("linkedin", "facebook"))
    other.identities.filter(channel="facebook").update(last_inbound_at=NOON - timedelta(hours=2))
    camp2 = campaign(
        contacts=[other], steps=[{"kind": "send", "channel": "auto", "templates": ["linkedin", "facebook"]}]
    )
    campaign_plan(campaign=camp2, now=NOON)
    assert OutboxMessage.objects.get(campaign=camp2).channel == "facebook"


# --- holdout ------------------------------------------------------------------------------------
def test_holdout_contacts_are_enrolled_as_control_and_receive_nothing():
    people = [contact() for _ in range(200)]
    camp = campaign(contacts=people, holdout_percent=10)

    campaign_plan(campaign=camp, now=NOON)

    holdout = set(
        CampaignEnrollment.objects.filter(campaign=camp, state="holdout").values_list("contact_id", flat=True)
    )
    assert 10 <= len(holdout) <= 30  # about 10 %
    planned = set(OutboxMessage.objects.filter(campaign=camp).values_list("contact_id", flat=True))
    assert not holdout & planned
    assert len(planned) == 200 - len(holdout)


# --- budget -------------------------------------------------------------------------------------
def test_daily_volume_cap_plans_only_the_cap_and_the_rest_the_next_day():
    people = [contact() for _ in range(5)]
    camp = campaign(contacts=people, daily_volume_cap=2)

    campaign_plan(campaign=camp, now=NOON)
    assert OutboxMessage.objects.filter(campaign=camp).count() == 2

    campaign_plan(campaign=camp, now=NOON + timedelta(days=1))
    assert OutboxMessage.objects.filter(campaign=camp).count() == 4


def test_daily_spend_cap_limits_planned_cost():
    ChannelCost.objects.create(channel="sms", cost_per_message=Decimal("0.10"))
    people = [contact(channels=("sms",)) for _ in range(5)]
    camp = campaign(contacts=people, steps=[{"kind": "send", "channel": "sms"}], daily_spend_cap=Decimal("0.25"))

    campaign_plan(campaign=camp, now=NOON)

    assert OutboxMessage.objects.filter(campaign=camp).count() == 2


# --- quiet hours and time zones ---------------------------------------------------------------
def test_quiet_hours_defer_to_the_window_edge_in_the_contacts_zone():
    # 12:00 UTC is 21:00 in Tokyo (after a 9-20 window) and 07:00 in New York (before it)
    tokyo = contact(tz="Asia/Tokyo")
    new_york = contact(tz="America/New_York")
    camp = campaign(contacts=[tokyo, new_york], window_start_hour=9, window_end_hour=20)

    campaign_plan(campaign=camp, now=NOON)

    planned = rows(camp)
    assert planned[tokyo.pk].due_at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 09:00 JST next day
    local = planned[new_york.pk].due_at.astimezone(new_york.tzinfo)
    assert (local.date().isoformat(), 9 <= local.hour < 20) == ("2026-11-25", True)  # later today, in window
    assert planned[tokyo.pk].hold_reason == "quiet_hours"
    assert planned[tokyo.pk].status == "pending"  # deferred, never dropped


def test_send_instant_is_exact_across_daylight_saving_changes():
    # Europe/Paris leaves summer time on 2026-10-25: 09:00 is 07:00 UTC before, 08:00 UTC after
    before = datetime(2026, 10, 24, 3, 0, tzinfo=UTC)
    after = datetime(2026, 10, 25, 3, 0, tzinfo=UTC)
    assert send_instant(tzname="Europe/Paris", hour=9, start=9, end=20, now=before).hour == 7
    assert send_instant(tzname="Europe/Paris", hour=9, start=9, end=20, now=after).hour == 8
    # New York springs forward on 2026-03-08
    spring = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert send_instant(tzname="America/New_York", hour=9, start=9, end=20, now=spring) == datetime(
        2026, 3, 8, 13, 0, tzinfo=UTC
    )


def test_a_preferred_hour_that_already_passed_sends_now_while_the_window_is_open():
    now = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    assert send_instant(tzname="UTC", hour=10, start=9, end=20, now=now) == now
    assert in_quiet_hours(tzname="UTC", start=9, end=20, now=datetime(2026, 11, 25, 22, 0, tzinfo=UTC))


def test_sto_sends_at_the_contacts_best_hour_and_control_arm_is_spread():
    engaged = contact(tz="Europe/Paris")
    ContactEngagement.objects.create(
        contact=engaged, channel="email", sent=3, responses=3, best_hour=17, hour_counts=[0] * 24
    )
    camp = campaign(contacts=[engaged], sto_enabled=True, window_start_hour=9, window_end_hour=20)
    campaign_plan(campaign=camp, now=datetime(2026, 11, 25, 6, 0, tzinfo=UTC))
    row = OutboxMessage.objects.get(campaign=camp)
    assert row.sto_arm == "sto"
    assert row.due_at == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # 17:00 in Paris


# --- one planning statement: sends and held journeys together ---------------------------------
def test_step_plan_counts_planned_and_held_rows_and_leaves_capped_journeys_waiting():
    # given a reachable contact, one without opt-in, and one already at the global daily cap
    FrequencyCap.objects.create(channel="", per_day=1)
    ok, unknown, busy = contact(), contact(consent="unknown"), contact()
    campaign_plan(campaign=campaign(contacts=[busy]), now=NOON)
    camp = campaign(contacts=[ok, unknown, busy])
    campaign_enroll(campaign=camp, now=NOON)

    # when the send step is planned
    result = step_plan(step=camp.steps.get(), now=NOON)

    # then one send is planned, one journey is held with its guard, the capped one gets no row
    assert result == {"planned": 1, "held": 1}
    planned = rows(camp)
    assert (planned[ok.pk].status, planned[ok.pk].reason) == ("pending", "fixed")
    assert (planned[unknown.pk].status, planned[unknown.pk].hold_reason) == ("skipped", "no_channel")
    assert busy.pk not in planned


def test_held_journeys_do_not_use_up_the_daily_volume_cap():
    # given a volume cap of 2 and an audience whose first contacts (by id) cannot be reached
    unreachable = [contact(consent="unknown") for _ in range(2)]
    reachable = [contact() for _ in range(3)]
    camp = campaign(contacts=unreachable + reachable, daily_volume_cap=2)

    # when the campaign plans
    campaign_plan(campaign=camp, now=NOON)

    # then both unreachable journeys are held and two reachable contacts are planned
    statuses = sorted(OutboxMessage.objects.filter(campaign=camp).values_list("status", flat=True))
    assert statuses == ["pending", "pending", "skipped", "skipped"]


# --- recurring audiences ------------------------------------------------------------------------
def test_a_recurring_campaign_re_evaluates_its_segment_each_run_and_a_one_off_does_not():
    from outreach.models import Segment

    # given two campaigns over the same filter segment (customers), one recurring, one not
    first = contact(lifecycle_stage="customer")
    segment = Segment.objects.create(name="customers", filters={"lifecycle_stage": ["customer"]})
    recurring = campaign(recurring=True, ends_at=NOON + timedelta(days=7))
    recurring.segment = segment
    recurring.save()
    one_off = campaign()
    one_off.segment = segment
    one_off.save()
    for camp in (recurring, one_off):
        assert campaign_plan(campaign=camp, now=NOON)["enrolled"] == 1
    # when a lead becomes a customer, another stops being one, and the planner runs the next day
    later = contact(lifecycle_stage="lead")
    later.lifecycle_stage = "customer"
    later.save()
    first.lifecycle_stage = "churned"
    first.save()
    next_day = NOON + timedelta(days=1)
    # then the recurring campaign enrolls and messages the new member, once, and keeps the first
    assert campaign_plan(campaign=recurring, now=next_day)["enrolled"] == 1
    assert campaign_plan(campaign=recurring, now=next_day + timedelta(hours=1))["enrolled"] == 0
    assert set(rows(recurring)) == {first.pk, later.pk}
    assert OutboxMessage.objects.filter(campaign=recurring, contact=later).count() == 1
    # and the one-off campaign keeps the audience it started with
    assert campaign_plan(campaign=one_off, now=next_day)["enrolled"] == 0
    assert set(rows(one_off)) == {first.pk}
    # and the recurring campaign completes once its end date has passed
    recurring.refresh_from_db()
    assert recurring.status == "running"
    campaign_plan(campaign=recurring, now=NOON + timedelta(days=8))
    recurring.refresh_from_db()
    assert recurring.status == "completed"
