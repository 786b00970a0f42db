"""Hardening (#22): requests that used to crash the API answer 4xx with the API's error body, and
errors Django answers itself under /api/ (404, 500) are that JSON body too, never HTML."""

import functools

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from abtesting import selectors as ab_selectors
from abtesting import services as ab_services
from madansara.tests.factories import key_client, make_contact
from outreach.tests.campaign_helpers import campaign
from website.models import Site

pytestmark = pytest.mark.django_db

EXPERIMENT = {
    "key": "subject",
    "name": "Subject line",
    "surface": "email_subject",
    "primary_metric": "open",
    "variants": [{"key": "control", "is_control": True}, {"key": "question"}],
}


@pytest.fixture
def api(admin_user) -> APIClient:
    client, _ = key_client(admin_user, ["*:write"])
    client.raise_request_exception = False  # see the response a client would get
    return client


def assert_error_body(response, status: int, code: str | None = None):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "details"} and error["message"]
    if code:
        assert error["code"] == code
    return error


@functools.cache
def _schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def date_time_filters() -> list[tuple[str, str]]:
    """(path, parameter) for every date-time filter (django-filter) of every list in the schema."""
    found = []
    for path, operations in _schema()["paths"].items():
        if "{" in path:
            continue
        for parameter in operations.get("get", {}).get("parameters", []):
            is_filter = parameter["in"] == "query" and parameter.get("allowEmptyValue")
            if is_filter and parameter.get("schema", {}).get("format") == "date-time":
                found.append((path, parameter["name"]))
    return found


def test_every_date_time_filter_refuses_a_utc_offset_that_does_not_exist_with_a_400(api):
    filters = date_time_filters()
    assert len(filters) >= 15  # contacts, campaigns, messages, experiments, conversions, social, ...
    for path, name in filters:
        # when a list is filtered with an offset beyond ±15:59 (PostgreSQL refuses those)
        response = api.get(path, {name: "2024-01-01T00:00:00+20:00"})
        # then it is a 400 naming the parameter
        error = assert_error_body(response, 400, "validation_error")
        assert name in error["details"], (path, name)
        # and every real offset still filters
        assert api.get(path, {name: "2024-01-01T00:00:00+14:00"}).status_code == 200, (path, name)


def test_a_date_time_filter_compares_in_utc(api):
    make_contact(name="Ana")
    # 23:00 at -05:00 the day before is 04:00 UTC today: the same instant either way
    assert api.get("/api/v1/contacts", {"created_after": "2000-01-01T23:00:00-05:00"}).json()["count"] == 1
    assert api.get("/api/v1/contacts", {"created_after": "2999-01-01T23:00:00-05:00"}).json()["count"] == 0


def test_assignments_for_an_unknown_contact_are_a_400_not_a_crash(api):
    ab_services.abtest_start(test=ab_services.abtest_create(**EXPERIMENT), reason="go")
    for contact in ("999999", "99999999999999999999"):
        response = api.get("/api/v1/experiments/assignments", {"unit": "visitor-1", "contact": contact})
        error = assert_error_body(response, 400, "validation_error")
        assert "contact" in error["details"]
    # and a known contact is still assigned
    known = make_contact()
    response = api.get("/api/v1/experiments/assignments", {"unit": "visitor-1", "contact": known.pk})
    assert response.status_code == 200 and set(response.json()["assignments"]) == {"subject"}


def test_deleting_a_site_that_experiments_use_is_a_409_and_keeps_the_site(api):
    site = Site.objects.create(name="Shop", domain="shop.example.com")
    ab_services.abtest_create(**EXPERIMENT | {"surface": "website_cta", "primary_metric": "conversion"}, site=site)
    response = api.delete(f"/api/v1/website/sites/{site.pk}")
    error = assert_error_body(response, 409, "protected")
    assert error["details"] == {"referenced_by": {"abtesting.ABTest": 1}}
    assert Site.objects.filter(pk=site.pk).exists()


def test_deleting_a_segment_that_a_campaign_uses_is_a_409(api):
    camp = campaign()
    response = api.delete(f"/api/v1/segments/{camp.segment_id}")
    assert_error_body(response, 409, "protected")


def test_an_unexpected_error_under_the_api_is_the_json_error_body(api, monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(ab_selectors, "live_tests", broken)
    response = api.get("/api/v1/experiments/assignments", {"unit": "u"})
    error = assert_error_body(response, 500, "server_error")
    assert error["details"]["request_id"] == response["X-Request-ID"]
    assert "boom" not in response.content.decode()  # no internals leak


def test_a_404_under_the_api_is_json_and_names_the_url_without_the_trailing_slash(api):
    error = assert_error_body(api.get("/api/v1/contacts/"), 404, "not_found")
    assert error["details"]["did_you_mean"] == "/api/v1/contacts"
    assert "/api/v1/contacts" in error["message"]
    error = assert_error_body(api.get("/api/v1/no-such-thing"), 404, "not_found")
    assert "did_you_mean" not in error["details"]
    # outside the API Django's HTML page stays
    page = Client().get("/no-such-page")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "query",
    [{"page_size": "abc"}, {"page_size": "0"}, {"page_size": ""}, {"page": "0"}, {"page": ""}, {"page": "-1"}],
)
def test_pagination_parameters_that_are_not_positive_numbers_are_a_400(api, query):
    error = assert_error_body(api.get("/api/v1/contacts", query), 400, "validation_error")
    assert set(error["details"]) == set(query)


def test_a_page_size_given_twice_is_a_400_and_a_large_one_is_capped(api):
    assert_error_body(api.get("/api/v1/contacts?page_size=5&page_size=7"), 400)
    assert api.get("/api/v1/contacts", {"page_size": "100000"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/website/sites", {"is_active": "maybe"}),
        ("/api/v1/inbox/conversations", {"unassigned": "2"}),
        ("/api/v1/inbox/conversations", {"assignee": "-1.79e308"}),
        ("/api/v1/inbox/conversations", {"assignee": "99999999999999999999"}),
    ],
)
def test_filters_refuse_values_of_the_wrong_type(api, path, query):
    error = assert_error_body(api.get(path, query), 400, "validation_error")
    assert set(error["details"]) == set(query)


def test_an_empty_filter_means_not_filtered_as_the_schema_declares(api):
    assert api.get("/api/v1/website/sites", {"is_active": ""}).status_code == 200
    parameters = _schema()["paths"]["/api/v1/website/sites"]["get"]["parameters"]
    assert next(p for p in parameters if p["name"] == "is_active")["allowEmptyValue"] is True


def test_form_bodies_are_refused_by_the_json_api(api):
    response = api.post("/api/v1/contacts", {"name": "Ana"}, format="multipart")
    assert_error_body(response, 415)


def test_variant_weights_below_zero_are_a_400_not_a_constraint_crash(api):
    body = {**EXPERIMENT, "variants": [{"key": "a", "is_control": True, "weight": -1}, {"key": "b"}]}
    error = assert_error_body(api.post("/api/v1/experiments", body, format="json"), 400, "validation_error")
    assert "variants" in error["details"]


def test_nullable_and_blank_fields_are_declared_as_returned():
    components = _schema()["components"]["schemas"]
    assert components["ABTest"]["properties"]["winner"]["nullable"] is True
    assert components["ConversationList"]["properties"]["assignee"]["nullable"] is True
    sentiment = components["SocialComment"]["properties"]["sentiment"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in sentiment["oneOf"]
