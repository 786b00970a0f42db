"""Thin Celery entry points of the channel layer."""

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from madansara.channels.models import AttemptOutcome, Message, WebhookEvent, WebhookStatus
from madansara.channels.retry import SEND, WEBHOOK
from madansara.channels.services import message_fail, message_send
from madansara.channels.webhooks import processing

MAX_WEBHOOK_ATTEMPTS = WEBHOOK.max_attempts
MAX_SEND_RETRIES = SEND.max_attempts - 1


@shared_task(acks_late=True)
def webhook_event_process_task(event_id: int) -> None:
    """Process one stored webhook event. A failure is recorded on the event with the time the
    WEBHOOK policy retries it; the sweep is its one retrier (no task retry chain beside it)."""
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None:
        return
    processing.webhook_event_process(event=event)


@shared_task
def webhook_events_sweep_task() -> int:
    """Every minute: re-enqueue failed events whose retry is due (WEBHOOK policy, attempts left)
    and pending ones whose processing was lost (queued over 2 minutes ago). Each is claimed
    (back to pending, stamped) before it is enqueued, so a second sweep does not enqueue it again."""
    now = timezone.now()
    stale = now - timedelta(minutes=2)
    lost = Q(status=WebhookStatus.PENDING) & (Q(retry_at=None, received_at__lt=stale) | Q(retry_at__lt=stale))
    due = Q(status=WebhookStatus.FAILED, attempts__lt=MAX_WEBHOOK_ATTEMPTS) & (Q(retry_at=None) | Q(retry_at__lte=now))
    queued = 0
    for pk in WebhookEvent.objects.filter(lost | due).order_by("received_at").values_list("pk", flat=True)[:1000]:
        if WebhookEvent.objects.filter(lost | due, pk=pk).update(status=WebhookStatus.PENDING, retry_at=now):
            webhook_event_process_task.delay(pk)
            queued += 1
    return queued


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
