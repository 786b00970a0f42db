"""Send-time and channel recommendations on campaigns: learnt from sends, made where the campaign
does not follow them yet, and turned in one click into a draft change a marketer approves (or a
send experiment: test_campaign_experiments.py)."""

import random
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from bestpractices import campaigns, services
from bestpractices.advice import best_move, window_hours
from bestpractices.models import (
    BestPractice,
    CampaignChange,
    CampaignChangeStatus,
    PatternRun,
    Recommendation,
    RecommendationStatus,
)
from madansara.channels.models import Message
from madansara.contacts.models import Contact
from madansara.roles import ROLE_AGENT, ROLE_MARKETER
from madansara.tests.factories import make_user
from outreach.models import CampaignStep, ChannelTemplate, OutreachCampaign, Segment

pytestmark = pytest.mark.django_db


def seed_sends(n=2400, seed=0):
    """SMS and WhatsApp sends ten days old, half at 09:00 and half at 19:00 local (UTC contacts):
    replies double in the morning and double on WhatsApp (crossed, so neither hides the other)."""
    rng = random.Random(seed)
    contacts = Contact.objects.bulk_create(Contact(name=f"Ana{i} Doe") for i in range(40))
    day = (timezone.now() - timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)
    messages = []
    for i in range(n):
        morning, whatsapp = i % 2 == 0, (i // 2) % 2 == 0
        sent = day + timedelta(hours=9 if morning else 19, seconds=i)
        replied = rng.random() < 0.1 * (2 if morning else 1) * (2 if whatsapp else 1)
        messages.append(
            Message(channel="whatsapp" if whatsapp else "sms", contact=contacts[i % 40], to="+15550100",
                    source="campaign", text="Spring sale: 20% off", context={"campaign_id": 1 + i % 3},
                    sent_at=sent, delivered_at=sent, replied_at=sent if replied else None)
        )  # fmt: skip
    Message.objects.bulk_create(messages)


def make_campaign(name, *, window, channel):
    segment, _ = Segment.objects.get_or_create(name="All")
    campaign = OutreachCampaign.objects.create(
        name=name, segment=segment, window_start_hour=window[0], window_end_hour=window[1]
    )
    template = ChannelTemplate.objects.create(name=f"{name} text", channel=channel, text="Spring sale: 20% off")
    CampaignStep.objects.create(campaign=campaign, position=1, channel=channel).templates.add(template)
    return campaign


@pytest.fixture
def learnt():
    seed_sends()
    evening = make_campaign("Evening SMS", window=(18, 22), channel="sms")
    morning = make_campaign("Morning WhatsApp", window=(8, 12), channel="whatsapp")
    services.practices_learn()
    return evening, morning


def open_for(campaign):
    rows = Recommendation.objects.filter(campaign=campaign, status=RecommendationStatus.OPEN)
    return {r.change["field"]: r for r in rows.select_related("practice")}


def test_morning_beating_evening_makes_a_send_time_recommendation_for_the_evening_campaign_only(learnt):
    evening, morning = learnt
    practices = {(p.feature, p.value) for p in BestPractice.objects.filter(is_current=True, outcome="replied")}
    assert practices & {("send_hour_local", "morning"), ("send_hour_local", "evening")}
    advice = open_for(evening)
    send_time = advice["send_window"]
    assert send_time.change["from"] == {"window_start_hour": 18, "window_end_hour": 22}
    assert send_time.change["to"] == {"window_start_hour": 8, "window_end_hour": 12}
    assert send_time.practice.outcome == "replied" and send_time.practice.feature == "send_hour_local"
    assert 0.5 < send_time.expected_lift < 1.6  # planted: twice the replies
    evidence = send_time.change["evidence"]
    assert evidence["ci_low"] > 0 and evidence["sends"] == 2400
    assert send_time.title.startswith("Send in the morning (08-12 h local), not in the evening: replied +")
    assert "2,400 sends" in send_time.title
    assert open_for(morning) == {}  # already sends in the morning, on WhatsApp


def test_whatsapp_beating_sms_makes_a_channel_recommendation_for_the_sms_step(learnt):
    evening, _ = learnt
    channel = open_for(evening)["channel"]
    step = evening.steps.get()
    assert channel.change | {"evidence": None} == {
        "field": "channel", "steps": [step.pk], "from": "sms", "to": "whatsapp", "evidence": None,
    }  # fmt: skip
    assert 0.5 < channel.expected_lift < 1.6
    assert channel.title.startswith("Use WhatsApp instead of SMS (step 1): replied +")


def test_accepting_the_send_time_recommendation_drafts_the_window_change_a_marketer_approves(learnt):
    evening, _ = learnt
    recommendation = open_for(evening)["send_window"]
    draft = campaigns.recommendation_draft_change(recommendation=recommendation)
    assert (draft.field, draft.status) == ("send_window", CampaignChangeStatus.DRAFT)
    assert draft.before == {"window_start_hour": 18, "window_end_hour": 22}
    assert draft.after == {"window_start_hour": 8, "window_end_hour": 12}
    evening.refresh_from_db()
    assert (evening.window_start_hour, evening.window_end_hour) == (18, 22)  # nothing changes before approval
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.DRAFTED

    campaigns.campaign_change_approve(change=draft)
    evening.refresh_from_db()
    assert (evening.window_start_hour, evening.window_end_hour) == (8, 12)
    draft.refresh_from_db()
    recommendation.refresh_from_db()
    assert draft.status == CampaignChangeStatus.APPLIED and recommendation.status == RecommendationStatus.APPLIED
    with pytest.raises(ValidationError, match="Only a draft"):
        campaigns.campaign_change_approve(change=draft)
    # learning again: the campaign now follows the practice
    assert "send_window" not in {
        r.change["field"] for r in campaigns.campaign_recommendations_refresh(campaign=evening)
    }


def test_accepting_the_channel_recommendation_moves_the_step_once_approved(learnt):
    evening, _ = learnt
    step = evening.steps.get()
    draft = campaigns.recommendation_draft_change(recommendation=open_for(evening)["channel"])
    assert draft.before == {"channel": "sms", "steps": [step.pk]}
    assert draft.after == {"channel": "whatsapp", "steps": [step.pk]}
    step.refresh_from_db()
    assert step.channel == "sms"
    campaigns.campaign_change_approve(change=draft)
    step.refresh_from_db()
    assert step.channel == "whatsapp" and step.fallback_channels == ["sms"]
    copy = step.templates.get(channel="whatsapp")
    assert copy.text == "Spring sale: 20% off" and copy.name == "Evening SMS text (whatsapp)"


def test_a_draft_made_stale_by_an_edit_is_not_applied(learnt):
    evening, _ = learnt
    draft = campaigns.recommendation_draft_change(recommendation=open_for(evening)["send_window"])
    OutreachCampaign.objects.filter(pk=evening.pk).update(window_start_hour=17)
    with pytest.raises(ValidationError, match="changed since"):
        campaigns.campaign_change_approve(change=draft)
    campaigns.campaign_change_reject(change=draft)
    assert CampaignChange.objects.get().status == CampaignChangeStatus.REJECTED


def practice(value, lift, ci, *, significant=True, baseline="afternoon", outcome="opened"):
    return BestPractice(feature="send_hour_local", value=value, baseline=baseline, outcome=outcome, lift=lift,
                        ci_low=ci[0], ci_high=ci[1], n=500, significant=significant,
                        evidence={"n_baseline": 700})  # fmt: skip


def test_a_move_is_read_against_the_baseline_or_from_the_current_values_own_loss():
    evening_loses = [practice("evening", -0.5, (-0.6, -0.4), baseline="morning")]
    move = best_move(evening_loses, current="evening", targets=["morning", "afternoon", "evening"])
    assert move.target == "morning" and move.lift == pytest.approx(1.0)  # 1 / (1 - 0.5) - 1
    assert (move.ci_low, move.ci_high) == (pytest.approx(1 / 0.6 - 1), pytest.approx(1 / 0.4 - 1))
    assert move.versus == "evening" and move.sends == 1200
    assert best_move(evening_loses, current="morning", targets=["morning", "evening"]) is None

    morning_wins = [practice("morning", 0.3, (0.1, 0.5)), practice("evening", 0.1, (-0.1, 0.3), significant=False)]
    move = best_move(morning_wins, current="evening", targets=["morning", "afternoon"])
    assert move.target == "morning" and move.lift == pytest.approx(1.3 / 1.1 - 1) and move.versus == "afternoon"
    assert best_move(morning_wins, current="morning", targets=["morning", "afternoon"]) is None
    fewer_unsubscribes = [practice("evening", 0.4, (0.2, 0.6), baseline="morning", outcome="unsubscribed")]
    assert best_move(fewer_unsubscribes, current="evening", targets=["morning"]).lift == pytest.approx(1 / 1.4 - 1)


def test_a_window_is_read_as_the_part_of_the_day_most_of_its_hours_fall_in():
    """The earlier part on a tie: a round-the-clock window counts as night."""
    assert [window_hours(*w) for w in [(18, 22), (8, 12), (9, 20), (0, 24), (10, 14)]] == [
        "evening", "morning", "afternoon", "night", "morning",
    ]  # fmt: skip


MORNING_ROW = {
    "feature": "send_hour_local", "value": "morning", "baseline": "afternoon", "outcome": "opened", "lift": 0.4,
    "ci_low": 0.2, "ci_high": 0.6, "n": 1000, "n_baseline": 900, "significant": True, "p_value": 1e-6,
    "evidence": {"sends": 1000, "campaigns": 3, "experiments": 0},
}  # fmt: skip


@pytest.fixture
def evening_campaign():
    services.practices_update(run=PatternRun.objects.create(), rows=[MORNING_ROW])
    campaign = make_campaign("Evening", window=(18, 22), channel="sms")
    campaigns.campaign_recommendations_refresh(campaign=campaign)
    return campaign


def test_the_api_lists_a_campaigns_send_time_advice_and_drafts_and_applies_it(evening_campaign):
    client = APIClient()
    client.force_authenticate(make_user(ROLE_MARKETER))
    (listed,) = client.get("/api/v1/recommendations", {"campaign": evening_campaign.pk}).json()["results"]
    assert listed["change"]["to"] == {"window_start_hour": 8, "window_end_hour": 12}
    assert listed["title"].startswith("Send in the morning") and "1,900 sends" in listed["title"]
    drafted = client.post(f"/api/v1/recommendations/{listed['id']}/draft-change")
    assert drafted.status_code == 201 and drafted.json()["status"] == "draft"
    approved = client.post(f"/api/v1/campaign-changes/{drafted.json()['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "applied"
    evening_campaign.refresh_from_db()
    assert (evening_campaign.window_start_hour, evening_campaign.window_end_hour) == (8, 12)


def test_agents_cannot_draft_or_approve_campaign_changes(evening_campaign):
    client = APIClient()
    client.force_authenticate(make_user(ROLE_AGENT))
    recommendation = Recommendation.objects.get(campaign=evening_campaign)
    assert client.post(f"/api/v1/recommendations/{recommendation.pk}/draft-change").status_code == 403
    assert not CampaignChange.objects.exists()


def test_the_campaign_page_shows_the_advice_and_one_click_drafts_the_change(client, evening_campaign):
    client.force_login(make_user(ROLE_MARKETER))
    page = client.get(reverse("admin:outreach_outreachcampaign_change", args=[evening_campaign.pk]))
    assert page.status_code == 200 and "Send in the morning (08-12 h local)" in page.content.decode()
    listing = client.get(reverse("admin:bestpractices_recommendation_changelist"))
    assert b"Draft change" in listing.content
    recommendation = Recommendation.objects.get(campaign=evening_campaign)
    response = client.post(reverse("admin:bestpractices_recommendation_draft_change", args=[recommendation.pk]))
    assert response.status_code == 302
    change = CampaignChange.objects.get()
    assert change.after == {"window_start_hour": 8, "window_end_hour": 12} and change.is_draft
    assert client.get(reverse("admin:bestpractices_campaignchange_changelist")).status_code == 200
