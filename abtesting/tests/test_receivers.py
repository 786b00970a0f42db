import pytest

from abtesting import services
from abtesting.models import ABTestDailyStat, ABTestExposure
from madansara.contacts.models import Contact
from website.models import Site
from website.signals import events_ingested

pytestmark = pytest.mark.django_db


def test_tracker_events_become_metrics_of_the_sites_website_tests(make_test):
    # given a running website test on a site, and a visitor who saw it
    site = Site.objects.create(name="Shop", domain="shop.example.com")
    test = make_test("hero", surface="website_cta", site=site, primary_metric="signup")
    services.variant_assign(test=test, unit_id="visitor-1")
    contact = Contact.objects.create(name="Ana")
    # when the tracker stores a signup (twice) and a page view for that visitor, now identified
    events = [
        {"name": "signup", "visitor_id": "visitor-1", "contact_id": contact.id, "occurred_at": "2026-11-25T10:00:00Z"},
        {"name": "signup", "visitor_id": "visitor-1", "contact_id": contact.id, "occurred_at": None},
        {"name": "page_view", "visitor_id": "visitor-1", "contact_id": None},
    ]
    events_ingested.send(sender=None, site_id=site.id, events=events)
    # then one conversion is counted and the exposure follows the contact
    assert ABTestDailyStat.objects.get(test=test, metric="signup").units == 1
    assert ABTestExposure.objects.get(unit_id="visitor-1").contact_id == contact.id
