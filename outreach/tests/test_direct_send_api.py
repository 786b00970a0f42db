"""POST /api/v1/outreach/send: one message on the best channel, under the campaign rules, the
action policy and an Idempotency-Key."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from madansara.channels.models import Message, MessageStatus
from madansara.models import ActionPolicy, AuditEvent, PolicyAction, PolicyTier
from madansara.tests.factories import key_client, make_contact, make_user
from outreach.models import (
    ChannelTemplate,
    ContactEngagement,
    DirectSend,
    DirectSendStatus,
    FrequencyCap,
    HoldReason,
    OutboxMessage,
    SuppressionEntry,
)
from outreach.services.direct import direct_sends_due

pytestmark = pytest.mark.django_db
SEND = "/api/v1/outreach/send"
NOON_UTC = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def policy():
    def set_tier(tier):
        ActionPolicy.objects.update_or_create(action=PolicyAction.SEND_MESSAGE, defaults={"tier": tier})

    return set_tier


@pytest.fixture
def api():
    client, _ = key_client(make_user("Marketer"), ["outreach:write", "contacts:read"])
    return client


@pytest.fixture
def noon(monkeypatch):
    """Midday UTC: inside the sending window of a contact in UTC."""
    monkeypatch.setattr(timezone, "now", lambda: NOON_UTC)
    return NOON_UTC


def _opted_in(**identities):
    return make_contact(identities=identities, consents=dict.fromkeys(identities, "opted_in"))


def test_auto_policy_sends_now_on_the_best_channel(api, policy, noon):
    policy(PolicyTier.AUTO)
    contact = _opted_in(email="ana@example.com", sms="+15005550006")
    # SMS has the better population response rate than email (0.25 vs 0.15)
    response = api.post(SEND, {"contact": contact.pk, "text": "Your order shipped."}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "sent" and body["channel"] == "sms" and body["reason"] == "population"
    assert body["outcome"] == "sent on sms"
    message = Message.objects.get(pk=body["message"])
    assert message.status == MessageStatus.SENT and message.to == "+15005550006" and message.source == "direct"
    assert AuditEvent.objects.filter(action="outreach.direct_send.request", target_id=str(body["id"])).exists()


def test_contact_own_history_beats_the_population(api, policy, noon):
    policy(PolicyTier.AUTO)
    contact = _opted_in(email="bo@example.com", sms="+15005550007")
    ContactEngagement.objects.create(contact=contact, channel="email", sent=10, responses=8)
    ContactEngagement.objects.create(contact=contact, channel="sms", sent=10, responses=1)
    body = api.post(SEND, {"email": "BO@example.com", "text": "Hi"}, format="json").json()
    assert body["channel"] == "email" and body["reason"] == "contact"
    message = Message.objects.get(pk=body["message"])
    assert message.subject and "Unsubscribe" in message.text  # e-mail footer like campaigns


def test_consent_and_suppression_pick_another_channel_or_hold(api, policy, noon):
    policy(PolicyTier.AUTO)
    contact = make_contact(
        identities={"email": "cy@example.com", "sms": "+15005550008"},
        consents={"email": "opted_in", "sms": "unsubscribed"},
    )
    body = api.post(SEND, {"contact": contact.pk, "text": "Hi"}, format="json").json()
    assert body["channel"] == "email" and body["status"] == "sent"
    SuppressionEntry.objects.create(channel="", value="cy@example.com")
    body = api.post(SEND, {"contact": contact.pk, "text": "Again"}, format="json").json()
    assert body["status"] == "held" and body["hold_reason"] == HoldReason.SUPPRESSED
    assert body["outcome"].startswith("not sent")
    assert DirectSend.objects.get(pk=body["id"]).message_id is None


def test_unsubscribed_everywhere_is_held_as_unsubscribed(api, policy, noon):
    policy(PolicyTier.AUTO)
    contact = make_contact(identities={"email": "dee@example.com"}, consents={"email": "unsubscribed"})
    body = api.post(SEND, {"contact": contact.pk, "text": "Hi"}, format="json").json()
    assert body["status"] == "held" and body["hold_reason"] == HoldReason.UNSUBSCRIBED
    assert not Message.objects.exists()


def test_frequency_cap_counts_direct_sends(api, policy, noon):
    policy(PolicyTier.AUTO)
    FrequencyCap.objects.create(channel="", per_day=1)
    contact = _opted_in(email="ed@example.com")
    assert api.post(SEND, {"contact": contact.pk, "text": "1"}, format="json").json()["status"] == "sent"
    body = api.post(SEND, {"contact": contact.pk, "text": "2"}, format="json").json()
    assert body["status"] == "held" and body["hold_reason"] == HoldReason.FREQUENCY_CAP
    assert Message.objects.count() == 1


def test_quiet_hours_defer_to_the_contacts_window_then_the_beat_job_sends(api, policy, monkeypatch):
    policy(PolicyTier.AUTO)
    night = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 03:00 in UTC
    monkeypatch.setattr(timezone, "now", lambda: night)
    contact = _opted_in(email="fay@example.com")
    body = api.post(SEND, {"contact": contact.pk, "text": "Good morning"}, format="json").json()
    assert body["status"] == "scheduled" and body["hold_reason"] == HoldReason.QUIET_HOURS
    assert body["due_at"].startswith("2026-03-10T09:00") and not Message.objects.exists()
    assert direct_sends_due(now=night + timedelta(hours=1)) == {}
    assert direct_sends_due(now=datetime(2026, 3, 10, 9, 1, tzinfo=UTC)) == {"sent": 1}
    assert DirectSend.objects.get(pk=body["id"]).status == DirectSendStatus.SENT


def test_approval_policy_queues_and_a_reviewer_sends(api, policy, noon):
    policy(PolicyTier.APPROVAL)
    contact = _opted_in(email="gus@example.com")
    body = api.post(SEND, {"contact": contact.pk, "text": "Offer"}, format="json").json()
    assert body["status"] == "awaiting_approval" and body["outcome"].startswith("queued for approval")
    assert not Message.objects.exists() and not OutboxMessage.objects.exists()
    # an agent may not approve; a marketer may
    agent_api = APIClient()  # the agent's role is what refuses (an agent cannot hold an outreach:write key)
    agent_api.force_authenticate(make_user("Agent"))
    assert agent_api.post(f"/api/v1/outreach/sends/{body['id']}/approve").status_code == 403
    approved = api.post(f"/api/v1/outreach/sends/{body['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "sent"
    assert api.post(f"/api/v1/outreach/sends/{body['id']}/approve").status_code == 409


def test_default_policy_is_approval_and_rejection_sends_nothing(api, noon):
    contact = _opted_in(email="hal@example.com")
    body = api.post(SEND, {"contact": contact.pk, "text": "Offer"}, format="json").json()
    assert body["status"] == "awaiting_approval"
    rejected = api.post(f"/api/v1/outreach/sends/{body['id']}/reject", {"reason": "tone"}, format="json")
    assert rejected.json()["status"] == "rejected" and not Message.objects.exists()


def test_refused_policy_is_403_and_audited(api, policy, noon):
    ActionPolicy.objects.create(action=PolicyAction.SEND_MESSAGE, tier=PolicyTier.REFUSED, note="Sends are off")
    contact = _opted_in(email="ida@example.com")
    response = api.post(SEND, {"contact": contact.pk, "text": "Hi"}, format="json")
    assert response.status_code == 403 and response.json()["error"]["message"] == "Sends are off"
    assert not DirectSend.objects.exists()
    assert AuditEvent.objects.filter(action="outreach.direct_send.refused").exists()


def test_idempotency_key_same_body_same_result_no_second_message(api, policy, noon):
    policy(PolicyTier.AUTO)
    contact = _opted_in(email="jo@example.com")
    payload = {"contact": contact.pk, "text": "Only once"}
    first = api.post(SEND, payload, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    again = api.post(SEND, payload, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert Message.objects.count() == 1 and DirectSend.objects.count() == 1
    # same key, different body: refused, nothing sent
    other = api.post(SEND, {**payload, "text": "Changed"}, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    # another key sends again; another caller's same key is their own
    assert api.post(SEND, payload, format="json", HTTP_IDEMPOTENCY_KEY="order-43").json()["status"] == "sent"
    second_api, _ = key_client(make_user("Marketer"), ["outreach:write"])
    assert second_api.post(SEND, payload, format="json", HTTP_IDEMPOTENCY_KEY="order-42").status_code == 201
    assert Message.objects.count() == 3


def test_template_by_name_renders_for_the_contact_on_the_chosen_channel(api, policy, noon):
    policy(PolicyTier.AUTO)
    ChannelTemplate.objects.create(name="welcome", channel="email", subject="Hi {{ contact.first_name }}", text="Hello")
    ChannelTemplate.objects.create(name="welcome", channel="sms", text="Hey {{ contact.first_name }}!")
    contact = make_contact(
        name="Kim Lee",
        identities={"email": "kim@example.com", "sms": "+15005550009"},
        consents={"email": "opted_in", "sms": "unsubscribed"},
    )
    body = api.post(SEND, {"phone": "+15005550009", "template": "welcome"}, format="json").json()
    assert body["channel"] == "email"
    assert Message.objects.get(pk=body["message"]).subject == "Hi Kim"
    forced = api.post(SEND, {"contact": contact.pk, "template": "welcome", "channel": "whatsapp"}, format="json")
    assert forced.status_code == 400 and "whatsapp" in forced.json()["error"]["message"]


def test_bad_requests_are_400(api):
    assert api.post(SEND, {"text": "x"}, format="json").status_code == 400
    contact = _opted_in(email="lu@example.com")
    assert api.post(SEND, {"contact": contact.pk}, format="json").status_code == 400
    assert api.post(SEND, {"contact": 999999, "text": "x"}, format="json").status_code == 400
    assert api.post(SEND, {"contact": contact.pk, "template": "nope"}, format="json").status_code == 400


def test_read_only_key_and_analyst_cannot_send(noon):
    contact = _opted_in(email="mo@example.com")
    reader, _ = key_client(make_user("Marketer"), ["outreach:read"])
    assert reader.post(SEND, {"contact": contact.pk, "text": "x"}, format="json").status_code == 403
    analyst, _ = key_client(make_user("Analyst"), ["*:read"])
    assert analyst.post(SEND, {"contact": contact.pk, "text": "x"}, format="json").status_code == 403
    assert not DirectSend.objects.exists()


def test_transient_provider_error_is_retried_later(api, policy, noon, settings, httpserver):
    settings.SENDGRID_API_KEY = "SG.test"
    settings.SENDGRID_API_HOST = httpserver.url_for("").rstrip("/")
    settings.CHANNEL_RATE_LIMIT_BACKEND = "memory"
    policy(PolicyTier.AUTO)
    contact = _opted_in(email="nu@example.com")
    httpserver.expect_oneshot_request("/v3/mail/send").respond_with_data("busy", status=503)
    body = api.post(SEND, {"contact": contact.pk, "text": "Hi"}, format="json").json()
    assert body["status"] == "scheduled" and body["attempts"] == 1
    httpserver.expect_oneshot_request("/v3/mail/send").respond_with_data(
        "", status=202, headers={"X-Message-Id": "sg1"}
    )
    assert direct_sends_due(now=noon + timedelta(hours=2)) == {"sent": 1}
    assert Message.objects.get().provider_message_id == "sg1"


def test_admin_review_queue_approves_with_an_action(admin_client, noon):
    contact = _opted_in(email="ola@example.com")
    api, _ = key_client(make_user("Marketer"), ["outreach:write"])
    body = api.post(SEND, {"contact": contact.pk, "text": "Offer"}, format="json").json()
    page = admin_client.get("/admin/outreach/directsend/?status__exact=awaiting_approval")
    assert page.status_code == 200 and b"Awaiting approval" in page.content
    admin_client.post("/admin/outreach/directsend/", {"action": "approve", "_selected_action": [body["id"]]})
    assert DirectSend.objects.get(pk=body["id"]).status == DirectSendStatus.SENT


def test_only_admins_change_the_action_policy():
    marketer = make_user("Marketer")
    assert marketer.has_perm("madansara.view_actionpolicy")
    assert not marketer.has_perm("madansara.change_actionpolicy")
    assert make_user("Admin").has_perm("madansara.change_actionpolicy")
