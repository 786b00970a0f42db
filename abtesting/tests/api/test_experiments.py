import pytest
from rest_framework.test import APIClient

from abtesting import services
from abtesting.models import ABTestExposure, ABTestStatus
from madansara.models import APIKey
from website.models import Site

pytestmark = pytest.mark.django_db

NEW_TEST = {
    "key": "subject-test",
    "name": "Subject line",
    "surface": "email_subject",
    "primary_metric": "open",
    "guardrail_metrics": ["unsubscribe"],
    "channel": "email",
    "variants": [
        {"key": "control", "is_control": True, "weight": 1, "content": {"subject": "Hello"}},
        {"key": "emoji", "is_control": False, "weight": 1, "content": {"subject": "Hello 👋"}},
    ],
}


def _client(user, scopes):
    raw, prefix, hashed = APIKey.generate()
    APIKey.objects.create(name="k", user=user, prefix=prefix, hashed_key=hashed, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def writer(admin_user):
    return _client(admin_user, ["abtesting:write"])


def test_create_start_and_read_an_experiment(writer):
    # when an integrator creates and starts a test
    created = writer.post("/api/v1/experiments", NEW_TEST, format="json")
    assert created.status_code == 201, created.json()
    started = writer.post("/api/v1/experiments/subject-test/start", {"reason": "go"}, format="json")
    # then it runs, with its variants and a decision log
    assert started.status_code == 200 and started.json()["status"] == "running"
    assert [v["key"] for v in started.json()["variants"]] == ["control", "emoji"]
    log = writer.get("/api/v1/experiments/subject-test/decisions").json()
    assert [d["action"] for d in log["results"]] == ["started"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"variants": NEW_TEST["variants"][:1]}, "at least two variants"),
        ({"variants": [dict(v, is_control=True) for v in NEW_TEST["variants"]]}, "Exactly one variant"),
        ({"alpha": 0.9}, "alpha"),
    ],
)
def test_invalid_experiments_get_the_project_error_body(writer, change, message):
    response = writer.post("/api/v1/experiments", NEW_TEST | change, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert message in str(response.json()["error"])


def test_running_test_refuses_variant_changes(writer):
    writer.post("/api/v1/experiments", NEW_TEST, format="json")
    writer.post("/api/v1/experiments/subject-test/start", {}, format="json")
    response = writer.patch("/api/v1/experiments/subject-test", {"variants": NEW_TEST["variants"]}, format="json")
    assert response.status_code == 400


def test_assignments_endpoint_assigns_and_logs_exposure_once(writer):
    writer.post("/api/v1/experiments", NEW_TEST, format="json")
    writer.post("/api/v1/experiments/subject-test/start", {}, format="json")
    first = writer.get("/api/v1/experiments/assignments", {"unit": "u-42"})
    second = writer.get("/api/v1/experiments/assignments", {"unit": "u-42"})
    assert first.status_code == 200
    assert first.json() == second.json()
    assert first.json()["assignments"]["subject-test"] in {"control", "emoji"}
    assert ABTestExposure.objects.filter(unit_id="u-42").count() == 1
    assert writer.get("/api/v1/experiments/assignments").status_code == 400


def test_read_scope_cannot_start_a_test(admin_user, writer):
    writer.post("/api/v1/experiments", NEW_TEST, format="json")
    reader = _client(admin_user, ["abtesting:read"])
    assert reader.get("/api/v1/experiments").status_code == 200
    assert reader.get("/api/v1/experiments/assignments", {"unit": "x"}).status_code == 200
    response = reader.post("/api/v1/experiments/subject-test/start", {}, format="json")
    assert response.status_code == 403
    other = _client(admin_user, ["inbox:write"])
    assert other.get("/api/v1/experiments").status_code == 403


def test_results_history_and_manual_rollout(writer):
    writer.post("/api/v1/experiments", NEW_TEST, format="json")
    writer.post("/api/v1/experiments/subject-test/start", {}, format="json")
    assert writer.get("/api/v1/experiments/subject-test/results").status_code == 404
    for i in range(20):
        writer.get("/api/v1/experiments/assignments", {"unit": f"u{i}"})
    writer.post("/api/v1/experiments/subject-test/refresh", format="json")  # eager task on commit
    services.results_refresh()
    results = writer.get("/api/v1/experiments/subject-test/results").json()
    assert sum(arm["units"] for arm in results["results"]["arms"].values()) == 20
    assert len(writer.get("/api/v1/experiments/subject-test/history").json()["results"]) >= 1
    bad = writer.post("/api/v1/experiments/subject-test/rollout", {"variant": "nope"}, format="json")
    assert bad.status_code == 400
    done = writer.post("/api/v1/experiments/subject-test/rollout", {"variant": "emoji"}, format="json")
    assert done.json()["status"] == ABTestStatus.ROLLED_OUT and done.json()["winner"] == "emoji"
    # the rest of the audience now gets the winner
    assert writer.get("/api/v1/experiments/assignments", {"unit": "late"}).json()["assignments"] == {
        "subject-test": "emoji"
    }


def test_sample_size_calculator(writer):
    response = writer.get("/api/v1/experiments/sample-size", {"baseline": 0.1, "mde": 0.1})
    assert response.status_code == 200
    assert response.json()["n_per_arm"] == 14745
    inverse = writer.get("/api/v1/experiments/sample-size", {"baseline": 0.1, "n": 14745}).json()
    assert inverse["mde"] == pytest.approx(0.1, abs=1e-4)
    assert writer.get("/api/v1/experiments/sample-size", {"baseline": 0.1}).status_code == 400


@pytest.fixture
def site():
    return Site.objects.create(name="Shop", domain="shop.example.com", allowed_origins=["https://shop.example.com"])


def test_public_site_endpoint_serves_website_tests_with_cors_for_allowed_origins(make_test, site):
    # given a running website test on the site and an email test elsewhere
    make_test("hero-cta", surface="website_cta", site=site)
    make_test("subject", surface="email_subject")
    client = APIClient()
    # when the tracker asks from the site's origin
    response = client.get(
        "/ab/assignments", {"site_key": site.public_key, "unit": "anon-1"}, HTTP_ORIGIN="https://shop.example.com"
    )
    # then it gets only the site's website tests, with CORS for that origin
    assert response.status_code == 200
    assert list(response.json()["assignments"]) == ["hero-cta"]
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"
    # and other origins get no CORS grant
    evil = client.get(
        "/ab/assignments", {"site_key": site.public_key, "unit": "anon-1"}, HTTP_ORIGIN="https://evil.example"
    )
    assert "Access-Control-Allow-Origin" not in evil
    preflight = client.options(
        f"/ab/assignments?site_key={site.public_key}&unit=x", HTTP_ORIGIN="https://shop.example.com"
    )
    assert preflight["Access-Control-Allow-Origin"] == "https://shop.example.com"


def test_public_endpoint_rejects_unknown_site_keys(site):
    response = APIClient().get("/ab/assignments", {"site_key": "site_nope", "unit": "u"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_public_endpoint_honours_url_targeting(make_test, site):
    make_test("pricing-copy", surface="website_copy", site=site, url_pattern=r"/pricing")
    client = APIClient()
    on = client.get(
        "/ab/assignments", {"site_key": site.public_key, "unit": "u", "url": "https://shop.example.com/pricing"}
    )
    off = client.get("/ab/assignments", {"site_key": site.public_key, "unit": "u", "url": "https://shop.example.com/"})
    assert "pricing-copy" in on.json()["assignments"] and off.json()["assignments"] == {}


def test_list_does_not_query_per_experiment(writer, make_test, django_assert_max_num_queries):
    for i in range(8):
        make_test(f"t{i}")
    with django_assert_max_num_queries(8):  # auth, count, page, variants, winners
        response = writer.get("/api/v1/experiments")
    assert response.json()["count"] == 8
