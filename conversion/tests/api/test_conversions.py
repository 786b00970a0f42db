"""The conversion API: ingest, duplicates, statistics, attribution, performance, journeys."""

from datetime import timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from conversion import services
from conversion.models import ChannelCost, ConversionEvent
from conversion.tests.conftest import NOW
from madansara.models import APIKey

pytestmark = pytest.mark.django_db

BODY = {
    "external_id": "order-42",
    "type": "purchase",
    "value": "80.00",
    "currency": "EUR",
    "occurred_at": NOW.isoformat(),
}


def test_post_records_a_conversion_and_attributes_it(api, contact, touch, django_capture_on_commit_callbacks):
    touch("email", 3, contact=contact, campaign="spring")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/conversions", {**BODY, "contact_id": contact.pk}, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["external_id"], data["type"], data["value"], data["source"]) == (
        "order-42",
        "purchase",
        "80.00",
        "api",
    )
    detail = api.get(f"/api/v1/conversions/{data['id']}").json()
    assert [(s["channel"], s["campaign"]) for s in detail["journey"]] == [("email", "spring")]


def test_duplicate_external_id_is_rejected_clearly_and_counted_once(api):
    assert api.post("/api/v1/conversions", {**BODY, "visitor_id": "v-1"}, format="json").status_code == 201
    response = api.post("/api/v1/conversions", {**BODY, "visitor_id": "v-1", "value": "1"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "duplicate_conversion"
    assert "order-42" in error["message"] and "already recorded" in error["message"]
    assert ConversionEvent.objects.get().value == Decimal("80.00")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "newsletter"}, "type"),
        ({"value": "-3"}, "value"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"contact_id": 999999}, "contact_id"),
        ({"visitor_id": ""}, "contact_id"),  # neither contact nor visitor
    ],
)
def test_bad_input_gets_a_400_with_the_project_error_body(api, change, field):
    response = api.post("/api/v1/conversions", {**BODY, "visitor_id": "v-1", **change}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]
    assert not ConversionEvent.objects.exists()


def test_key_without_conversion_scope_is_refused(admin_user):
    raw, prefix, hashed = APIKey.generate()
    APIKey.objects.create(name="r", user=admin_user, prefix=prefix, hashed_key=hashed, scopes=["conversion:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.post("/api/v1/conversions", {**BODY, "visitor_id": "v"}, format="json").status_code == 403
    assert client.get("/api/v1/conversions").status_code == 200


def test_list_filters_and_avoids_n_plus_one(api, contact, touch, django_assert_max_num_queries):
    touch("sms", 2, contact=contact)
    for i in range(5):
        conversion, _ = services.conversion_record(
            external_id=f"s-{i}", type="signup", contact_id=contact.pk, occurred_at=NOW, source="api"
        )
        services.conversions_attribute(conversion_ids=[conversion.pk])
    services.conversion_record(external_id="p", type="purchase", visitor_id="v", occurred_at=NOW, source="api")
    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/conversions", {"type": "signup"})
    assert response.json()["count"] == 5
    assert all(len(row["journey"]) == 1 for row in response.json()["results"])


def test_stats_over_time(api):
    for i, days in enumerate([0, 0, 1]):
        services.conversion_record(
            external_id=f"x{i}", type="purchase", value="10", visitor_id="v",
            occurred_at=NOW - timedelta(days=days), source="api",
        )  # fmt: skip
    response = api.get("/api/v1/conversions/stats", {"since": "2026-11-01", "until": "2026-11-30"})
    assert response.status_code == 200
    assert [(r["period"], r["conversions"], r["value"]) for r in response.json()] == [
        ("2026-11-19", 1, "10.00"),
        ("2026-11-20", 2, "20.00"),
    ]
    bad = api.get("/api/v1/conversions/stats", {"since": "2026-12-01", "until": "2026-11-01"})
    assert bad.status_code == 400


def test_attribution_side_by_side_and_performance_with_roi(api, contact, touch):
    touch("email", 4, contact=contact, campaign="spring")
    touch("paid_search", 1, contact=contact, campaign="bf")
    ChannelCost.objects.create(day=NOW.date(), channel="paid_search", campaign="bf", amount=Decimal("20"))
    conversion, _ = services.conversion_record(
        external_id="o", type="purchase", value="100", contact_id=contact.pk, occurred_at=NOW, source="api"
    )
    services.conversions_attribute(conversion_ids=[conversion.pk])
    services.channel_performance_refresh(day=NOW.date())
    table = api.get("/api/v1/attribution", {"since": "2026-11-20", "until": "2026-11-20", "by": "value"}).json()
    assert table["channels"]["email"]["first_touch"] == 100.0
    assert table["channels"]["paid_search"]["last_touch"] == 100.0
    assert table["channels"]["email"]["linear"] == 50.0
    assert all(total == pytest.approx(100.0) for total in table["totals"].values())
    rows = api.get("/api/v1/channel-performance", {"since": "2026-11-20", "channel": "paid_search"}).json()["results"]
    assert len(rows) == 1
    assert rows[0]["roi"]["last_touch"] == "4.0000"  # (100 − 20) / 20
    assert rows[0]["roi"]["first_touch"] == "-1.0000"
    assert rows[0]["cost_per_acquisition"]["first_touch"] is None
    email = api.get("/api/v1/channel-performance", {"channel": "email"}).json()["results"][0]
    assert email["roi"]["linear"] is None  # no cost: undefined
    series = api.get(
        "/api/v1/channel-performance/series", {"since": "2026-11-20", "until": "2026-11-20", "model": "linear"}
    ).json()
    assert [(p["channel"], p["cost"], p["revenue"], p["roi"]) for p in series] == [
        ("email", "0.00", "50.00", None),
        ("paid_search", "20.00", "50.00", "1.5000"),
    ]


def test_contact_journey(api, contact, touch):
    touch("whatsapp", 2, contact=contact)
    services.conversion_record(
        external_id="j", type="demo_booked", contact_id=contact.pk, occurred_at=NOW, source="api"
    )
    data = api.get(f"/api/v1/journeys/{contact.pk}").json()
    assert [t["channel"] for t in data["touchpoints"]] == ["whatsapp"]
    assert [c["type"] for c in data["conversions"]] == ["demo_booked"]
    assert api.get("/api/v1/journeys/999999").status_code == 404
