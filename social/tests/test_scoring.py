"""Engagement score decay arithmetic and advocate tiers (the SQL against a Python re-computation)."""

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from madansara.channels.models import Message, MessageEvent
from madansara.contacts.models import Contact
from madansara.tests.factories import make_user
from social.models import AdvocateTier, EngagementWeight, ReviewStatus, SocialAccount, SocialAdvocate, SocialEngagement
from social.services.scoring import (
    advocates_enrol,
    advocates_recompute,
    decayed,
    engagement_scores_recompute,
)

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)
_ids = iter(range(1, 10**6))


@pytest.fixture
def account(db):
    return SocialAccount.objects.create(platform="instagram", name="IG", external_id="ig-1")


def engage(account, contact, kind, days_ago, *, sentiment="", followers=0, platform=None):
    return SocialEngagement.objects.create(
        platform=platform or account.platform,
        account=account,
        contact=contact,
        kind=kind,
        external_id=f"e{next(_ids)}",
        occurred_at=NOW - timedelta(days=days_ago),
        sentiment=sentiment,
        author_followers=followers,
    )


def test_decay_halves_each_half_life():
    assert decayed(4.0, 0, 30) == 4.0
    assert decayed(4.0, 30, 30) == pytest.approx(2.0)
    assert decayed(4.0, 90, 30) == pytest.approx(0.5)


def test_score_is_recency_weighted_by_kind(account, settings):
    settings.SOCIAL_SCORE_HALF_LIFE_DAYS = 30
    contact = Contact.objects.create(name="Ana")
    engage(account, contact, "like", 0)  # 1 point, fresh
    engage(account, contact, "share", 30)  # 5 points, one half-life old → 2.5
    engage(account, contact, "comment", 60)  # 3 points, two half-lives → 0.75
    engage(account, contact, "share", 400)  # beyond the 365-day horizon: ignored
    engage(account, contact, "like", -2)  # in the future: ignored
    engagement_scores_recompute(now=NOW)
    contact.refresh_from_db()
    assert contact.engagement_score == pytest.approx(1 + 2.5 + 0.75, abs=1e-3)


def test_responses_to_messages_on_every_channel_count_with_the_social_ones(account, settings):
    # given a contact who liked a post today, opened a campaign e-mail 30 days ago and clicked an SMS today
    settings.SOCIAL_SCORE_HALF_LIFE_DAYS = 30
    contact = Contact.objects.create(name="Carla")
    engage(account, contact, "like", 0)
    email = Message.objects.create(channel="email", contact=contact, to="c@example.com", text="Spring plans")
    sms = Message.objects.create(channel="sms", contact=contact, to="+50934123456", text="Spring plans")
    MessageEvent.objects.create(message=email, kind="sent", occurred_at=NOW - timedelta(days=31))
    MessageEvent.objects.create(message=email, kind="opened", occurred_at=NOW - timedelta(days=30))
    MessageEvent.objects.create(message=sms, kind="clicked", occurred_at=NOW)
    MessageEvent.objects.create(message=sms, kind="clicked", occurred_at=NOW + timedelta(days=1))  # future: ignored

    # when the scores are recomputed
    engagement_scores_recompute(now=NOW)

    # then like (1) + the open one half-life old (1 → 0.5) + the click (3); "sent" is no engagement
    contact.refresh_from_db()
    assert contact.engagement_score == pytest.approx(1 + 0.5 + 3, abs=1e-3)


def test_scores_decay_when_recomputed_later(account):
    contact = Contact.objects.create(name="Ben")
    engage(account, contact, "mention", 0)
    assert engagement_scores_recompute(now=NOW) == 1
    contact.refresh_from_db()
    assert contact.engagement_score == pytest.approx(4.0)
    assert engagement_scores_recompute(now=NOW) == 0  # unchanged rows are not rewritten
    engagement_scores_recompute(now=NOW + timedelta(days=30))
    contact.refresh_from_db()
    assert contact.engagement_score == pytest.approx(2.0, abs=1e-3)


def test_configurable_weights_per_platform_override_the_default(account):
    x = SocialAccount.objects.create(platform="x", name="X", external_id="x-1")
    EngagementWeight.objects.create(kind="like", platform="", weight=2.0)
    EngagementWeight.objects.create(kind="like", platform="x", weight=0.5)
    contact = Contact.objects.create(name="Cy")
    engage(account, contact, "like", 0)  # instagram like: the any-platform row → 2.0
    engage(x, contact, "like", 0)  # x like: the x row → 0.5
    engagement_scores_recompute(now=NOW)
    contact.refresh_from_db()
    assert contact.engagement_score == pytest.approx(2.5)


