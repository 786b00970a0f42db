"""Send-time, weekday and channel recommendations become experiments (issue #17): one click makes a
draft send experiment on the campaign whose treatment arm carries the change, the planner sends
each arm under its own settings, the scheduler proposes such tests within the weekly budget, and
a win confirms the practice. Weekday recommendations come from the `weekday` practices."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from abtesting.models import ABTestExposure, ABTestStatus, Surface
from abtesting.services import abtest_roll_out, abtest_start, abtest_stop
from bestpractices import campaigns, services
from bestpractices.advice import weekday_move
from bestpractices.models import (
    BestPractice,
    PatternRun,
    PracticeStatus,
    ProposalStatus,
    Recommendation,
    RecommendationStatus,
)
from madansara.channels.models import Message
from madansara.roles import ROLE_MARKETER
from madansara.tests.factories import make_user
from outreach.models import OutboxMessage
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import NOON, campaign, contact

pytestmark = pytest.mark.django_db


def row(feature, value, baseline, lift, ci, *, outcome="opened", significant=True, n=1000):
    return {
        "feature": feature, "value": value, "baseline": baseline, "outcome": outcome, "lift": lift,
        "ci_low": ci[0], "ci_high": ci[1], "n": n, "n_baseline": 900, "significant": significant,
        "p_value": 1e-6 if significant else 0.4, "evidence": {"sends": n + 900, "campaigns": 3, "experiments": 0},
    }  # fmt: skip


MORNING = row("send_hour_local", "morning", "afternoon", 0.4, (0.2, 0.6))
WHATSAPP = row("channel", "email", "sms", 0.5, (0.3, 0.7), outcome="replied")
WEEKEND_WORSE = [
    row("weekday", "sat", "mon", -0.3, (-0.4, -0.2)),
    row("weekday", "sun", "mon", -0.25, (-0.35, -0.15)),
]


def learn(*rows):
    services.practices_update(run=PatternRun.objects.create(), rows=list(rows))


@pytest.fixture
def evening():
    """A running SMS campaign sending 18-22 h to 200 contacts reachable by SMS and e-mail."""
    people = [contact(channels=("sms", "email")) for _ in range(200)]
    camp = campaign(contacts=people, window_start_hour=18, window_end_hour=22, sto_enabled=False,
                    steps=[{"kind": "send", "channel": "sms"}])  # fmt: skip
    return camp


def open_for(camp):
    rows = Recommendation.objects.filter(campaign=camp, status=RecommendationStatus.OPEN)
    return {r.change["field"]: r for r in rows.select_related("practice")}


def test_a_send_time_recommendation_becomes_a_send_experiment_the_planner_runs(evening):
    learn(MORNING)
    campaigns.campaign_recommendations_refresh(campaign=evening)
    recommendation = open_for(evening)["send_window"]
    test = services.recommendation_create_test(recommendation=recommendation)
    assert (test.status, test.surface, test.primary_metric) == (ABTestStatus.DRAFT, Surface.SEND_TIME, "open")
    arms = {v.key: (v.is_control, v.content) for v in test.variants.all()}
    assert arms == {
        "control": (True, {"window_start_hour": 18, "window_end_hour": 22}),
        "treatment": (False, {"window_start_hour": 8, "window_end_hour": 12}),
    }
    assert "send_hour_local = morning changes opened by +40.0%" in test.hypothesis
    evening.refresh_from_db()
    recommendation.refresh_from_db()
    assert evening.send_test == test and recommendation.status == RecommendationStatus.TESTING
    assert (evening.window_start_hour, evening.window_end_hour) == (18, 22)  # the campaign itself is unchanged

    abtest_start(test=test)
    campaign_plan(campaign=evening, now=NOON)
    rows = list(OutboxMessage.objects.select_related("contact"))
    hours = {(r.send_arm, r.due_at.astimezone(r.contact.tzinfo).hour // 4) for r in rows}
    assert hours == {("control", 18 // 4), ("control", 20 // 4), ("treatment", 8 // 4)}
    assert ABTestExposure.objects.filter(test=test).count() == 200

    # the treatment wins: the practice is confirmed, the winner sends for everyone
    abtest_roll_out(test=test, variant=test.variants.get(key="treatment"))
    assert services.experiments_review() == 1
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.WON
    assert BestPractice.objects.get(is_current=True).status == PracticeStatus.CONFIRMED


def test_a_channel_recommendation_becomes_a_channel_experiment(evening):
    learn(WHATSAPP)
    campaigns.campaign_recommendations_refresh(campaign=evening)
    recommendation = open_for(evening)["channel"]
    step = evening.steps.get()
    assert recommendation.change["from"] == "sms" and recommendation.change["to"] == "email"
    test = services.recommendation_create_test(recommendation=recommendation)
    assert test.surface == Surface.CHANNEL
    assert test.variants.get(key="treatment").content == {"channel": "email", "steps": [step.pk]}
    copy = step.templates.get(channel="email")  # the e-mail arm's copy of the SMS text (with a subject)
    assert copy.text == step.templates.get(channel="sms").text and copy.subject
    abtest_start(test=test)
    campaign_plan(campaign=evening, now=NOON)
    assert set(Counter(OutboxMessage.objects.values_list("send_arm", "channel"))) == {
        ("control", "sms"), ("treatment", "email"),
    }  # fmt: skip
    step.refresh_from_db()
    assert step.channel == "sms"


def test_a_campaign_runs_one_send_experiment_at_a_time(evening):
    learn(MORNING, WHATSAPP)
    campaigns.campaign_recommendations_refresh(campaign=evening)
    advice = open_for(evening)
    test = services.recommendation_create_test(recommendation=advice["send_window"])
    with pytest.raises(ValidationError, match="already has a send experiment"):
        services.recommendation_create_test(recommendation=advice["channel"])
    assert open_for(evening)["channel"].status == RecommendationStatus.OPEN  # nothing half-written
    abtest_start(test=test)
    abtest_stop(test=test)
    assert services.recommendation_create_test(recommendation=advice["channel"]).surface == Surface.CHANNEL


def test_a_stale_recommendation_is_not_tested(evening):
    learn(MORNING)
    campaigns.campaign_recommendations_refresh(campaign=evening)
    evening.window_start_hour = 17
    evening.save()
    with pytest.raises(ValidationError, match="changed since"):
        services.recommendation_create_test(recommendation=open_for(evening)["send_window"])


def test_weekend_days_doing_worse_make_a_weekday_recommendation(evening):
    learn(*WEEKEND_WORSE)
    campaigns.campaign_recommendations_refresh(campaign=evening)
    recommendation = open_for(evening)["send_weekdays"]
    assert recommendation.change["from"] == {"send_weekdays": []}
    assert recommendation.change["to"] == {"send_weekdays": [0, 1, 2, 3, 4]}
    assert recommendation.expected_lift == pytest.approx(1 / (6.45 / 7) - 1)  # five days at 1 vs 0.7 and 0.75
    assert recommendation.title == (  # the strongest evidence behind it: Saturday's estimate
        "Send on Mon–Fri, not every day: opened +9% (Sat -30% vs Mon, CI -40% to -20%, 1,900 sends)"
    )

    test = services.recommendation_create_test(recommendation=recommendation)
    assert test.variants.get(key="treatment").content == {"send_weekdays": [0, 1, 2, 3, 4]}
    abtest_start(test=test)
    saturday = NOON + timedelta(days=3)
    campaign_plan(campaign=evening, now=saturday)
    days = {(r.send_arm, r.due_at.weekday()) for r in OutboxMessage.objects.all()}
    assert days == {("control", 5), ("treatment", 0)}


def test_the_weekday_move_keeps_only_better_days_when_that_gains_more():
    practices = [BestPractice(**{k: v for k, v in r.items() if k in ("feature", "value", "baseline", "outcome",
                 "lift", "ci_low", "ci_high", "n", "significant")}, evidence={}) for r in [*WEEKEND_WORSE,
                 row("weekday", "tue", "mon", 0.5, (0.3, 0.7))]]  # fmt: skip
    move, days = weekday_move(practices, current=[])
    assert days == [1] and move.lift == pytest.approx(1.5 / (6.95 / 7) - 1) and move.target == "Tue"
    assert move.said() == "opened +51% (Tue +50% vs Mon, CI +30% to +70%, 1,000 sends)"
    assert weekday_move(practices, current=[1]) is None  # already there
    # a campaign already on weekdays only: nothing to leave out, Tuesday still gains
    move, days = weekday_move(practices, current=[0, 1, 2, 3, 4])
    assert days == [1] and move.lift == pytest.approx(1.5 / 1.1 - 1)
    fewer_unsubscribes = [BestPractice(feature="weekday", value="sun", baseline="mon", outcome="unsubscribed",
                                       lift=0.6, ci_low=0.3, ci_high=0.9, n=900, significant=True, evidence={})]  # fmt: skip
    move, days = weekday_move(fewer_unsubscribes, current=[])
    assert days == [0, 1, 2, 3, 4, 5] and move.lift < 0


def test_days_are_said_with_ranges():
    from bestpractices.advice import days_said

    assert [days_said(d) for d in ([], [0, 1, 2, 3, 4], [1, 2], [0, 2, 3, 4, 6], list(range(7)))] == [
        "every day", "Mon–Fri", "Tue, Wed", "Mon, Wed–Fri, Sun", "every day",
    ]  # fmt: skip


def test_approving_a_weekday_change_sets_the_campaigns_days(evening):
    learn(*WEEKEND_WORSE)
    campaigns.campaign_recommendations_refresh(campaign=evening)
    draft = campaigns.recommendation_draft_change(recommendation=open_for(evening)["send_weekdays"])
    campaigns.campaign_change_approve(change=draft)
    evening.refresh_from_db()
    assert evening.send_weekdays == [0, 1, 2, 3, 4]
    assert "send_weekdays" not in open_for(evening) and not campaigns.campaign_recommendations_refresh(campaign=evening)


def give_campaign_reach(camp, n):
    Message.objects.bulk_create(
        Message(channel="sms", to="+15550100", source="campaign", text="x", context={"campaign_id": camp.pk},
                created_at=timezone.now() - timedelta(days=1))
        for _ in range(n)
    )  # fmt: skip


def test_the_scheduler_proposes_campaign_tests_one_per_campaign_within_the_budget(evening):
    learn(MORNING, WHATSAPP)
    other = campaign(contacts=[contact(channels=("sms",))], window_start_hour=18, window_end_hour=22,
                     steps=[{"kind": "send", "channel": "sms"}])  # fmt: skip
    give_campaign_reach(evening, 30)
    give_campaign_reach(other, 10)
    for camp in (evening, other):
        campaigns.campaign_recommendations_refresh(campaign=camp)
    with override_settings(BESTPRACTICES_WEEKLY_TESTS=5):
        proposals = services.tests_schedule()
    assert sorted((p.audience, p.reach) for p in proposals) == [(f"campaign:{evening.pk}", 30),
                                                                 (f"campaign:{other.pk}", 10)]  # fmt: skip
    (mine,) = [p for p in proposals if p.audience == f"campaign:{evening.pk}"]
    # the larger expected value first: channel (|lift| 0.5) beats send time (0.4) at the same width
    assert mine.surface == Surface.CHANNEL and mine.expected_value == pytest.approx(0.4 * 30 * 0.5)
    with override_settings(BESTPRACTICES_WEEKLY_TESTS=5):
        assert services.tests_schedule() == []  # each campaign is taken until its proposal is decided
    test = services.proposal_approve(proposal=mine, start=True)
    evening.refresh_from_db()
    assert evening.send_test == test and test.status == ABTestStatus.RUNNING
    mine.refresh_from_db()
    assert mine.status == ProposalStatus.STARTED


def test_the_scheduler_skips_a_campaign_whose_send_experiment_runs(evening):
    learn(MORNING, WHATSAPP)
    give_campaign_reach(evening, 30)
    campaigns.campaign_recommendations_refresh(campaign=evening)
    abtest_start(test=services.recommendation_create_test(recommendation=open_for(evening)["channel"]))
    assert services.tests_schedule() == []


def test_the_api_and_the_admin_offer_both_a_test_and_a_change_for_campaign_advice(client, evening):
    learn(MORNING)
    campaigns.campaign_recommendations_refresh(campaign=evening)
    recommendation = open_for(evening)["send_window"]
    marketer = make_user(ROLE_MARKETER)
    client.force_login(marketer)
    listing = client.get(reverse("admin:bestpractices_recommendation_changelist")).content.decode()
    assert "Create test" in listing and "Draft change" in listing
    api = APIClient()
    api.force_authenticate(marketer)
    made = api.post(f"/api/v1/recommendations/{recommendation.pk}/create-test")
    assert made.status_code == 201, made.content
    evening.refresh_from_db()
    assert made.json() == {"experiment": evening.send_test.key}
    assert api.get(f"/api/v1/campaigns/{evening.pk}").json()["send_test"] == evening.send_test.pk
    again = api.post(f"/api/v1/recommendations/{recommendation.pk}/create-test")
    assert again.status_code == 400


def test_the_campaign_api_takes_weekdays_and_refuses_bad_ones(evening):
    api = APIClient()
    api.force_authenticate(make_user(ROLE_MARKETER))
    url = f"/api/v1/campaigns/{evening.pk}"
    ok = api.patch(url, {"send_weekdays": [4, 0]}, format="json")
    assert ok.status_code == 200 and ok.json()["send_weekdays"] == [0, 4]
    for bad in ([7], [1, 1], "mon"):
        response = api.patch(url, {"send_weekdays": bad}, format="json")
        assert response.status_code == 400 and "send_weekdays" in response.json()["error"]["details"], bad
    evening.refresh_from_db()
    assert evening.send_weekdays == [0, 4]
