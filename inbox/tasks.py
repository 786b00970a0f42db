"""Thin Celery entry points: load by id, call a service."""

from celery import shared_task

from inbox.services import conversations, drafts
from inbox.services.classification import ClassificationRetry, inbound_classify
from inbox.services.presence import presence_prune
from inbox.services.sla import sla_record_breaches
from madansara.channels.models import InboundMessage
from madansara.channels.retry import CLASSIFY
from madansara.channels.tasks import message_send_task

CLASSIFY_MAX_RETRIES = CLASSIFY.max_attempts - 1


@shared_task(bind=True, max_retries=CLASSIFY_MAX_RETRIES, acks_late=True)
def classify_inbound_task(self, inbound_id: int) -> None:
    """Classify, then draft/auto-send; transient LLM errors retry with backoff, then a human."""
    inbound = InboundMessage.objects.filter(pk=inbound_id).first()
    if inbound is None:
        return
    try:
        inbound_classify(inbound=inbound, final_attempt=self.request.retries >= self.max_retries)
    except ClassificationRetry as exc:
        raise self.retry(exc=exc, countdown=CLASSIFY.countdown(self.request.retries)) from exc
    drafts.inbound_after_classification(inbound=inbound)


@shared_task(acks_late=True)
def classify_batch_task(inbound_ids: list[int]) -> None:
    """Backlog catch-up: classify many messages in one worker run (local engine is cheap)."""
    for inbound_id in inbound_ids:
        classify_inbound_task.apply(args=(inbound_id,))


@shared_task(acks_late=True)
def send_reply_task(message_id: str) -> None:
    """Kept for replies queued before it was retired: channels' message_send_task retries them now
    (one retry task per message, so no two retry chains resend the same queued message)."""
    message_send_task.apply_async((message_id,), countdown=1)


@shared_task
def reopen_snoozed_task() -> int:
    return conversations.conversations_reopen_snoozed()


@shared_task
def sla_breaches_task() -> int:
    return sla_record_breaches()


@shared_task
def presence_prune_task() -> int:
    return presence_prune()
