"""API: practices, recommendations (one call to a draft experiment), proposals, predictions; roles."""

import pytest
from rest_framework.test import APIClient

from abtesting.models import ABTest
from bestpractices import services
from bestpractices.models import PatternRun
from madansara.roles import ROLE_AGENT, ROLE_ANALYST, ROLE_MARKETER
from madansara.tests.factories import key_client, make_user
from outreach.models import ChannelTemplate

pytestmark = pytest.mark.django_db

ROW = {
    "feature": "subject_question", "value": True, "baseline": False, "outcome": "opened", "lift": 0.3,
    "ci_low": 0.2, "ci_high": 0.4, "n": 1000, "n_baseline": 900, "significant": True, "p_value": 1e-6,
    "evidence": {"sends": 1000, "campaigns": 3, "experiments": 0},
}  # fmt: skip


@pytest.fixture
def recommendation():
    services.practices_update(run=PatternRun.objects.create(model={}), rows=[ROW])
    template = ChannelTemplate.objects.create(name="Spring", channel="email", subject="Spring is here.", text="Hi")
    (recommendation,) = services.recommendations_refresh(template=template)
    return recommendation


def client_for(role):
    client = APIClient()
    client.force_authenticate(make_user(role))
    return client


def test_analysts_read_practices_with_their_evidence(recommendation):
    response = client_for(ROLE_ANALYST).get("/api/v1/best-practices", {"status": "candidate"})
    assert response.status_code == 200
    (practice,) = response.json()["results"]
    assert practice["feature"] == "subject_question" and practice["evidence"]["campaigns"] == 3


def test_a_marketer_turns_a_recommendation_into_a_draft_experiment_in_one_call(recommendation):
    client = client_for(ROLE_MARKETER)
    listed = client.get("/api/v1/recommendations", {"status": "open"}).json()["results"]
    assert listed[0]["change"]["to"] == "Spring is here?"
    response = client.post(f"/api/v1/recommendations/{recommendation.pk}/create-test")
    assert response.status_code == 201
    test = ABTest.objects.get(key=response.json()["experiment"])
    assert test.variants.get(key="treatment").content == {"subject": "Spring is here?"}
    again = client.post(f"/api/v1/recommendations/{recommendation.pk}/create-test")
    assert again.status_code == 400


@pytest.mark.parametrize("role", [ROLE_AGENT, ROLE_ANALYST])
def test_agents_and_analysts_cannot_create_experiments(recommendation, role):
    response = client_for(role).post(f"/api/v1/recommendations/{recommendation.pk}/create-test")
    assert response.status_code == 403
    assert not ABTest.objects.exists()


def test_an_api_key_needs_the_bestpractices_write_scope(recommendation):
    user = make_user(ROLE_MARKETER)
    reader, _ = key_client(user, ["bestpractices:read"])
    assert reader.get("/api/v1/recommendations").status_code == 200
    assert reader.post(f"/api/v1/recommendations/{recommendation.pk}/create-test").status_code == 403
    writer, _ = key_client(user, ["bestpractices:write"])
    assert writer.post(f"/api/v1/recommendations/{recommendation.pk}/create-test").status_code == 201


def test_proposals_are_approved_or_rejected_through_the_api(recommendation):
    services.tests_schedule()  # no reach: nothing worth proposing
    client = client_for(ROLE_MARKETER)
    assert client.get("/api/v1/proposed-tests").json()["count"] == 0


def test_prediction_before_sending(recommendation):
    seeded = PatternRun.objects.create(
        model={"features": [], "outcomes": {"opened": {"intercept": 0.0, "coefficients": {"subject_question": [[False, 0.0], [True, 1.0]]}, "unseen": {}}}}
    )  # fmt: skip
    client = client_for(ROLE_ANALYST)
    asking = client.post("/api/v1/predictions", {"channel": "email", "subject": "Ready?", "body": ""}).json()
    stating = client.post("/api/v1/predictions", {"channel": "email", "subject": "Ready.", "body": ""}).json()
    assert asking["run"] == seeded.pk
    assert asking["p"]["opened"] == pytest.approx(0.7311, abs=1e-3)
    assert stating["p"]["opened"] == pytest.approx(0.5)
