"""Thin Celery entry points for outbound webhook deliveries."""

from celery import shared_task

from madansara.webhooks_out import services


@shared_task(name="madansara.webhooks_out.tasks.webhook_deliver_task", acks_late=True)
def webhook_deliver_task(delivery_id: int) -> str:
    """First attempt right after the event; retries are picked up by the beat job."""
    return services.webhook_deliver(delivery_id=delivery_id)


@shared_task(name="madansara.webhooks_out.tasks.webhook_deliveries_due_task", soft_time_limit=110, time_limit=120)
def webhook_deliveries_due_task() -> dict:
    return services.webhook_deliveries_due()
