"""A campaign's send experiment: the planner splits a send step's audience into arms that send in
their own window, on their own weekdays or on their own channel; the arms are the experiment's
exposures, the dispatcher honours each arm's window, and opens, replies and conversions count for
the arm the contact was sent. Runs on SQLite and on PostgreSQL (the planning statement differs)."""

from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from abtesting.models import ABTestDailyStat, ABTestExposure, ABTestUnitMetric, Surface
from abtesting.services import abtest_create, abtest_roll_out, abtest_start
from conversion.services.conversions import conversion_record
from madansara.channels.models import Message, MessageEventKind
from outreach.models import OutboxMessage
from outreach.services.dispatch import outbox_dispatch
from outreach.services.feedback import engagement_record
from outreach.services.planning import campaign_plan, in_quiet_hours, send_instant
from outreach.tests.campaign_helpers import NOON, campaign, contact, template

pytestmark = pytest.mark.django_db
TOKYO_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.UTC)  # a Saturday


def send_test(camp, control: dict, treatment: dict, *, surface=Surface.SEND_TIME, weights=(1.0, 1.0), start=True):
    test = abtest_create(
        key=f"send-{camp.pk}-{surface}",
        name="send experiment",
        surface=surface,
        primary_metric="reply",
        variants=[
            {"key": "control", "is_control": True, "weight": weights[0], "content": control},
            {"key": "treatment", "weight": weights[1], "content": treatment},
        ],
    )
    if start:
        abtest_start(test=test)
    camp.send_test = test
    camp.save(update_fields=["send_test"])
    return test


def local_hour(row):
    return row.due_at.astimezone(row.contact.tzinfo).hour


@pytest.fixture
def evening_campaign():
    people = [contact(channels=("email", "sms")) for _ in range(200)]
    camp = campaign(contacts=people, window_start_hour=18, window_end_hour=22, sto_enabled=False)
    return camp


def test_each_arm_is_planned_in_its_own_window_and_exposed_once(evening_campaign):
    test = send_test(evening_campaign, {}, {"window_start_hour": 8, "window_end_hour": 12})
    result = campaign_plan(campaign=evening_campaign, now=NOON)
    assert result["planned"] == 200
    rows = list(OutboxMessage.objects.select_related("contact"))
    arms = Counter(row.send_arm for row in rows)
    assert set(arms) == {"control", "treatment"} and 70 <= arms["treatment"] <= 130  # a fair split of 200
    for row in rows:
        if row.send_arm == "control":  # the campaign's own window, today
            assert 18 <= local_hour(row) < 22 and row.due_at.date() == NOON.date() and row.hold_reason == ""
        else:  # 08-12 has passed at noon: tomorrow at 08:00, deferred
            assert local_hour(row) == 8 and row.due_at.date() == NOON.date() + timedelta(days=1)
            assert row.hold_reason == "quiet_hours"
    exposed = {
        (e.contact_id, e.variant.key) for e in ABTestExposure.objects.filter(test=test).select_related("variant")
    }
    assert exposed == {(row.contact_id, row.send_arm) for row in rows}
    stats = dict(ABTestDailyStat.objects.filter(test=test, metric="").values_list("variant__key", "units"))
    assert stats == dict(arms)
    # planning again (a duplicated beat tick) writes and exposes nothing more
    assert campaign_plan(campaign=evening_campaign, now=NOON + timedelta(minutes=5))["planned"] == 0
    assert ABTestExposure.objects.filter(test=test).count() == 200
    assert sum(ABTestDailyStat.objects.filter(test=test, metric="").values_list("units", flat=True)) == 200


def test_the_split_follows_the_arms_weights():
    people = [contact() for _ in range(400)]
    camp = campaign(contacts=people, sto_enabled=False)
    send_test(camp, {}, {"window_start_hour": 6, "window_end_hour": 9}, weights=(3.0, 1.0))
    campaign_plan(campaign=camp, now=NOON)
    arms = Counter(OutboxMessage.objects.values_list("send_arm", flat=True))
    assert 60 <= arms["treatment"] <= 140 and arms["control"] + arms["treatment"] == 400  # expected 100


def test_a_contact_keeps_its_arm_in_the_campaigns_next_send_step():
    people = [contact() for _ in range(60)]
    camp = campaign(contacts=people, sto_enabled=False, steps=[{"kind": "send", "channel": "email"}] * 2)
    test = send_test(camp, {}, {"window_start_hour": 6, "window_end_hour": 9})
    campaign_plan(campaign=camp, now=NOON)
    first = dict(OutboxMessage.objects.filter(step__position=1).values_list("contact_id", "send_arm"))
    OutboxMessage.objects.update(status="sent")
    campaign_plan(campaign=camp, now=NOON + timedelta(hours=1))
    second = dict(OutboxMessage.objects.filter(step__position=2).values_list("contact_id", "send_arm"))
    assert len(second) == 60 and second == first
    assert ABTestExposure.objects.filter(test=test).count() == 60


