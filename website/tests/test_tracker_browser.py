"""The tracker in headless Chromium against pages served by the live test server."""

import json
import os
import time

import pytest

from website.ingest.identify import identity_hash
from website.models import Site, WebsiteEvent, WebsiteSession
from website.services import spool_flush
from website.tests.conftest import CHROME_UA
from website.tracker_build import build

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


def wait_for(page, predicate, timeout=10.0):
    """Poll while letting Playwright dispatch its events (time.sleep would block them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        page.wait_for_timeout(100)
    return False


@pytest.fixture
def browser_site(transactional_db, live_server, settings, monkeypatch, spool_dir):
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are ours.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.ROOT_URLCONF = "website.tests.urls"
    build()
    return Site.objects.create(
        name="Browser shop", domain="127.0.0.1", allowed_origins=[live_server.url], respect_dnt=True
    )


@pytest.fixture
def page(browser_site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-background-networking"]
        )
        context = browser.new_context(user_agent=CHROME_UA)
        page = context.new_page()
        page.requests = []
        page.on(
            "request",
            lambda r: page.requests.append((r.resource_type, r.post_data or "")) if "/t/batch" in r.url else None,
        )
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        yield page
        context.close()
        browser.close()


def names():
    return list(WebsiteEvent.objects.order_by("occurred_at", "id").values_list("name", flat=True))


def test_tracker_records_a_visit_end_to_end(browser_site, page, live_server):
    from abtesting.models import ABTest, ABTestVariant

    # given a running website test whose only weighted variant is "treatment"
    test = ABTest.objects.create(
        key="cta-colour", name="CTA colour", site=browser_site, surface="website_cta", status="running",
        primary_metric="cta_click",
    )  # fmt: skip
    ABTestVariant.objects.create(test=test, key="control", is_control=True, weight=0)
    ABTestVariant.objects.create(test=test, key="treatment", weight=1)

    # when a visitor lands, clicks a marked button, navigates in the SPA, identifies and asks for a variant
    page.goto(f"{live_server.url}/shop/?utm_source=newsletter&utm_medium=email&utm_campaign=nov")
    page.wait_for_function("typeof window.ms.track === 'function'")
    page.click("#buy span")
    page.click("#next")
    variant = page.evaluate("ms.variant('cta-colour')")
    again = page.evaluate("ms.variant('cta-colour')")
    signed = identity_hash(secret=browser_site.identity_secret, identifier="alice@example.com")
    page.evaluate(f"ms.identify('alice@example.com', {{name: 'Alice'}}, '{signed}')")

    # then nothing is sent before the flush interval: events are batched into one request
    assert page.requests == []
    assert wait_for(page, lambda: len(page.requests) >= 1)
    assert len(page.requests) == 1
    batch = json.loads(page.requests[0][1])
    assert [e["n"] for e in batch["events"]] == ["pageview", "cta_click", "pageview", "$exposure", "$identify"]
    assert wait_for(page, lambda: spool_flush() >= 0 and WebsiteEvent.objects.count() == 5)

    # and the variant came from the A/B engine, once per page load
    assert variant == again == "treatment"
    assert len(page.requests) == 1

    # when the page is hidden with an event still queued, it leaves by sendBeacon
    page.evaluate("ms.track('late_event', {when: 'hide'})")
    page.evaluate(
        "Object.defineProperty(document, 'visibilityState', {get: () => 'hidden'});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    # (on SQLite the polling test thread can lock the server out: the batch is then spooled, and
    # the spool flush that beat runs every minute stores it — either way it must arrive exactly once)
    assert wait_for(page, lambda: spool_flush() >= 0 and "late_event" in names())
    assert names().count("late_event") == 1
    assert page.requests[-1][0] == "ping"  # what Chromium calls a sendBeacon request
    assert page.errors == []

    # then the server stored every event, attributed to Alice, with the click's properties
    stored = {e.name: e for e in WebsiteEvent.objects.all()}
    assert stored["cta_click"].props == {"color": "green"}
    assert sorted(e.path for e in WebsiteEvent.objects.filter(name="pageview")) == ["/app/step2", "/shop/"]
    assert stored["$exposure"].props == {"experiment": "cta-colour", "variant": "treatment"}
    contact_ids = set(WebsiteEvent.objects.values_list("contact_id", flat=True))
    assert len(contact_ids) == 1 and None not in contact_ids
    assert len(set(WebsiteEvent.objects.values_list("visitor_id", flat=True))) == 1
    assert len(set(WebsiteEvent.objects.values_list("session_id", flat=True))) == 1

    # and the session built from them knows the landing campaign and the exit page
    from website.services import sessions_rebuild

    first = WebsiteEvent.objects.earliest("occurred_at").occurred_at
    sessions_rebuild(start=first, end=first.replace(year=first.year + 1))
    session = WebsiteSession.objects.get()
    assert (session.source, session.medium, session.campaign, session.traffic_class) == (
        "newsletter", "email", "nov", "email",
    )  # fmt: skip
    assert (session.entry_path, session.exit_path, session.pageviews) == ("/shop/", "/app/step2", 2)
    assert session.contact_id == contact_ids.pop()
    assert session.customer_type == "lead"


def test_tracker_never_throws_into_the_host_page_and_honours_gpc(browser_site, page, live_server):
    # given a browser that sends Global Privacy Control on a site that respects it
    page.context.set_extra_http_headers({"Sec-GPC": "1"})
    page.add_init_script("Object.defineProperty(navigator, 'globalPrivacyControl', {get: () => true})")
    page.goto(f"{live_server.url}/shop/")
    page.wait_for_function("typeof window.ms.track === 'function'")
    # when the page calls the API with odd arguments
    results = page.evaluate("[ms.track(), ms.track(null), ms.identify(undefined), typeof ms.flush()]")
    page.evaluate("ms.flush()")
    page.wait_for_timeout(500)
    # then nothing throws and nothing is sent
    assert results[-1] == "undefined"
    assert page.errors == []
    assert page.requests == []
    assert WebsiteEvent.objects.count() == 0


def test_offline_batches_are_retried_and_autocapture_is_opt_in(browser_site, page, live_server):
    # given a page that opted in to autocapture, loaded while online
    page.goto(f"{live_server.url}/shop/?autocapture=1")
    page.wait_for_function("typeof window.ms.track === 'function'")
    # when the browser goes offline, a link is clicked and the tracker tries to flush
    page.context.set_offline(True)
    page.click("#next")
    page.evaluate("ms.flush()")
    page.wait_for_timeout(300)
    assert WebsiteEvent.objects.count() == 0
    # then once the connection is back the kept batch is delivered
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    assert wait_for(page, lambda: spool_flush() >= 0 and WebsiteEvent.objects.count() == 3)
    assert len(page.requests) >= 2  # the failed attempt, then the retry with the same events
    assert json.loads(page.requests[0][1]) == json.loads(page.requests[-1][1])
    click = WebsiteEvent.objects.get(name="$click")
    assert click.props == {"tag": "a", "text": "Next step", "href": f"{live_server.url}/app/step2"}
    assert page.errors == []
