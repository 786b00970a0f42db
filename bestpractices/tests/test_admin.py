"""Admin: practices, recommendations with a one-click test button, proposals, and the prediction
and recommendations panel on outreach's template and campaign pages."""

import pytest
from django.urls import reverse

from abtesting.models import ABTest
from bestpractices import services
from bestpractices.models import PatternRun, Recommendation, RecommendationStatus
from madansara.roles import ROLE_AGENT, ROLE_MARKETER
from madansara.tests.factories import make_user
from outreach.models import ChannelTemplate

pytestmark = pytest.mark.django_db

ROW = {
    "feature": "subject_question", "value": True, "baseline": False, "outcome": "opened", "lift": 0.3,
    "ci_low": 0.2, "ci_high": 0.4, "n": 1000, "n_baseline": 900, "significant": True, "p_value": 1e-6,
    "evidence": {"sends": 1000, "campaigns": 3, "experiments": 0},
}  # fmt: skip
MODEL = {"outcomes": {"opened": {"intercept": 0.0, "coefficients": {"subject_question": [[False, 0.0], [True, 1.0]]}, "unseen": {}}}}  # fmt: skip


@pytest.fixture
def template():
    services.practices_update(run=PatternRun.objects.create(model=MODEL), rows=[ROW])
    template = ChannelTemplate.objects.create(name="Spring", channel="email", subject="Spring is here.", text="Hi")
    services.recommendations_refresh(template=template)
    return template


def test_the_template_page_shows_predicted_performance_and_recommendations(client, template):
    client.force_login(make_user(ROLE_MARKETER))
    page = client.get(reverse("admin:outreach_channeltemplate_change", args=[template.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Predicted performance" in html and "opened: 50.0%" in html
    assert "Ask a question in the subject" in html


def test_one_click_on_create_test_makes_the_draft_experiment(client, template):
    client.force_login(make_user(ROLE_MARKETER))
    listing = client.get(reverse("admin:bestpractices_recommendation_changelist"))
    assert b"Create test" in listing.content
    recommendation = template_recommendation(template)
    url = reverse("admin:bestpractices_recommendation_create_test", args=[recommendation.pk])
    response = client.post(url)
    assert response.status_code == 302
    assert ABTest.objects.get().variants.get(key="treatment").content == {"subject": "Spring is here?"}
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.TESTING


def template_recommendation(template):
    return Recommendation.objects.get(template=template)


def test_agents_cannot_create_tests_from_the_admin(client, template):
    client.force_login(make_user(ROLE_AGENT))
    recommendation = template_recommendation(template)
    response = client.post(reverse("admin:bestpractices_recommendation_create_test", args=[recommendation.pk]))
    assert response.status_code == 403
    assert not ABTest.objects.exists()


@pytest.mark.parametrize("name", ["bestpractice", "recommendation", "proposedtest", "drafteditpattern", "patternrun"])
def test_the_lists_open_for_a_marketer(client, template, name):
    client.force_login(make_user(ROLE_MARKETER))
    assert client.get(reverse(f"admin:bestpractices_{name}_changelist")).status_code == 200
