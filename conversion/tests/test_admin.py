"""Admin: conversions added by hand, contact journey, attribution table and charts."""

from decimal import Decimal

import pytest

from conversion import services
from conversion.models import ChannelCost, ConversionEvent
from conversion.tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, admin_user):
    client.force_login(admin_user)
    return client


def test_conversion_added_in_the_admin_goes_through_the_service(browser, contact):
    form = {
        "external_id": "crm-7", "conversion_type": 3, "value": "250.00", "currency": "USD",
        "contact": contact.pk, "visitor_id": "", "occurred_at_0": "2026-11-20", "occurred_at_1": "10:00:00",
        "journey-TOTAL_FORMS": 0, "journey-INITIAL_FORMS": 0, "credits-TOTAL_FORMS": 0, "credits-INITIAL_FORMS": 0,
    }  # fmt: skip
    from conversion.models import ConversionType

    form["conversion_type"] = ConversionType.objects.get(code="purchase").pk
    response = browser.post("/admin/conversion/conversionevent/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    conversion = ConversionEvent.objects.get()
    assert (conversion.source, conversion.value) == ("admin", Decimal("250.00"))
    # a second one with the same id is refused with a clear message
    again = browser.post("/admin/conversion/conversionevent/add/", form)
    assert again.status_code == 200
    assert "already exists" in again.content.decode()
    assert ConversionEvent.objects.count() == 1


def test_contact_journey_page_and_attribution_page_render_offline_charts(browser, contact, touch):
    touch("email", 6, contact=contact, campaign="spring")
    touch("paid_search", 1, contact=contact, campaign="bf")
    ChannelCost.objects.create(day=NOW.date(), channel="paid_search", campaign="bf", amount=Decimal("10"))
    conversion, _ = services.conversion_record(
        external_id="o", type="purchase", value="40", contact_id=contact.pk, occurred_at=NOW, source="api"
    )
    services.conversions_attribute(conversion_ids=[conversion.pk])
    services.channel_performance_refresh(day=NOW.date())

    journey = browser.get(f"/admin/conversion/conversionevent/journey/{contact.pk}/").content.decode()
    assert "Email — spring" in journey and "Paid search — bf" in journey

    page = browser.get(
        "/admin/conversion/channelperformance/attribution/", {"since": "2026-11-01", "until": "2026-11-30"}
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "<polyline" in html and "<rect" in html
    conversions_chart = html.split('id="conversions-chart"', 1)[1].split("</div>", 1)[0]
    assert "<polyline" in conversions_chart and "purchase" in conversions_chart
    assert "http://" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org/2000/svg", "")
    assert html.count('<th style="text-align:right">') >= 16  # 8 model headers + 8 totals


@pytest.mark.parametrize(
    "url",
    [
        "/admin/conversion/conversionevent/", "/admin/conversion/customertouchpoint/",
        "/admin/conversion/channelperformance/", "/admin/conversion/attributioncredit/",
        "/admin/conversion/journeytouch/", "/admin/conversion/conversiontype/",
        "/admin/conversion/conversionrule/", "/admin/conversion/channelcost/",
    ],
)  # fmt: skip
def test_every_changelist_renders(browser, url):
    assert browser.get(url).status_code == 200
