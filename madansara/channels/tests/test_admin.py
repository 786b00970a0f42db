"""The admin: provider status without secrets, timelines, retry and simulate actions."""

import pytest
from django.urls import reverse

from madansara.channels.models import WebhookEvent, WebhookStatus
from madansara.channels.services import message_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_client):
    return admin_client


@pytest.mark.parametrize(
    "model",
    [
        "message",
        "sandboxmessage",
        "deliveryattempt",
        "messageevent",
        "webhookevent",
        "inboundmessage",
        "ratelimitbucket",
    ],
)
def test_every_changelist_renders(staff, model, make_message):
    message_send(message=make_message())

    assert staff.get(reverse(f"admin:channels_{model}_changelist")).status_code == 200


def test_message_list_shows_live_vs_sandbox_and_never_a_secret(staff, settings):
    settings.SENDGRID_API_KEY = "SG.super-secret-value"
    settings.META_APP_SECRET = "meta-secret-value"

    html = staff.get(reverse("admin:channels_message_changelist")).content.decode()

    assert "sendgrid" in html and "live" in html and "sandbox" in html
    assert "super-secret-value" not in html and "meta-secret-value" not in html


def test_message_page_shows_attempts_and_events(staff, make_message):
    message = make_message(to="fail-permanent@example.com")
    message_send(message=message)

    html = staff.get(reverse("admin:channels_message_change", args=[message.pk])).content.decode()

    assert "sandbox_rejected" in html and "Failed" in html


def test_retry_action_reprocesses_failed_events(staff, django_capture_on_commit_callbacks):
    import json

    event = WebhookEvent.objects.create(
        provider="twilio",
        kind="message",
        dedup_key="k1",
        status=WebhookStatus.FAILED,
        attempts=1,
        body=json.dumps({"MessageSid": "SM9", "From": "+14155550100", "Body": "hi"}),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:channels_webhookevent_changelist"),
            {"action": "retry_processing", "_selected_action": [event.pk]},
        )

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == WebhookStatus.PROCESSED


def test_simulate_action_on_sandbox_messages(staff, make_message):
    message = make_message()
    message_send(message=message)

    staff.post(
        reverse("admin:channels_sandboxmessage_changelist"),
        {"action": "simulate_open", "_selected_action": [message.pk]},
    )

    message.refresh_from_db()
    assert message.status == "opened"
