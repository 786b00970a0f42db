"""The engine on the database: learning practices from sends, their lifecycle, recommendations
turned into experiments, the test scheduler, and reviewer guidance for the draft composer."""

import random
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from abtesting.models import ABTest, ABTestStatus, Surface
from abtesting.services import abtest_create, abtest_start
from bestpractices import selectors, services
from bestpractices.models import (
    BestPractice,
    DraftEditPattern,
    PatternRun,
    PracticeStatus,
    ProposalStatus,
    ProposedTest,
    RecommendationStatus,
)
from madansara.channels.models import Message, MessageEvent, MessageEventKind
from madansara.guidance import draft_guidance
from madansara.tests.factories import make_contact
from outreach.models import CampaignStep, ChannelTemplate, OutreachCampaign, Segment

pytestmark = pytest.mark.django_db


def seed_sends(n=3000, *, question_open=0.45, plain_open=0.2, seed=0):
    """Email campaign sends ten days old: question subjects are opened more often."""
    rng = random.Random(seed)
    contacts = [make_contact(name=f"Ana{i} Doe", timezone="America/New_York") for i in range(20)]
    sent = timezone.now() - timedelta(days=10)
    messages = []
    for i in range(n):
        question = i % 2 == 0
        opened = rng.random() < (question_open if question else plain_open)
        messages.append(
            Message(
                channel="email",
                contact=contacts[i % 20],
                to="x@example.com",
                source="campaign",
                subject="Ready for spring?" if question else "Spring is here.",
                text="New arrivals for you.",
                context={"campaign_id": 1 + i % 3, "variant": ""},
                sent_at=sent + timedelta(minutes=i),
                delivered_at=sent,
                opened_at=sent if opened else None,
            )
        )
    Message.objects.bulk_create(messages)
    MessageEvent.objects.create(message=messages[1], kind=MessageEventKind.UNSUBSCRIBED)
    return messages


def row(**fields):
    base = {
        "feature": "subject_question", "value": True, "baseline": False, "outcome": "opened", "lift": 0.3,
        "ci_low": 0.2, "ci_high": 0.4, "n": 1000, "n_baseline": 1000, "significant": True, "p_value": 1e-6,
        "evidence": {"sends": 1000, "campaigns": 3, "experiments": 0},
    }  # fmt: skip
    return base | fields


def test_sends_in_the_database_become_engine_records_in_the_contacts_zone():
    seed_sends(4)
    records = list(selectors.sends_as_records())
    assert len(records) == 4
    first = records[0]
    assert first["sent_at"].endswith(("-04:00", "-05:00"))  # New York, not UTC
    assert first["contact"]["first_name"] == "Ana0"
    assert set(first["outcomes"]) == {"delivered", "opened", "clicked", "unsubscribed", "complained"}
    assert records[1]["outcomes"]["unsubscribed"] is True
    assert "replied" not in first["outcomes"]  # email cannot tell: not measured


def test_sends_younger_than_the_settling_time_are_left_out():
    seed_sends(4)
    Message.objects.update(sent_at=timezone.now() - timedelta(hours=5))
    assert list(selectors.sends_as_records()) == []


def test_learning_from_sends_makes_a_candidate_practice_with_evidence():
    seed_sends()
    run = services.practices_learn()
    assert run.n_sends == 3000
    practice = BestPractice.objects.get(feature="subject_question", value="true", outcome="opened", is_current=True)
    assert practice.status == PracticeStatus.CANDIDATE and practice.significant
    assert 0.6 < practice.lift < 1.7 and practice.ci_low > 0
    assert practice.evidence["sends"] == 1500 and practice.evidence["campaigns"] == 3
    assert practice.run == run


