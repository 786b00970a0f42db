"""Thin Celery entry points of the channel layer."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from madansara.channels.models import AttemptOutcome, Message, WebhookEvent, WebhookStatus
from madansara.channels.retry import SEND, WEBHOOK
from madansara.channels.services import message_fail, message_send
from madansara.channels.webhooks import processing

MAX_WEBHOOK_ATTEMPTS = WEBHOOK.max_attempts
MAX_SEND_RETRIES = SEND.max_attempts - 1


@shared_task(bind=True, max_retries=MAX_WEBHOOK_ATTEMPTS, acks_late=True)
def webhook_event_process_task(self, event_id: int) -> None:
    """Process one stored webhook event; a failure is retried with backoff (and swept later)."""
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None:
        return
    try:
        processing.webhook_event_process(event=event)
    except Exception as exc:
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=WEBHOOK.countdown(self.request.retries)) from exc


@shared_task
def webhook_events_sweep_task() -> int:
    """Re-enqueue events whose processing was lost (pending > 2 min) or failed with attempts left."""
    stale = timezone.now() - timedelta(minutes=2)
    ids = list(
        WebhookEvent.objects.filter(status=WebhookStatus.PENDING, received_at__lt=stale).values_list("pk", flat=True)[
            :500
        ]
    ) + list(
        WebhookEvent.objects.filter(status=WebhookStatus.FAILED, attempts__lt=MAX_WEBHOOK_ATTEMPTS).values_list(
            "pk", flat=True
        )[:500]
    )
    for pk in ids:
        webhook_event_process_task.delay(pk)
    return len(ids)


@shared_task(soft_time_limit=240, time_limit=300)
def webhook_replay_keys_prune_task() -> int:
    """Hourly: forget webhook replay keys older than their provider's retry window."""
    return processing.webhook_replay_keys_prune()


@shared_task(bind=True, max_retries=MAX_SEND_RETRIES, acks_late=True)
def message_send_task(self, message_id: str) -> None:
    """Send a queued message; a transient error is retried with the send policy (never sooner than
    the provider's Retry-After). The one retry task of a queued message, whichever app queued it."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        return
    attempt = message_send(message=message)
    if attempt is None or attempt.outcome != AttemptOutcome.TRANSIENT:
        return
    if self.request.retries >= self.max_retries:
        message_fail(message=message, code="retries_exhausted", reason=attempt.error_message)
        return
    if self.request.is_eager:
        return  # run inline (tests, CELERY_TASK_ALWAYS_EAGER): the message stays queued, the caller goes on
    raise self.retry(countdown=SEND.countdown(self.request.retries, attempt.retry_after))
