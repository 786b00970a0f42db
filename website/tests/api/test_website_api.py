from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from madansara.contacts.models import Contact
from madansara.models import APIKey
from website.models import OptimizationRecommendation
from website.services import sessions_rebuild
from website.tests.factories import T0, add_event

MIN = timedelta(minutes=1)
RANGE = {"start": T0.isoformat(), "end": (T0 + timedelta(days=7)).isoformat()}


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def traffic(site):
    alice = Contact.objects.create(name="Alice")
    add_event(site, "a", "pageview", T0, path="/", session="sa", contact=alice.pk)
    add_event(site, "a", "signup", T0 + MIN, path="/", session="sa", contact=alice.pk)
    add_event(site, "b", "pageview", T0 + timedelta(hours=2), path="/", session="sb", device="mobile")
    add_event(site, "b", "pageview", T0 + timedelta(hours=2, minutes=1), path="/pricing", session="sb", device="mobile")
    add_event(site, "c", "pageview", T0 + timedelta(days=1), path="/pricing", session="sc")
    sessions_rebuild(start=T0, end=T0 + timedelta(days=7))
    return alice


@pytest.mark.django_db
def test_time_series_by_day_counts_visitors_sessions_pageviews_and_conversions(api, site, traffic):
    response = api.get(
        "/api/v1/website/stats/timeseries",
        {"site": site.pk, "interval": "day", "conversion_event": "signup", **RANGE},
    )
    assert response.status_code == 200
    first, second = response.json()
    assert (first["visitors"], first["sessions"], first["pageviews"], first["events"], first["conversions"]) == (
        2,
        2,
        3,
        4,
        1,
    )
    assert (second["visitors"], second["sessions"], second["pageviews"]) == (1, 1, 1)


@pytest.mark.django_db
def test_time_series_filters_by_device_and_rejects_bad_intervals(api, site, traffic):
    mobile = api.get("/api/v1/website/stats/timeseries", {"site": site.pk, "device": "mobile", **RANGE}).json()
    assert [row["pageviews"] for row in mobile] == [2]
    bad = api.get("/api/v1/website/stats/timeseries", {"site": site.pk, "interval": "minute"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "validation_error"


@pytest.mark.django_db
def test_top_pages_and_sources(api, site, traffic):
    pages = api.get("/api/v1/website/stats/pages", {"site": site.pk, **RANGE}).json()
    assert [(p["path"], p["pageviews"], p["exits"]) for p in pages] == [("/", 2, 1), ("/pricing", 2, 2)]
    sources = api.get("/api/v1/website/stats/sources", {"site": site.pk, **RANGE}).json()
    assert sources == [{"value": "direct", "sessions": 3, "visitors": 3}]


@pytest.mark.django_db
def test_funnel_results_and_saving_the_drop_off_as_a_segment(api, site, traffic):
    # given a funnel from the home page to signup
    created = api.post(
        "/api/v1/website/funnels",
        {"site": site.pk, "name": "Signup", "steps": [{"url": "/"}, {"event": "signup"}]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    funnel_id = created.json()["id"]
    # when its results are read
    results = api.get(f"/api/v1/website/funnels/{funnel_id}/results", {**RANGE, "breakdown": "device"}).json()
    # then a (Alice, identified) converted and b dropped
    assert [s["count"] for s in results["steps"]] == [2, 1]
    assert results["breakdown"] == {"desktop": [1, 1], "mobile": [1, 0]}
    assert [p["visitor_id"] for p in results["dropped"][0]] == ["b"]
    # and the contacts who dropped can be saved as a segment (a tag campaigns target)
    bob = Contact.objects.create(name="Bob")
    from website.models import WebsiteEvent

    WebsiteEvent.objects.filter(visitor_id="b").update(contact_id=bob.pk)
    saved = api.post(
        f"/api/v1/website/funnels/{funnel_id}/save-segment", {"step": 0, "tag": "signup-dropouts", **RANGE}
    )
    assert saved.status_code == 200, saved.json()
    assert saved.json()["contacts"] == 1
    assert list(bob.tags.values_list("name", flat=True)) == ["signup-dropouts"]
    assert api.post(f"/api/v1/website/funnels/{funnel_id}/save-segment", {"step": 1, "tag": "x"}).status_code == 400


@pytest.mark.django_db
def test_funnel_steps_are_validated(api, site):
    response = api.post(
        "/api/v1/website/funnels", {"site": site.pk, "name": "Bad", "steps": [{"event": "a"}]}, format="json"
    )
    assert response.status_code == 400
    assert "steps" in response.json()["error"]["details"]


@pytest.mark.django_db
def test_sessions_list_filters_and_sites_include_the_snippet(api, site, traffic, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        sessions = api.get("/api/v1/website/sessions", {"site": site.pk, "device": "mobile"}).json()
    assert [s["session_key"] for s in sessions["results"]] == ["sb"]
    sites = api.get("/api/v1/website/sites").json()["results"]
    assert site.public_key in sites[0]["snippet"]
    assert "data-dnt" in sites[0]["snippet"]


@pytest.mark.django_db
def test_recommendation_creates_its_ab_test_in_one_call(api, site):
    recommendation = OptimizationRecommendation.objects.create(
        site=site,
        kind="high_exit_page",
        fingerprint="exit:/pricing",
        title="Pricing loses visitors",
        proposed_test={
            "name": "Keep visitors on /pricing",
            "hypothesis": "A clearer CTA lowers exits.",
            "surface": "website_element",
            "primary_metric": "pageview",
            "url_pattern": "^/pricing$",
            "variants": [
                {"key": "control", "name": "Current", "is_control": True, "weight": 1.0, "content": {}},
                {"key": "treatment", "name": "New", "is_control": False, "weight": 1.0, "content": {}},
            ],
        },
    )
    response = api.post(f"/api/v1/website/recommendations/{recommendation.pk}/create-test")
    assert response.status_code == 200, response.json()
    from abtesting.models import ABTest

    test = ABTest.objects.get(key=response.json()["experiment_key"])
    assert (test.site_id, test.status, test.variants.count()) == (site.pk, "draft", 2)
    assert response.json()["recommendation"]["status"] == "test_created"
    again = api.post(f"/api/v1/website/recommendations/{recommendation.pk}/create-test")
    assert again.status_code == 409


@pytest.mark.django_db
def test_api_key_needs_the_website_scope(site, admin_user):
    raw, prefix, hashed = APIKey.generate()
    APIKey.objects.create(name="k", user=admin_user, prefix=prefix, hashed_key=hashed, scopes=["outreach:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/website/stats/pages", {"site": site.pk}).status_code == 403
    APIKey.objects.filter(prefix=prefix).update(scopes=["website:read"])
    assert client.get("/api/v1/website/stats/pages", {"site": site.pk}).status_code == 200