def test_a_new_estimate_is_a_new_version_and_a_contradiction_retires_the_practice():
    first = PatternRun.objects.create()
    services.practices_update(run=first, rows=[row()])
    second = PatternRun.objects.create()
    services.practices_update(run=second, rows=[row(lift=0.25, ci_low=0.1, ci_high=0.4)])
    v1, v2 = BestPractice.objects.order_by("version")
    assert (v1.is_current, v2.is_current, v2.version, v2.status) == (False, True, 2, PracticeStatus.CANDIDATE)
    third = PatternRun.objects.create()
    services.practices_update(run=third, rows=[row(lift=-0.2, ci_low=-0.3, ci_high=-0.1)])
    current = BestPractice.objects.get(is_current=True)
    assert current.version == 3 and current.status == PracticeStatus.RETIRED
    assert "contradicted" in current.status_reason
    assert BestPractice.objects.count() == 3


def test_a_pattern_that_is_not_significant_does_not_become_a_practice():
    services.practices_update(run=PatternRun.objects.create(), rows=[row(significant=False, ci_low=-0.1)])
    assert not BestPractice.objects.exists()


def give_reach(template, sends):
    """The template is in a campaign that sent `sends` messages in the last week."""
    segment, _ = Segment.objects.get_or_create(name="All")
    campaign = OutreachCampaign.objects.create(name=f"C {template.name}", segment=segment)
    CampaignStep.objects.create(campaign=campaign, position=1, channel=template.channel).templates.add(template)
    sent = timezone.now() - timedelta(days=2)
    Message.objects.bulk_create(
        Message(channel=template.channel, to="x@example.com", source="campaign", context={"campaign_id": campaign.pk},
                created_at=sent)
        for _ in range(sends)
    )  # fmt: skip


@pytest.fixture
def practice():
    services.practices_update(run=PatternRun.objects.create(), rows=[row()])
    return BestPractice.objects.get()


@pytest.fixture
def template():
    template = ChannelTemplate.objects.create(name="Spring", channel="email", subject="Spring is here.", text="Hello")
    give_reach(template, 10)
    return template


def test_a_recommendation_becomes_a_draft_experiment_whose_variant_carries_the_change(practice, template):
    (recommendation,) = services.recommendations_refresh(template=template)
    assert recommendation.change == {"field": "subject", "from": "Spring is here.", "to": "Spring is here?"}
    assert recommendation.expected_lift == pytest.approx(0.3)
    test = services.recommendation_create_test(recommendation=recommendation)
    assert test.status == ABTestStatus.DRAFT and test.surface == Surface.EMAIL_SUBJECT
    assert test.primary_metric == "open" and test.channel == "email"
    variants = {v.key: (v.is_control, v.content) for v in test.variants.all()}
    assert variants == {
        "control": (True, {"subject": "Spring is here."}),
        "treatment": (False, {"subject": "Spring is here?"}),
    }
    assert "1000 sends, 3 campaigns" in test.hypothesis
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.TESTING and recommendation.experiment == test


def test_templates_that_already_follow_a_practice_get_no_recommendation(practice):
    asking = ChannelTemplate.objects.create(name="Asking", channel="email", subject="Ready?", text="Hi")
    assert services.recommendations_refresh(template=asking) == []


@pytest.mark.parametrize(
    ("winner", "status"), [("treatment", PracticeStatus.CONFIRMED), ("control", PracticeStatus.RETIRED)]
)
def test_the_experiments_winner_confirms_or_retires_the_practice(practice, template, winner, status):
    (recommendation,) = services.recommendations_refresh(template=template)
    test = services.recommendation_create_test(recommendation=recommendation)
    ABTest.objects.filter(pk=test.pk).update(status=ABTestStatus.STOPPED, winner=test.variants.get(key=winner))
    assert services.experiments_review() == 1
    current = BestPractice.objects.get(is_current=True)
    assert current.status == status and current.experiment_id == test.pk
    assert services.experiments_review() == 0  # decided once


