"""Thin Celery entry points: load by id, call a service."""

from celery import shared_task

from inbox.services import conversations, drafts
from inbox.services.classification import ClassificationRetry, inbound_classify
from inbox.services.sla import sla_record_breaches
from madansara.channels.models import InboundMessage, Message, MessageStatus
from madansara.channels.services import message_send

CLASSIFY_MAX_RETRIES = 4


@shared_task(bind=True, max_retries=CLASSIFY_MAX_RETRIES, acks_late=True)
def classify_inbound_task(self, inbound_id: int) -> None:
    """Classify, then draft/auto-send; transient LLM errors retry with backoff, then a human."""
    inbound = InboundMessage.objects.filter(pk=inbound_id).first()
    if inbound is None:
        return
    try:
        inbound_classify(inbound=inbound, final_attempt=self.request.retries >= self.max_retries)
    except ClassificationRetry as exc:
        raise self.retry(exc=exc, countdown=min(600, 15 * 2**self.request.retries)) from exc
    drafts.inbound_after_classification(inbound=inbound)


@shared_task(acks_late=True)
def classify_batch_task(inbound_ids: list[int]) -> None:
    """Backlog catch-up: classify many messages in one worker run (local engine is cheap)."""
    for inbound_id in inbound_ids:
        classify_inbound_task.apply(args=(inbound_id,))


@shared_task(bind=True, max_retries=5, acks_late=True)
def send_reply_task(self, message_id: str) -> None:
    """Retry a reply the provider refused transiently."""
    message = Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED).first()
    if message is None:
        return
    message_send(message=message)
    message.refresh_from_db()
    if message.status == MessageStatus.QUEUED:
        raise self.retry(countdown=min(900, 30 * 2**self.request.retries))


@shared_task
def reopen_snoozed_task() -> int:
    return conversations.conversations_reopen_snoozed()


@shared_task
def sla_breaches_task() -> int:
    return sla_record_breaches()