def test_contacts_without_recent_engagement_drop_to_zero(account):
    stale = Contact.objects.create(name="Old", engagement_score=12.0)
    bystander = Contact.objects.create(name="None")
    engage(account, stale, "share", 500)
    engagement_scores_recompute(now=NOW)
    stale.refresh_from_db()
    bystander.refresh_from_db()
    assert stale.engagement_score == 0 and bystander.engagement_score == 0


def advocate_score(positive, shares, mentions, negatives, reach):
    return (positive + 3 * shares + 3 * mentions - 2 * negatives) * (1 + math.log10(1 + reach))


def test_advocate_tiers(account):
    # a sharer with a big audience, a loyal commenter with a small one, and a one-off liker
    champion = Contact.objects.create(name="Champion")
    for _ in range(4):
        engage(account, champion, "share", 3, followers=50_000)
    engage(account, champion, "mention", 1, followers=50_000)
    advocate = Contact.objects.create(name="Advocate")
    for _ in range(3):
        engage(account, advocate, "comment", 2, sentiment="positive", followers=900)
    engage(account, advocate, "share", 2, followers=900)
    engage(account, advocate, "share", 4, followers=900)
    rising = Contact.objects.create(name="Rising")
    for _ in range(4):
        engage(account, rising, "comment", 5, sentiment="positive", followers=10)
    casual = Contact.objects.create(name="Casual")
    engage(account, casual, "comment", 1, sentiment="positive", followers=10)
    engage(account, casual, "like", 1, followers=10)
    # when tiers are recomputed
    result = advocates_recompute(now=NOW)
    # then each qualifying contact gets its score and tier; the casual one is not listed
    assert result["upserted"] == 3
    rows = {a.contact.name: a for a in SocialAdvocate.objects.select_related("contact")}
    assert set(rows) == {"Champion", "Advocate", "Rising"}
    assert rows["Champion"].score == pytest.approx(advocate_score(0, 4, 1, 0, 50_000), abs=1e-3)
    assert rows["Champion"].tier == AdvocateTier.CHAMPION
    assert rows["Advocate"].score == pytest.approx(advocate_score(3, 2, 0, 0, 900), abs=1e-3)
    assert rows["Advocate"].tier == AdvocateTier.ADVOCATE
    assert rows["Rising"].tier == AdvocateTier.RISING
    assert (rows["Champion"].shares, rows["Champion"].mentions, rows["Champion"].reach) == (4, 1, 50_000)


def test_negative_engagement_lowers_the_advocate_score(account):
    contact = Contact.objects.create(name="Mixed")
    for _ in range(3):
        engage(account, contact, "share", 1, followers=100)
    engage(account, contact, "comment", 1, sentiment="negative", followers=100)
    advocates_recompute(now=NOW)
    assert SocialAdvocate.objects.get(contact=contact).score == pytest.approx(advocate_score(0, 3, 0, 1, 100), abs=1e-3)


def test_advocates_who_stop_engaging_are_demoted_but_kept(account):
    contact = Contact.objects.create(name="Faded")
    for _ in range(3):
        engage(account, contact, "share", 100, followers=5000)  # outside the 90-day window
    SocialAdvocate.objects.create(contact=contact, score=40, tier="advocate", review_status="enrolled")
    result = advocates_recompute(now=NOW)
    faded = SocialAdvocate.objects.get(contact=contact)
    assert result["demoted"] == 1
    assert faded.tier == AdvocateTier.NONE and faded.review_status == ReviewStatus.ENROLLED


def test_recompute_keeps_the_review_status(account):
    contact = Contact.objects.create(name="Kept")
    for _ in range(3):
        engage(account, contact, "share", 1, followers=5000)
    advocates_recompute(now=NOW)
    SocialAdvocate.objects.filter(contact=contact).update(review_status="dismissed")
    advocates_recompute(now=NOW + timedelta(hours=1))
    assert SocialAdvocate.objects.get(contact=contact).review_status == "dismissed"


def test_enrol_tags_contacts_for_the_advocate_campaign(account, settings):
    settings.SOCIAL_ADVOCATE_CAMPAIGN_TAG = "advocates-q4"
    contact = Contact.objects.create(name="Fan")
    SocialAdvocate.objects.create(contact=contact, score=30, tier="advocate")
    none = SocialAdvocate.objects.create(contact=Contact.objects.create(name="Zero"), score=0, tier="none")
    count = advocates_enrol(advocates=SocialAdvocate.objects.all(), actor=make_user("Marketer"))
    assert count == 1
    assert contact.tags.filter(name="advocates-q4").exists()
    assert SocialAdvocate.objects.get(contact=contact).review_status == ReviewStatus.ENROLLED
    none.refresh_from_db()
    assert none.review_status == ReviewStatus.TO_REVIEW