def test_a_channel_arm_sends_the_step_on_its_channel(evening_campaign):
    step = evening_campaign.steps.get()
    step.templates.add(template("sms"))
    send_test(
        evening_campaign,
        {"channel": "email", "steps": [step.pk]},
        {"channel": "sms", "steps": [step.pk]},
        surface=Surface.CHANNEL,
    )
    campaign_plan(campaign=evening_campaign, now=NOON)
    by_arm = Counter(OutboxMessage.objects.values_list("send_arm", "channel"))
    assert set(by_arm) == {("control", "email"), ("treatment", "sms")}
    step.refresh_from_db()
    assert step.channel == "email"  # the step itself is unchanged


def test_an_arm_that_cannot_reach_a_contact_is_held_and_still_counts_as_exposed():
    people = [contact(channels=("email",)) for _ in range(40)]  # nobody has SMS
    camp = campaign(contacts=people, sto_enabled=False, steps=[{"kind": "send", "channel": "email",
                                                                 "templates": ["email", "sms"]}])  # fmt: skip
    test = send_test(camp, {}, {"channel": "sms"}, surface=Surface.CHANNEL)
    result = campaign_plan(campaign=camp, now=NOON)
    treated = OutboxMessage.objects.filter(send_arm="treatment")
    assert treated.exists() and set(treated.values_list("status", "hold_reason").distinct()) == {
        ("skipped", "no_channel")
    }
    assert result["held"] == treated.count()
    assert ABTestExposure.objects.filter(test=test).count() == 40


def test_weekdays_defer_sends_to_the_next_sending_day():
    person = contact(tz="Asia/Tokyo")
    camp = campaign(contacts=[person], sto_enabled=False, window_start_hour=9, window_end_hour=20,
                    send_weekdays=[0, 2])  # fmt: skip
    campaign_plan(campaign=camp, now=TOKYO_NOON - timedelta(hours=9))  # Saturday 12:00 in Tokyo
    row = OutboxMessage.objects.select_related("contact").get()
    local = row.due_at.astimezone(person.tzinfo)
    assert local.weekday() == 0 and 9 <= local.hour < 20 and row.hold_reason == "quiet_hours"


def test_a_weekday_arm_and_the_dispatcher_honour_each_arms_days(evening_campaign):
    send_test(evening_campaign, {}, {"send_weekdays": [4]})  # treatment: Fridays only
    campaign_plan(campaign=evening_campaign, now=NOON)  # a Wednesday
    rows = OutboxMessage.objects.all()
    assert {r.due_at.date() for r in rows.filter(send_arm="control")} == {NOON.date()}
    assert {r.due_at.astimezone(timezone.UTC).weekday() for r in rows.filter(send_arm="treatment")} == {4}
    # A treatment row made due on Wednesday evening is deferred to Friday by the dispatcher.
    evening = NOON.replace(hour=19)
    OutboxMessage.objects.update(due_at=evening)
    outbox_dispatch(now=evening)
    treated = OutboxMessage.objects.filter(send_arm="treatment")
    assert set(treated.values_list("status", flat=True)) == {"pending"}
    assert {r.due_at.weekday() for r in treated} == {4}
    assert set(OutboxMessage.objects.filter(send_arm="control").values_list("status", flat=True)) == {"sent"}


def test_the_dispatcher_sends_a_row_inside_its_arms_window_not_the_campaigns(evening_campaign):
    send_test(evening_campaign, {}, {"window_start_hour": 8, "window_end_hour": 12})
    campaign_plan(campaign=evening_campaign, now=NOON)
    morning = (NOON + timedelta(days=1)).replace(hour=9)
    OutboxMessage.objects.update(due_at=morning)
    outbox_dispatch(now=morning)
    statuses = Counter(OutboxMessage.objects.values_list("send_arm", "status"))
    assert set(statuses) == {("treatment", "sent"), ("control", "pending")}  # control waits for 18:00
    control = OutboxMessage.objects.filter(send_arm="control").first()
    assert control.hold_reason == "quiet_hours" and control.due_at == morning.replace(hour=18)
    message = Message.objects.first()
    assert message.context["send_arm"] == "treatment"


def test_replies_and_conversions_count_for_the_arm_the_contact_was_sent(
    evening_campaign, django_capture_on_commit_callbacks
):
    test = send_test(evening_campaign, {}, {"window_start_hour": 8, "window_end_hour": 12})
    test.secondary_metrics = ["conversion"]
    test.save(update_fields=["secondary_metrics"])
    campaign_plan(campaign=evening_campaign, now=NOON)
    morning = (NOON + timedelta(days=1)).replace(hour=9)
    OutboxMessage.objects.update(due_at=morning)
    outbox_dispatch(now=morning)
    message = Message.objects.first()
    engagement_record(message=message, kind=MessageEventKind.REPLIED, occurred_at=morning)
    engagement_record(message=message, kind=MessageEventKind.REPLIED, occurred_at=morning)  # counted once
    with django_capture_on_commit_callbacks(execute=True):
        conversion_record(
            external_id="order-1", type="purchase", contact_id=message.contact_id, value=10, occurred_at=morning
        )
    metrics = set(ABTestUnitMetric.objects.filter(test=test).values_list("unit_id", "metric", "variant__key"))
    unit = f"contact:{message.contact_id}"
    assert metrics == {(unit, "reply", "treatment"), (unit, "conversion", "treatment")}


