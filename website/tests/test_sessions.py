from datetime import timedelta

import pytest

from madansara.contacts.models import Contact
from website import services
from website.models import WebsiteEvent, WebsiteSession, WebsiteVisitor
from website.tests.factories import T0, add_event

MIN = timedelta(minutes=1)


def rebuild():
    return services.sessions_rebuild(start=T0 - timedelta(days=1), end=T0 + timedelta(days=30))


@pytest.mark.django_db
def test_sessions_have_entry_exit_duration_pages_and_source(site):
    add_event(site, "v1", "pageview", T0, path="/landing", session="s1")
    WebsiteEvent.objects.filter(session_id="s1").update(
        url="https://shop.example.com/landing?utm_source=google&utm_medium=cpc&utm_campaign=winter",
        referrer="https://www.google.com/",
    )
    add_event(site, "v1", "signup", T0 + MIN, path="/landing", session="s1")
    add_event(site, "v1", "pageview", T0 + 5 * MIN, path="/thanks", session="s1")
    assert rebuild() == 1
    session = WebsiteSession.objects.get()
    assert (session.entry_path, session.exit_path) == ("/landing", "/thanks")
    assert (session.pageviews, session.events, session.duration_seconds) == (2, 3, 300)
    assert (session.source, session.medium, session.campaign, session.traffic_class) == (
        "google",
        "cpc",
        "winter",
        "paid_search",
    )
    assert (session.device, session.browser, session.os) == ("desktop", "Chrome", "Linux")
    assert not session.is_bounce


@pytest.mark.django_db
def test_second_visit_is_returning_and_rebuild_is_idempotent(site):
    add_event(site, "v1", "pageview", T0, session="first")
    add_event(site, "v1", "pageview", T0 + timedelta(days=2), session="second")
    add_event(site, "v2", "pageview", T0 + timedelta(days=2), session="other")
    rebuild()
    rebuild()
    sessions = {s.session_key: s for s in WebsiteSession.objects.all()}
    assert len(sessions) == 3
    assert (sessions["first"].is_returning, sessions["second"].is_returning) == (False, True)
    assert sessions["other"].is_returning is False
    assert WebsiteVisitor.objects.get(anonymous_id="v1").sessions_count == 2
    assert WebsiteVisitor.objects.get(anonymous_id="v1").is_returning


@pytest.mark.django_db
def test_identify_stitches_earlier_events_and_sessions_to_the_contact(site):
    # given an anonymous visit that already has a session
    add_event(site, "anon", "pageview", T0, session="s1")
    rebuild()
    assert WebsiteSession.objects.get().customer_type == "anonymous"
    # when the visitor identifies with an email
    contact_id = services.visitor_identify(
        site_id=site.pk, visitor_id="anon", identifier="Alice@Example.com", traits={"name": "Alice"}, at=T0 + MIN
    )
    # then the contact exists with that email and earlier events and sessions are re-attributed
    contact = Contact.objects.get(pk=contact_id)
    assert contact.identities.get().value == "alice@example.com"
    assert set(WebsiteEvent.objects.values_list("contact_id", flat=True)) == {contact_id}
    session = WebsiteSession.objects.get()
    assert (session.contact_id, session.customer_type) == (contact_id, "lead")
    # and the same person identified on another device by external id + email is the same contact
    again = services.visitor_identify(
        site_id=site.pk, visitor_id="phone", identifier="alice@example.com", traits={}, at=T0 + MIN
    )
    assert again == contact_id


@pytest.mark.django_db
def test_customers_are_detected_from_the_lifecycle_stage(site):
    contact = Contact.objects.create(name="Bob", external_id="crm-7", lifecycle_stage="customer")
    services.visitor_identify(site_id=site.pk, visitor_id="bob", identifier="crm-7", traits={}, at=T0)
    add_event(site, "bob", "pageview", T0, session="b1")
    WebsiteEvent.objects.filter(visitor_id="bob").update(contact_id=contact.pk)
    rebuild()
    assert WebsiteSession.objects.get().customer_type == "customer"


@pytest.mark.django_db
def test_later_events_of_an_identified_visitor_carry_the_contact(client, site):
    import json
    import time

    from website.ingest.identify import identity_hash
    from website.tests.conftest import CHROME_UA

    def post(name):
        body = {"site": site.public_key, "events": [{"n": name, "t": int(time.time() * 1000), "u": "https://shop.example.com/", "a": "v9", "s": "s9", "p": {"id": "x-1", "hash": identity_hash(secret=site.identity_secret, identifier="x-1")} if name == "$identify" else {}}]}  # fmt: skip
        return client.post("/t/batch", data=json.dumps(body), content_type="text/plain", HTTP_USER_AGENT=CHROME_UA)

    post("$identify")
    post("after")
    contact = Contact.objects.get(external_id="x-1")
    assert WebsiteEvent.objects.get(name="after").contact_id == contact.pk