def test_the_scheduler_proposes_one_test_per_audience_and_surface_within_the_budget(practice, template):
    services.practices_update(
        run=PatternRun.objects.create(), rows=[row(feature="subject_emoji", lift=0.5, ci_low=0.1, ci_high=0.9)]
    )
    other = ChannelTemplate.objects.create(name="Other", channel="email", subject="Autumn.", text="Hi")
    give_reach(other, 20)
    for each in (template, other):
        services.recommendations_refresh(template=each)
    with override_settings(BESTPRACTICES_WEEKLY_TESTS=5):
        proposals = services.tests_schedule()
    assert sorted(p.audience for p in proposals) == sorted([f"template:{template.pk}", f"template:{other.pk}"])
    assert all(p.status == ProposalStatus.PROPOSED for p in proposals)
    with override_settings(BESTPRACTICES_WEEKLY_TESTS=5):
        assert services.tests_schedule() == []  # the audiences are taken until the proposals are decided


def test_the_scheduler_respects_the_weekly_budget_and_ranks_by_expected_value(practice, template):
    other = ChannelTemplate.objects.create(name="Other", channel="email", subject="Autumn.", text="Hi")
    services.recommendations_refresh(template=template)
    services.recommendations_refresh(template=other)
    give_reach(other, 50)
    with override_settings(BESTPRACTICES_WEEKLY_TESTS=1):
        (proposal,) = services.tests_schedule()
    assert proposal.audience == f"template:{other.pk}" and proposal.reach == 50
    assert proposal.expected_value == pytest.approx((0.4 - 0.2) * 50 * 0.3)


def test_the_scheduler_skips_an_audience_a_running_experiment_already_tests(practice, template):
    services.recommendations_refresh(template=template)
    running = abtest_create(
        key="subject-running", name="running", surface=Surface.EMAIL_SUBJECT, primary_metric="open", channel="email",
        variants=[{"key": "a", "is_control": True, "weight": 1}, {"key": "b", "is_control": False, "weight": 1}],
    )  # fmt: skip
    abtest_start(test=running)
    assert services.tests_schedule() == []


@override_settings(BESTPRACTICES_AUTOSTART=True)
def test_where_the_policy_allows_the_scheduler_starts_the_test(practice, template):
    services.recommendations_refresh(template=template)
    (proposal,) = services.tests_schedule()
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.STARTED
    assert ABTest.objects.get().status == ABTestStatus.RUNNING


def test_approving_a_proposal_makes_the_draft_experiment_once(practice, template):
    services.recommendations_refresh(template=template)
    (proposal,) = services.tests_schedule()
    test = services.proposal_approve(proposal=proposal)
    assert test.status == ABTestStatus.DRAFT
    with pytest.raises(Exception, match="Only a proposed test"):
        services.proposal_approve(proposal=ProposedTest.objects.get())


def test_reviewer_guidance_reaches_the_draft_composer_through_madansara_guidance():
    DraftEditPattern.objects.create(
        intent="pricing", channel="email", language="es", drafts=20, edited=12, suggested_max_length=240,
        notes=["Write in the customer's language (es): 4 earlier drafts were not."],
    )  # fmt: skip
    guidance = draft_guidance(intent="pricing", channel="email", language="es")
    assert guidance.notes == ["Write in the customer's language (es): 4 earlier drafts were not."]
    assert guidance.max_length == 240
    assert draft_guidance(intent="pricing", channel="sms", language="en").max_length == 240  # falls back to the intent
    assert not draft_guidance(intent="shipping", channel="email", language="es")


def test_prediction_for_a_template_uses_the_latest_run(template):
    seed_sends()
    services.practices_learn()
    asking = selectors.prediction_for(channel="email", subject="Ready?", body="Hi", audience=[{}])
    stating = selectors.prediction_for(channel="email", subject="Ready.", body="Hi", audience=[{}])
    assert asking["opened"] > stating["opened"] + 0.1
    assert selectors.prediction_for_template(template=template)["opened"] == pytest.approx(stating["opened"], abs=0.02)
