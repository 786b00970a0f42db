"""`seed_demo` builds a believable workspace, idempotently, and runs each app's demo step."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum

from madansara.contacts.demo import DEMO_CONTACTS
from madansara.contacts.models import Contact, ContactConsent, ContactIdentity

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_contacts_users_and_is_idempotent():
    out = io.StringIO()
    call_command("seed_demo", "--only", "madansara", "contacts", stdout=out)
    assert Contact.objects.count() == DEMO_CONTACTS
    assert ContactIdentity.objects.filter(channel="email").count() == DEMO_CONTACTS
    assert ContactConsent.objects.filter(status="opted_in").exists()
    assert Contact.objects.filter(lifecycle_stage="customer").exists()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("madansara")
    assert get_user_model().objects.get(username="analyst").groups.filter(name="Analyst").exists()
    call_command("seed_demo", "--only", "madansara", "contacts", stdout=out)
    assert Contact.objects.count() == DEMO_CONTACTS
    assert "demo workspace ready" in out.getvalue()


def _domain_counts() -> dict[str, int]:
    from abtesting.models import ABTest, ABTestExposure, ABTestSnapshot
    from conversion.models import AttributionCredit, ConversionEvent, CustomerTouchpoint
    from inbox.models import Conversation, ReplyDraft
    from madansara.channels.models import Message, MessageEvent
    from outreach.models import OutboxMessage, OutreachCampaign
    from social.models import SocialPost
    from website.models import FunnelAnalytics, OptimizationRecommendation, Site, WebsiteEvent, WebsiteSession

    models = [OutreachCampaign, OutboxMessage, Message, MessageEvent, Conversation, ReplyDraft, ABTest,
              ABTestExposure, ABTestSnapshot, Site, WebsiteEvent, WebsiteSession, FunnelAnalytics,
              OptimizationRecommendation, ConversionEvent, CustomerTouchpoint, AttributionCredit, SocialPost]  # fmt: skip
    return {model.__name__: model.objects.count() for model in models}


def test_seed_demo_fills_every_domain_and_a_second_run_adds_nothing(django_capture_on_commit_callbacks):
    from inbox.models import ReplyDraft
    from outreach.models import OutreachCampaign

    # given an empty workspace, when the whole demo is seeded
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    first = _domain_counts()
    # then every domain has something to show
    assert [name for name, n in first.items() if n == 0] == []
    assert set(OutreachCampaign.objects.values_list("status", flat=True)) == {"running", "draft"}
    assert first["Conversation"] == 15 and ReplyDraft.objects.filter(status="pending").count() >= 10
    # the inbox demo has a team to work it, SLA targets, and knowledge in four languages
    from inbox.models import Agent, KnowledgeSnippet, ResponseTemplate, SLAPolicy

    assert Agent.objects.count() >= 3 and SLAPolicy.objects.exists()
    assert set(KnowledgeSnippet.objects.values_list("language", flat=True)) >= {"en", "fr", "es", "ht"}
    assert set(ResponseTemplate.objects.values_list("language", flat=True)) >= {"en", "fr", "es", "ht"}
    french = ReplyDraft.objects.get(inbound__text__startswith="Bonjour, quel est le prix")
    assert french.language == "fr" and "49 USD" in french.text and french.snippets.exists()
    assert first["ConversionEvent"] == 36
    # the demo's sends carry their channel's price (seeded before them), and spend adds them up
    from outreach.demo import MESSAGE_PRICES
    from outreach.models import CampaignSpend, OutboxMessage

    sent = OutboxMessage.objects.filter(status="sent")
    assert sent.exists()
    assert {(ch, cost) for ch, cost in sent.values_list("channel", "cost")} <= {
        (ch, Decimal(price)) for ch, price in MESSAGE_PRICES.items()
    }
    assert CampaignSpend.objects.aggregate(total=Sum("cost"))["total"] == sent.aggregate(total=Sum("cost"))["total"] > 0
    # whoever opened or clicked a demo message has an engagement score in the contacts list
    responded = set(sent.filter(message__opened_at__isnull=False).values_list("contact_id", flat=True))
    scored = set(Contact.objects.filter(engagement_score__gt=0).values_list("pk", flat=True))
    assert responded and responded <= scored
    # when it runs again, nothing new is created
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    assert _domain_counts() == first
