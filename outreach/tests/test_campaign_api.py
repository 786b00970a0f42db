"""Campaigns API and admin: CRUD, verbs, preview, test send, results; roles; one error body."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from madansara.models import AuditEvent
from madansara.tests.factories import key_client, make_user
from outreach.models import OutboxMessage
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import campaign, contact, template

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer_api():
    client, _ = key_client(make_user("Marketer"), ["outreach:write"])
    return client


def test_marketer_builds_and_launches_a_campaign_through_the_api(marketer_api):
    person = contact()
    segment = marketer_api.post("/api/v1/segments", {"name": "vip", "is_static": True, "contacts": [person.pk]})
    assert segment.status_code == 201, segment.json()
    tpl = marketer_api.post(
        "/api/v1/channel-templates",
        {"name": "welcome", "channel": "email", "subject": "Hi {{ contact.first_name }}", "text": "Hello"},
    )
    camp = marketer_api.post("/api/v1/campaigns", {"name": "Welcome", "segment": segment.json()["id"]})
    assert camp.status_code == 201
    camp_id = camp.json()["id"]
    step = marketer_api.post(
        "/api/v1/campaign-steps",
        {"campaign": camp_id, "position": 1, "kind": "send", "channel": "email", "templates": [tpl.json()["id"]]},
    )
    assert step.status_code == 201, step.json()

    launched = marketer_api.post(f"/api/v1/campaigns/{camp_id}/launch")
    assert launched.status_code == 200 and launched.json()["status"] == "running"
    assert marketer_api.post(f"/api/v1/campaigns/{camp_id}/pause").json()["status"] == "paused"
    assert marketer_api.post(f"/api/v1/campaigns/{camp_id}/resume").json()["status"] == "running"
    audited = AuditEvent.objects.filter(target_type="outreach.outreachcampaign", target_id=str(camp_id))
    assert list(audited.order_by("id").values_list("action", flat=True)) == [
        "campaign.launch", "campaign.pause", "campaign.resume"
    ]  # fmt: skip
    # a second resume is a state error in the project's error body
    error = marketer_api.post(f"/api/v1/campaigns/{camp_id}/resume")
    assert error.status_code == 400 and error.json()["error"]["code"] == "validation_error"


def test_invalid_template_is_refused_with_a_clear_message(marketer_api):
    response = marketer_api.post(
        "/api/v1/channel-templates", {"name": "bad", "channel": "sms", "text": "Hi {{ contact.secret }} {% if %}"}
    )
    assert response.status_code == 400
    body = response.json()["error"]
    assert "unknown variable 'contact.secret'" in str(body["details"]) or "syntax error" in body["message"]


def test_launch_without_a_send_step_is_refused(marketer_api):
    camp = campaign(status="draft", steps=[{"kind": "wait", "wait_hours": 1}])
    response = marketer_api.post(f"/api/v1/campaigns/{camp.pk}/launch")
    assert response.status_code == 400
    assert "send step" in response.json()["error"]["message"]


def test_preview_and_test_send(marketer_api):
    person = contact(name="Lina Joseph")
    camp = campaign(contacts=[person], status="draft")
    preview = marketer_api.post(f"/api/v1/campaigns/{camp.pk}/preview", {"step": 1, "contact": person.pk})
    assert preview.status_code == 200
    assert preview.json()["subject"] == "Hello Lina"
    sent = marketer_api.post(
        f"/api/v1/campaigns/{camp.pk}/test-send", {"step": 1, "contact": person.pk, "to": "qa@example.com"}
    )
    assert sent.status_code == 201 and sent.json()["status"] == "sent"


def test_results_report_per_step_channel_guards_and_holdout(marketer_api, django_assert_max_num_queries):
    people = [contact() for _ in range(4)] + [contact(consent="unknown")]
    camp = campaign(contacts=people)
    now = timezone.now()
    campaign_plan(campaign=camp, now=now)
    OutboxMessage.objects.update(due_at=now)
    outbox_dispatch(now=now)
    with django_assert_max_num_queries(12):
        results = marketer_api.get(f"/api/v1/campaigns/{camp.pk}/results").json()
    row = results["by_step_channel"][0]
    assert (row["sent"], row["held"]) == (4, 1)
    assert results["held_back"] == {"no_channel": 1}
    assert results["lift"]["treated"] == 5


def test_an_agent_cannot_launch_campaigns(db):
    agent = make_user("Agent")
    with pytest.raises(ValidationError, match="cannot write outreach"):
        key_client(agent, ["outreach:write"])  # editing contacts gives no write access to outreach
    client = APIClient()  # signed in: only the role decides
    client.force_authenticate(agent)
    camp = campaign(status="draft")
    assert client.post(f"/api/v1/campaigns/{camp.pk}/launch").status_code == 403


def test_campaign_list_has_no_n_plus_one(marketer_api, django_assert_max_num_queries):
    for _ in range(5):
        campaign(steps=[{"kind": "send", "channel": "email"}, {"kind": "wait", "wait_hours": 2}])
    with django_assert_max_num_queries(8):
        response = marketer_api.get("/api/v1/campaigns")
    assert response.json()["count"] == 5


def test_admin_campaign_page_renders_the_results_chart(admin_client):
    people = [contact() for _ in range(2)]
    camp = campaign(contacts=people)
    campaign_plan(campaign=camp, now=timezone.now())
    page = admin_client.get(f"/admin/outreach/outreachcampaign/{camp.pk}/change/")
    assert page.status_code == 200
    assert b"<svg" in page.content
    for path in ("outboxmessage", "channeltemplate", "templatevariant", "segment", "campaignenrollment"):
        assert admin_client.get(f"/admin/outreach/{path}/").status_code == 200
    template()  # a saved template


def test_admin_launch_action_calls_the_service(admin_client):
    camp = campaign(status="draft")
    admin_client.post("/admin/outreach/outreachcampaign/", {"action": "launch", "_selected_action": [camp.pk]})
    camp.refresh_from_db()
    assert camp.status == "running"
