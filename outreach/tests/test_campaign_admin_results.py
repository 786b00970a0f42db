"""The campaign page's results: a chart that fits its box, a lift chart that says why it is empty,
and the send-time split in words (never a Python repr)."""

import io

import pytest
from django.core.management import call_command

from outreach.models import OutreachCampaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", "--only", "madansara", "contacts", "outreach", stdout=io.StringIO())


def test_a_running_campaign_shows_results_that_fit_and_explain_an_empty_lift(admin_client, demo):
    running = OutreachCampaign.objects.get(status="running")

    page = admin_client.get(f"/admin/outreach/outreachcampaign/{running.pk}/change/").content.decode()

    assert 'viewBox="0 0 ' in page and "max-width:100%" in page  # the chart scales down with its box
    assert "the lift appears once enrolled contacts convert" in page
    assert "STO split: sto: " in page and "{'sto_arm'" not in page
    assert "USD 0.0" in page  # the step's cost as money (demo prices seeded before the sends)


def test_a_campaign_without_holdout_says_how_to_measure_lift(admin_client, demo):
    draft = OutreachCampaign.objects.get(status="draft")

    response = admin_client.get(f"/admin/outreach/outreachcampaign/{draft.pk}/change/")

    assert response.status_code == 200
    assert "No holdout: set a holdout % to measure the campaign" in response.content.decode()
