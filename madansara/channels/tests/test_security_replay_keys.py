"""Security hygiene: webhook replay keys are pruned once the provider can no longer redeliver.

Issue #22: the replay keys of Meta, X, LinkedIn and Twilio webhooks (WebhookEvent.dedup_key, a
unique index) were never pruned, so the index grew for ever. They are now kept for each
provider's retry window (plus a margin) by an hourly beat job, and a redelivery inside the window
is still refused.
"""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from madansara.channels.models import InboundMessage, WebhookEvent
from madansara.channels.schedules import SCHEDULES
from madansara.channels.tasks import webhook_replay_keys_prune_task
from madansara.channels.tests.conftest import hmac_b64, hmac_hex
from madansara.channels.webhooks.processing import REPLAY_KEY_MARGIN, RETRY_WINDOWS, webhook_replay_keys_prune

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def event(provider: str, age: timedelta, key: str) -> WebhookEvent:
    return WebhookEvent.objects.create(provider=provider, kind="event", dedup_key=key, received_at=NOW - age, body="{}")


@pytest.mark.parametrize("provider", ["meta", "x", "linkedin", "twilio", "sendgrid", "someone-new"])
def test_keys_are_kept_inside_the_retry_window_and_pruned_after_it(provider):
    window = RETRY_WINDOWS.get(provider, timedelta(days=7)) + REPLAY_KEY_MARGIN
    fresh = event(provider, window - timedelta(minutes=5), f"{provider}:fresh")
    old = event(provider, window + timedelta(minutes=5), f"{provider}:old")

    assert webhook_replay_keys_prune(now=NOW) == 1

    fresh.refresh_from_db()
    old.refresh_from_db()
    assert fresh.dedup_key == f"{provider}:fresh"
    assert old.dedup_key is None
    assert WebhookEvent.objects.count() == 2  # the events themselves stay


def test_meta_retries_for_36_hours_and_x_replays_for_5_days():
    assert RETRY_WINDOWS["meta"] >= timedelta(hours=36)
    assert RETRY_WINDOWS["x"] >= timedelta(days=5)
    assert set(RETRY_WINDOWS) >= {"meta", "x", "linkedin", "twilio", "sendgrid"}


def test_the_prune_job_is_declared_for_beat_and_runs_the_service():
    event("twilio", timedelta(days=30), "twilio:message:SM1")

    call_command("sync_periodic_tasks")

    declared = SCHEDULES["channels.webhook-replay-keys-prune"]
    assert declared.task == "madansara.channels.tasks.webhook_replay_keys_prune_task"
    assert PeriodicTask.objects.get(name="channels.webhook-replay-keys-prune").enabled
    assert webhook_replay_keys_prune_task.delay().get() == 1
    assert WebhookEvent.objects.get().dedup_key is None


DM = {
    "for_user_id": "100",
    "direct_message_events": [
        {
            "type": "message_create",
            "id": "dm-77",
            "created_timestamp": "1764070000000",
            "message_create": {"target": {"recipient_id": "100"}, "sender_id": "42", "message_data": {"text": "yo"}},
        }
    ],
    "users": {"42": {"id": "42", "screen_name": "Ada", "name": "Ada L"}},
}


def test_a_redelivery_inside_the_window_is_refused_and_a_replay_after_pruning_changes_nothing(
    client, webhook_secrets, django_capture_on_commit_callbacks
):
    body = json.dumps(DM).encode()
    headers = {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": "sha256=" + hmac_b64("x-secret", body)}

    def deliver():
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/webhooks/x", data=body, content_type="application/json", **headers)

    assert deliver().status_code == 200
    assert deliver().status_code == 200  # acknowledged, but not stored twice
    assert WebhookEvent.objects.count() == 1

    WebhookEvent.objects.update(received_at=NOW - RETRY_WINDOWS["x"] - REPLAY_KEY_MARGIN - timedelta(hours=1))
    assert webhook_replay_keys_prune() == 1
    deliver()

    assert InboundMessage.objects.filter(external_id__contains="dm-77").count() == 1


def test_linkedin_and_meta_keys_are_pruned_too(client, webhook_secrets, django_capture_on_commit_callbacks):
    li = json.dumps({"notifications": []}).encode()
    meta = json.dumps({"object": "page", "entry": []}).encode()
    client.post(
        "/webhooks/linkedin", data=li, content_type="application/json", HTTP_X_LI_SIGNATURE=hmac_hex("li-secret", li)
    )
    client.post(
        "/webhooks/meta",
        data=meta,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256="sha256=" + hmac_hex("meta-secret", meta),
    )
    assert WebhookEvent.objects.filter(dedup_key__isnull=False).count() == 2

    assert webhook_replay_keys_prune(now=timezone.now() + timedelta(days=2, hours=13)) == 2
