"""Webhook processing: failures are recorded and retried, never lost; the sweeper re-enqueues."""

from datetime import timedelta

import pytest
from django.utils import timezone

from madansara.channels import tasks
from madansara.channels.models import InboundMessage, WebhookEvent, WebhookStatus
from madansara.channels.retry import WEBHOOK
from madansara.channels.webhooks import processing
from madansara.channels.webhooks.processing import webhook_event_process, webhook_event_retry

pytestmark = pytest.mark.django_db


def stored_twilio_message(sid="SM1", body="Hi"):
    import json

    params = {"MessageSid": sid, "From": "+14155550100", "To": "+15005550006", "Body": body}
    return WebhookEvent.objects.create(
        provider="twilio", kind="message", dedup_key=f"twilio:message:{sid}", body=json.dumps(params)
    )


def test_a_failing_processor_marks_the_event_failed_and_keeps_it(monkeypatch):
    event = stored_twilio_message()

    def broken(event):
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(processing.PROCESSORS, ("twilio", "message"), broken)
    with pytest.raises(RuntimeError):
        webhook_event_process(event=event)

    event.refresh_from_db()
    assert (event.status, event.attempts) == (WebhookStatus.FAILED, 1)
    assert "database hiccup" in event.last_error


def test_a_failed_event_processed_again_succeeds_once(monkeypatch, django_capture_on_commit_callbacks):
    event = stored_twilio_message()
    monkeypatch.setitem(processing.PROCESSORS, ("twilio", "message"), lambda e: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        webhook_event_process(event=event)
    monkeypatch.undo()

    # when an operator retries it (admin action → service → task)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_retry(event=WebhookEvent.objects.get(pk=event.pk))

    event.refresh_from_db()
    assert (event.status, event.attempts, event.last_error) == (WebhookStatus.PROCESSED, 2, "")
    assert InboundMessage.objects.count() == 1
    # and processing it yet again changes nothing
    assert webhook_event_process(event=event) is False
    assert InboundMessage.objects.count() == 1


def test_a_processing_error_rolls_back_everything_it_wrote(monkeypatch):
    event = stored_twilio_message()
    original = processing.process_twilio_message

    def half_then_crash(event):
        original(event)
        raise RuntimeError("after writing")

    monkeypatch.setitem(processing.PROCESSORS, ("twilio", "message"), half_then_crash)
    with pytest.raises(RuntimeError):
        webhook_event_process(event=event)

    assert InboundMessage.objects.count() == 0


def test_the_sweeper_re_enqueues_stale_pending_and_failed_events(monkeypatch):
    stale = stored_twilio_message("SM1")
    WebhookEvent.objects.filter(pk=stale.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    fresh = stored_twilio_message("SM2")
    failed = stored_twilio_message("SM3")
    WebhookEvent.objects.filter(pk=failed.pk).update(status=WebhookStatus.FAILED, attempts=3)
    exhausted = stored_twilio_message("SM4")
    WebhookEvent.objects.filter(pk=exhausted.pk).update(
        status=WebhookStatus.FAILED, attempts=tasks.MAX_WEBHOOK_ATTEMPTS
    )
    queued = []
    monkeypatch.setattr(tasks.webhook_event_process_task, "delay", lambda pk: queued.append(pk))

    assert tasks.webhook_events_sweep_task() == 2

    assert sorted(queued) == sorted([stale.pk, failed.pk])
    assert fresh.pk not in queued


def test_a_failed_event_is_retried_by_the_sweep_when_the_webhook_policy_says_and_only_once(monkeypatch):
    # given an event whose processing fails once
    event = stored_twilio_message("SM5")
    monkeypatch.setitem(processing.PROCESSORS, ("twilio", "message"), lambda e: 1 / 0)
    before = timezone.now()
    with pytest.raises(ZeroDivisionError):
        tasks.webhook_event_process_task.apply(args=(event.pk,)).get()
    event.refresh_from_db()
    # then it is due again after the WEBHOOK policy's first (jittered) delay
    assert event.status == WebhookStatus.FAILED and event.attempts == 1
    assert before + timedelta(seconds=WEBHOOK.base / 2) <= event.retry_at
    assert event.retry_at <= timezone.now() + timedelta(seconds=WEBHOOK.base)
    queued = []
    monkeypatch.setattr(tasks.webhook_event_process_task, "delay", lambda pk: queued.append(pk))
    # when the sweep runs before that, it leaves the event alone
    assert tasks.webhook_events_sweep_task() == 0
    # when the delay is over, the sweep enqueues it once, and the next sweeps do not again
    WebhookEvent.objects.filter(pk=event.pk).update(retry_at=timezone.now() - timedelta(seconds=1))
    assert tasks.webhook_events_sweep_task() == 1
    assert tasks.webhook_events_sweep_task() == 0
    assert queued == [event.pk]
    assert WebhookEvent.objects.get(pk=event.pk).status == WebhookStatus.PENDING
