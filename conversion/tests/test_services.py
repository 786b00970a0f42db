"""Conversion ingest, touchpoint capture, journeys with lookback edges, credit and performance."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from conversion import services
from conversion.models import (
    AttributionCredit,
    AttributionModel,
    ChannelCost,
    ChannelPerformance,
    ConversionEvent,
    ConversionType,
    CustomerTouchpoint,
    JourneyTouch,
)
from conversion.tests.conftest import NOW
from madansara.channels.models import InboundMessage, Message, MessageEvent
from madansara.channels.signals import inbound_received, message_event
from website.models import Site
from website.signals import events_ingested

pytestmark = pytest.mark.django_db


def record(contact=None, external_id="order-1", **kw):
    params = {
        "external_id": external_id,
        "type": "purchase",
        "value": "120.50",
        "currency": "eur",
        "contact_id": contact.pk if contact else None,
        "occurred_at": NOW,
        "source": "api",
    }
    params.update(kw)
    return services.conversion_record(**params)


def test_conversion_ingest_is_idempotent_by_external_id(contact, django_capture_on_commit_callbacks):
    # given a conversion recorded once
    with django_capture_on_commit_callbacks(execute=True):
        first, created = record(contact)
    # when the same external id arrives again with other numbers
    again, created_again = record(contact, value="999")
    # then it is counted once, unchanged, and attributed by the on-commit task
    assert created and not created_again
    assert again.pk == first.pk
    assert ConversionEvent.objects.count() == 1
    first.refresh_from_db()
    assert first.value == Decimal("120.50") and first.currency == "EUR"
    assert first.attributed_at is not None


def test_conversion_needs_a_known_type_and_someone(contact):
    with pytest.raises(ValidationError, match="Unknown conversion type 'lead'"):
        record(contact, type="lead")
    with pytest.raises(ValidationError, match="visitor"):
        record(None)
    with pytest.raises(ValidationError, match="zero or more"):
        record(contact, value="-1")
    assert not ConversionEvent.objects.exists()


def test_anonymous_visitor_conversion_is_accepted():
    conversion, created = record(None, visitor_id="v-123")
    assert created and conversion.contact_id is None and conversion.visitor_id == "v-123"


def test_touchpoint_record_is_idempotent_and_checks_the_channel(contact):
    kwargs = {
        "contact_id": contact.pk,
        "channel": "instagram",
        "occurred_at": NOW,
        "source": "social",
        "source_key": "c-1",
    }
    first, created = services.touchpoint_record(**kwargs)
    second, created_again = services.touchpoint_record(**kwargs)
    assert created and not created_again and first.pk == second.pk
    with pytest.raises(ValidationError, match="Unknown channel"):
        services.touchpoint_record(**{**kwargs, "channel": "fax", "source_key": "c-2"})


@pytest.mark.parametrize(
    ("days_before", "seconds", "inside"),
    [(30, 0, True), (30, 1, False), (0, 0, True), (-1, 0, False)],
    ids=["on-window-start", "a-second-too-old", "at-conversion-time", "after-conversion"],
)
def test_lookback_window_edges(contact, touch, days_before, seconds, inside):
    # given a touch at the edge of the purchase type's 30-day lookback
    touch("email", 0, contact=contact, when=NOW - timedelta(days=days_before, seconds=seconds))
    conversion, _ = record(contact)
    # when its journey is built
    journey = services.conversion_build_journey(conversion=conversion)
    # then the touch is in it only inside [occurred_at - 30 days, occurred_at]
    assert len(journey) == (1 if inside else 0)


def test_lookback_is_configured_per_conversion_type(contact, touch):
    ConversionType.objects.filter(code="signup").update(lookback_days=7)
    touch("sms", 8, contact=contact)
    touch("email", 6, contact=contact)
    conversion, _ = record(contact, type="signup")
    assert [t.channel for t in services.conversion_build_journey(conversion=conversion)] == ["email"]


def test_journey_includes_visitor_touches_and_is_stored_in_order(contact, touch):
    touch("organic_search", 10, visitor_id="v-1")
    touch("email", 5, contact=contact, campaign="spring")
    touch("direct", 1, visitor_id="v-1")
    conversion, _ = record(contact, visitor_id="v-1")
    services.conversions_attribute(conversion_ids=[conversion.pk])
    stored = list(JourneyTouch.objects.filter(conversion=conversion).values_list("position", "channel", "campaign"))
    assert stored == [(0, "organic_search", ""), (1, "email", "spring"), (2, "direct", "")]


def message_with_events(contact, kinds, campaign="spring", channel="email"):
    message = Message.objects.create(
        channel=channel, contact=contact, to="ada@example.com", context={"campaign": campaign}
    )
    events = [
        MessageEvent.objects.create(message=message, kind=kind, occurred_at=NOW - timedelta(days=3, minutes=-i))
        for i, kind in enumerate(kinds)
    ]
    return message, events


def test_message_events_become_one_journey_step_per_message(contact):
    # given a message delivered, opened and clicked, and a bounce that is no touch
    message_with_events(contact, ["sent", "delivered", "opened", "clicked", "bounced"])
    # when touchpoints are captured twice
    created = services.touchpoints_capture_messages()
    assert services.touchpoints_capture_messages() == 0
    # then three touchpoints exist but the journey has one email step with the campaign
    assert created == 3
    assert sorted(CustomerTouchpoint.objects.values_list("kind", flat=True)) == ["clicked", "delivered", "opened"]
    conversion, _ = record(contact)
    journey = services.conversion_build_journey(conversion=conversion)
    assert [(t.channel, t.campaign) for t in journey] == [("email", "spring")]


def test_channel_layer_signals_capture_touchpoints(contact):
    message, (event,) = message_with_events(contact, ["delivered"], channel="sms")
    message_event.send(sender=None, message=message, event=event)
    inbound = InboundMessage.objects.create(
        channel="sms", contact=contact, sender="+33600000000", external_id="SM1", received_at=NOW,
        in_reply_to_message=message,
    )  # fmt: skip
    inbound_received.send(sender=None, inbound=inbound)
    inbound_received.send(sender=None, inbound=inbound)
    kinds = list(CustomerTouchpoint.objects.order_by("occurred_at").values_list("channel", "kind", "campaign"))
    assert kinds == [("sms", "delivered", "spring"), ("sms", "replied", "spring")]


def test_tracker_events_give_session_touchpoints_and_rule_conversions(contact):
    site = Site.objects.create(name="Shop", domain="shop.example.com")
    purchase = ConversionType.objects.get(code="purchase")
    purchase.rules.create(event_name="checkout_completed", value_property="total", id_property="order_id")
    events = [
        {
            "name": "pageview", "visitor_id": "v-9", "contact_id": None, "session_id": "s-1",
            "occurred_at": "2026-11-19T10:00:00+00:00", "url": "https://shop.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=bf",
            "props": {},
        },
        {
            "name": "checkout_completed", "visitor_id": "v-9", "contact_id": contact.pk, "session_id": "s-1",
            "occurred_at": "2026-11-19T10:05:00+00:00", "url": "https://shop.example.com/thanks",
            "props": {"order_id": "A-77", "total": "59.90", "currency": "EUR"},
        },
    ]  # fmt: skip
    # when the website app announces the events (twice: a replayed batch)
    events_ingested.send(sender=None, site_id=site.pk, events=events)
    events_ingested.send(sender=None, site_id=site.pk, events=events)
    # then one paid-search session touchpoint and one purchase exist
    session = CustomerTouchpoint.objects.get()
    assert (session.channel, session.campaign, session.utm_source) == ("paid_search", "bf", "google")
    conversion = ConversionEvent.objects.get()
    assert conversion.external_id == f"tracker:{site.pk}:purchase:A-77"
    assert (conversion.value, conversion.currency, conversion.source) == (Decimal("59.90"), "EUR", "tracker")


def test_every_model_credits_each_conversion_once(contact, touch):
    touch("email", 9, contact=contact, campaign="spring")
    touch("sms", 4, contact=contact, campaign="spring")
    touch("email", 2, contact=contact, campaign="winter")
    touch("direct", 0, contact=contact)
    conversion, _ = record(contact)
    services.conversions_attribute(conversion_ids=[conversion.pk])
    for model in AttributionModel.values:
        credits = AttributionCredit.objects.filter(conversion=conversion, model=model)
        assert sum(c.conversions for c in credits) == pytest.approx(1.0), model
        assert sum(c.revenue for c in credits) == pytest.approx(Decimal("120.50"), abs=Decimal("0.001")), model
    last_non_direct = AttributionCredit.objects.get(conversion=conversion, model="last_non_direct")
    assert (last_non_direct.channel, last_non_direct.campaign) == ("email", "winter")


def test_conversion_without_touchpoints_is_credited_to_direct(contact):
    conversion, _ = record(contact)
    services.conversions_attribute(conversion_ids=[conversion.pk])
    assert set(AttributionCredit.objects.values_list("channel", flat=True)) == {"direct"}
    assert AttributionCredit.objects.count() == len(AttributionModel.values)


def test_markov_credit_follows_removal_effects_across_journeys(contact, touch, django_user_model):
    # given one converting email > sms journey, and another contact whose sms did not convert
    from madansara.contacts.models import Contact

    touch("email", 5, contact=contact)
    touch("sms", 2, contact=contact)
    other = Contact.objects.create(name="Bo")
    touch("sms", 3, contact=other)
    conversion, _ = record(contact)
    services.conversions_attribute(conversion_ids=[conversion.pk])
    # then P = 1/2 (start→email 1/2 → sms → conv 1/2 + start→sms 1/2 → conv 1/2) ... removal effects
    # email: P without = 1/2·1/2 = 1/4 → 1/2 ; sms: 0 → 1 ; so credit 1/3 and 2/3
    credit = dict(AttributionCredit.objects.filter(model="markov").values_list("channel", "conversions"))
    assert credit == pytest.approx({"email": 1 / 3, "sms": 2 / 3})


def test_channel_performance_counts_volume_cost_and_credit(contact, touch):
    day = NOW.date()
    message, _ = message_with_events(contact, ["delivered"])
    Message.objects.filter(pk=message.pk).update(sent_at=NOW, delivered_at=NOW, opened_at=NOW, cost=Decimal("0.50"))
    ChannelCost.objects.create(day=day, channel="email", campaign="spring", amount=Decimal("9.50"))
    touch("email", 0, contact=contact, campaign="spring", when=NOW - timedelta(hours=1))
    conversion, _ = record(contact, value="60")
    services.conversions_attribute(conversion_ids=[conversion.pk])
    # when the day is refreshed (twice: idempotent)
    services.channel_performance_refresh(day=day)
    services.channel_performance_refresh(day=day)
    row = ChannelPerformance.objects.get(day=day, channel="email", campaign="spring")
    assert (row.sent, row.delivered, row.engaged, row.replies) == (1, 1, 1, 0)
    assert row.cost == Decimal("10.00")
    assert row.conversions_under("linear") == pytest.approx(1.0)
    assert row.revenue_under("markov") == Decimal("60.00")
    # ROI = (60 − 10) / 10 and CPA = 10 / 1
    assert row.roi("linear") == Decimal("5")
    assert row.cost_per_acquisition("linear") == Decimal("10")


def test_roi_with_zero_cost_is_undefined_not_infinite(contact, touch):
    touch("referral", 1, contact=contact)
    conversion, _ = record(contact)
    services.conversions_attribute(conversion_ids=[conversion.pk])
    services.channel_performance_refresh(day=NOW.date())
    row = ChannelPerformance.objects.get(channel="referral")
    assert row.cost == 0
    assert row.revenue_under("first_touch") == Decimal("120.50")
    assert row.roi("first_touch") is None
    assert row.cost_per_acquisition("first_touch") == 0  # free conversions cost nothing each
    assert ChannelPerformance(cost=Decimal("5")).cost_per_acquisition("markov") is None


def test_incremental_refresh_attributes_only_new_conversions(contact, touch):
    touch("email", 1, contact=contact)
    record(contact, external_id="a")
    first = services.attribution_refresh(now=NOW)
    second = services.attribution_refresh(now=NOW)
    assert first["conversions"] == 1 and second["conversions"] == 0
    assert ChannelPerformance.objects.filter(day=NOW.date(), channel="email").exists()


def test_website_sessions_and_social_engagements_become_touchpoints(contact):
    from social.models import SocialAccount, SocialEngagement, SocialPost
    from website.models import WebsiteSession, WebsiteVisitor

    # given a paid-search session of an identified visitor and two engagements with one Instagram post
    site = Site.objects.create(name="Shop", domain="shop.example.com")
    visitor = WebsiteVisitor.objects.create(
        site=site, anonymous_id="anon-1", contact=contact, first_seen_at=NOW, last_seen_at=NOW
    )
    WebsiteSession.objects.create(
        site=site, session_key="s-9", visitor=visitor, contact=contact, started_at=NOW - timedelta(days=2),
        ended_at=NOW - timedelta(days=2), source="google", medium="cpc", campaign="bf", traffic_class="paid_search",
    )  # fmt: skip
    account = SocialAccount.objects.create(platform="instagram", name="Brand", external_id="ig-1")
    post = SocialPost.objects.create(account=account, external_id="p-1", published_at=NOW - timedelta(days=5))
    for kind, days in [("like", 4), ("comment", 3)]:
        SocialEngagement.objects.create(
            platform="instagram", account=account, post=post, contact=contact, kind=kind,
            external_id=f"e-{kind}", occurred_at=NOW - timedelta(days=days),
        )  # fmt: skip
    # when every source is captured, twice
    assert services.touchpoints_capture() == 3
    assert services.touchpoints_capture() == 0
    # then the journey reads instagram (one step for the post) then paid search with its campaign
    conversion, _ = record(contact)
    journey = services.conversion_build_journey(conversion=conversion)
    assert [(t.channel, t.campaign) for t in journey] == [("instagram", ""), ("paid_search", "bf")]
    session = CustomerTouchpoint.objects.get(source="website_session")
    assert (session.visitor_id, session.utm_source, session.utm_medium) == ("anon-1", "google", "cpc")


def test_attributing_many_conversions_takes_a_constant_number_of_queries(touch, django_assert_max_num_queries):
    from madansara.contacts.models import Contact

    ids = []
    for i in range(12):
        person = Contact.objects.create(name=f"c{i}")
        touch("email", 3, contact=person)
        touch("sms", 1, contact=person)
        ids.append(record(person, external_id=f"bulk-{i}")[0].pk)
    with django_assert_max_num_queries(16):
        services.conversions_attribute(conversion_ids=ids)
    assert JourneyTouch.objects.count() == 24
    assert AttributionCredit.objects.filter(model="linear").count() == 24


def test_new_conversions_are_announced_once_after_commit(contact, django_capture_on_commit_callbacks):
    from conversion.signals import conversion_recorded

    seen = []

    def listener(sender, conversion, **kwargs):
        seen.append(conversion.external_id)

    conversion_recorded.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            record(contact)
            record(contact)
    finally:
        conversion_recorded.disconnect(listener)
    assert seen == ["order-1"]


def test_outreach_spend_ledger_replaces_message_costs_never_both(contact):
    from outreach.models import CampaignSpend, OutreachCampaign, Segment

    campaign = OutreachCampaign.objects.create(name="Spring", segment=Segment.objects.create(name="all"))
    for campaign_key, cost in [(campaign.pk, "0.40"), ("newsletter", "0.25")]:
        message = Message.objects.create(
            channel="sms", contact=contact, to="+33600000000", context={"campaign_id": campaign_key}
        )
        Message.objects.filter(pk=message.pk).update(sent_at=NOW, cost=Decimal(cost))
    CampaignSpend.objects.create(campaign=campaign, day=NOW.date(), channel="sms", messages=1, cost=Decimal("0.50"))
    services.channel_performance_refresh(day=NOW.date())
    costs = dict(ChannelPerformance.objects.filter(channel="sms").values_list("campaign", "cost"))
    assert costs == {str(campaign.pk): Decimal("0.50"), "newsletter": Decimal("0.25")}


def test_anonymous_visits_of_a_stitched_browser_join_the_contacts_journey(contact, touch):
    from website.models import WebsiteVisitor

    # given an anonymous organic visit, then the browser identified as the contact
    touch("organic_search", 6, visitor_id="anon-7")
    touch("email", 2, contact=contact)
    site = Site.objects.create(name="Shop", domain="shop.example.com")
    WebsiteVisitor.objects.create(
        site=site, anonymous_id="anon-7", contact=contact, first_seen_at=NOW, last_seen_at=NOW
    )
    # when the contact converts (no visitor id given)
    conversion, _ = record(contact)
    # then the earlier anonymous visit is the first step of the journey
    assert [t.channel for t in services.conversion_build_journey(conversion=conversion)] == ["organic_search", "email"]


def test_a_bad_tracker_batch_never_breaks_the_website_ingest(caplog):
    site = Site.objects.create(name="Shop", domain="shop.example.com")
    events = [{"name": "pageview", "visitor_id": "v", "session_id": "s", "occurred_at": "not a date", "url": None}]
    events_ingested.send(sender=None, site_id=site.pk, events=events)
    broken = [{"name": "x", "visitor_id": "v2", "props": "not a dict", "session_id": "s2"}]
    events_ingested.send(sender=None, site_id=site.pk, events=broken)
    assert CustomerTouchpoint.objects.get().channel == "direct"
    assert "tracker events not applied" in caplog.text


def test_single_conversion_task_reuses_the_days_markov_effects(contact, touch, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    touch("email", 2, contact=contact)
    with django_capture_on_commit_callbacks(execute=True):
        record(contact, external_id="first")
    cached = cache.get(f"conversion:markov:{NOW.date()}:90")
    assert cached == {"email": 1.0}
    # a later conversion the same day reuses them instead of rescanning 90 days of touchpoints
    cache.set(f"conversion:markov:{NOW.date()}:90", {"email": 0.5, "sms": 0.5}, 60)
    touch("sms", 1, contact=contact)
    with django_capture_on_commit_callbacks(execute=True):
        second, _ = record(contact, external_id="second")
    markov = dict(
        AttributionCredit.objects.filter(conversion=second, model="markov").values_list("channel", "conversions")
    )
    assert markov == pytest.approx({"email": 0.5, "sms": 0.5})
