"""Channels API: messages with timelines, inbound messages, webhook events, scopes."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from madansara.channels.models import WebhookEvent, WebhookStatus
from madansara.channels.services import message_send
from madansara.models import APIKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(db):
    def make(scopes=("channels:write",)):
        user = get_user_model().objects.create_superuser(f"u{APIKey.objects.count()}", "a@example.com", "pw")
        raw, prefix, hashed = APIKey.generate()
        APIKey.objects.create(name="k", user=user, prefix=prefix, hashed_key=hashed, scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


def test_message_list_is_filterable_without_n_plus_1(api, make_message, django_assert_max_num_queries):
    for i in range(5):
        message_send(message=make_message(to=f"p{i}@example.com"))
    make_message(channel="sms", to="+14155550100")
    client = api()

    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/messages", {"channel": "email", "status": "sent"})

    assert response.status_code == 200
    assert response.json()["count"] == 5


def test_message_detail_has_attempts_and_events(api, make_message):
    message = make_message()
    message_send(message=message)

    data = api().get(f"/api/v1/messages/{message.pk}").json()

    assert [a["outcome"] for a in data["attempts"]] == ["success"]
    assert [e["kind"] for e in data["events"]] == ["sent"]


def test_simulate_a_sandbox_reply(api, make_message):
    message = make_message(subject="Hello")
    message_send(message=message)

    response = api().post(f"/api/v1/messages/{message.pk}/simulate", {"event": "reply"}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "replied"
    inbound = api().get("/api/v1/inbound-messages", {"in_reply_to_message": str(message.pk)}).json()
    assert inbound["count"] == 1


def test_simulate_rejects_unknown_events_and_real_providers(api, sent_message):
    message = sent_message()
    client = api()

    bad = client.post(f"/api/v1/messages/{message.pk}/simulate", {"event": "explode"}, format="json")
    real = client.post(f"/api/v1/messages/{message.pk}/simulate", {"event": "open"}, format="json")

    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    assert real.status_code == 409


def test_read_only_key_cannot_simulate_or_retry(api, make_message):
    message = make_message()
    message_send(message=message)
    event = WebhookEvent.objects.create(provider="x", kind="event", status=WebhookStatus.FAILED, body="{}")
    client = api(scopes=("channels:read",))

    assert client.get("/api/v1/messages").status_code == 200
    assert client.post(f"/api/v1/messages/{message.pk}/simulate", {"event": "open"}, format="json").status_code == 403
    assert client.post(f"/api/v1/webhook-events/{event.pk}/retry").status_code == 403


def test_retry_a_failed_webhook_event(api, django_capture_on_commit_callbacks):
    event = WebhookEvent.objects.create(provider="x", kind="event", status=WebhookStatus.FAILED, body="{}")
    client = api()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/webhook-events/{event.pk}/retry")

    assert response.status_code == 202
    event.refresh_from_db()
    assert event.status == WebhookStatus.PROCESSED
    assert client.post(f"/api/v1/webhook-events/{event.pk}/retry").status_code == 409


def test_channel_status(api):
    data = api().get("/api/v1/channels/status").json()

    assert {row["channel"] for row in data} >= {"email", "sms", "whatsapp", "x"}
    assert all(set(row) == {"channel", "label", "provider", "live", "manual_approval_only"} for row in data)
    assert [row["channel"] for row in data if row["manual_approval_only"]] == ["linkedin"]