def test_after_a_rollout_everyone_sends_as_the_winner_and_nobody_more_is_exposed(evening_campaign):
    test = send_test(evening_campaign, {}, {"window_start_hour": 8, "window_end_hour": 12})
    abtest_roll_out(test=test, variant=test.variants.get(key="treatment"))
    campaign_plan(campaign=evening_campaign, now=NOON)
    rows = list(OutboxMessage.objects.select_related("contact"))
    assert len(rows) == 200 and {r.send_arm for r in rows} == {""} and {local_hour(r) for r in rows} == {8}
    assert not ABTestExposure.objects.filter(test=test).exists()


def test_a_draft_or_stopped_experiment_changes_nothing(evening_campaign):
    send_test(evening_campaign, {}, {"window_start_hour": 8, "window_end_hour": 12}, start=False)
    campaign_plan(campaign=evening_campaign, now=NOON)
    assert set(OutboxMessage.objects.values_list("send_arm", flat=True)) == {""}
    assert {local_hour(r) for r in OutboxMessage.objects.select_related("contact")} <= set(range(18, 22))


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ({"window_start_hour": 12, "window_end_hour": 8}, "0 <= window_start_hour < window_end_hour <= 24"),
        ({"window_start_hour": 8}, "give both"),
        ({"send_weekdays": [7]}, "distinct weekdays"),
        ({"send_weekdays": [1, 1]}, "distinct weekdays"),
        ({"channel": "pigeon"}, "unknown channel"),
        ({"subject": "Hi"}, "not ['subject']"),
    ],
)
def test_a_send_experiment_with_a_wrong_arm_does_not_start(evening_campaign, content, error):
    test = send_test(evening_campaign, {}, content, start=False)
    with pytest.raises(ValidationError, match=error.replace("[", r"\[").replace("]", r"\]")):
        abtest_start(test=test)


def test_send_instant_skips_days_that_are_not_sending_days_dst_exact():
    # Saturday 2026-10-24 22:00 UTC; New York's DST ends on Sunday 2026-11-01.
    now = datetime(2026, 10, 31, 12, 0, tzinfo=timezone.UTC)  # Saturday
    due = send_instant(tzname="America/New_York", hour=10, start=9, end=17, now=now, days=frozenset({0}))
    assert due == datetime(2026, 11, 2, 15, 0, tzinfo=timezone.UTC)  # Monday 10:00 EST (UTC-5)
    assert in_quiet_hours(tzname="UTC", start=9, end=17, now=now, days=frozenset({0}))
    assert not in_quiet_hours(tzname="UTC", start=9, end=17, now=now, days=frozenset({5}))
    same_day = send_instant(tzname="UTC", hour=14, start=9, end=17, now=now, days=frozenset({5}))
    assert same_day == now.replace(hour=14)


def test_the_campaign_page_shows_the_send_experiment_and_results_per_arm(client, evening_campaign):
    from django.urls import reverse

    from madansara.roles import ROLE_MARKETER
    from madansara.tests.factories import make_user

    send_test(evening_campaign, {}, {"window_start_hour": 8, "window_end_hour": 12, "send_weekdays": [0, 4]})
    campaign_plan(campaign=evening_campaign, now=NOON)
    OutboxMessage.objects.update(due_at=NOON.replace(hour=19))
    outbox_dispatch(now=NOON.replace(hour=19))  # a Wednesday evening: only the control arm goes out
    client.force_login(make_user(ROLE_MARKETER))
    page = client.get(reverse("admin:outreach_outreachcampaign_change", args=[evening_campaign.pk])).content.decode()
    assert "Send experiment <strong>send-" in page and "(send time (window or weekdays)): running" in page
    assert "control: as the campaign; treatment: 08-12 h Mon, Fri" in page
    assert "<th>send arm</th>" in page and "<td>control</td>" in page and "<td>treatment</td>" not in page


def test_the_api_attaches_only_a_send_time_or_channel_experiment(evening_campaign):
    from rest_framework.test import APIClient

    from madansara.roles import ROLE_MARKETER
    from madansara.tests.factories import make_user

    api = APIClient()
    api.force_authenticate(make_user(ROLE_MARKETER))
    url = f"/api/v1/campaigns/{evening_campaign.pk}"
    subject = abtest_create(key="subject", name="s", surface=Surface.EMAIL_SUBJECT, primary_metric="open",
                            variants=[{"key": "a", "is_control": True}, {"key": "b"}])  # fmt: skip
    refused = api.patch(url, {"send_test": subject.pk}, format="json")
    assert refused.status_code == 400 and "send_test" in refused.json()["error"]["details"]
    timing = send_test(evening_campaign, {}, {"window_start_hour": 8, "window_end_hour": 12}, start=False)
    evening_campaign.send_test = None
    evening_campaign.save()
    accepted = api.patch(url, {"send_test": timing.pk}, format="json")
    assert accepted.status_code == 200 and accepted.json()["send_test"] == timing.pk
