"""Thin Celery entry points of the notifications."""

from celery import shared_task

from madansara.notifications import services


@shared_task(acks_late=True)
def deliveries_send_due_task() -> int:
    """Send due deliveries (idempotent: each is claimed before it is sent)."""
    return services.deliveries_send_due()


@shared_task(acks_late=True)
def notices_check_task() -> int:
    """Run the apps' notice checks (SLA, risky conversations, experiments, providers)."""
    return services.notices_check().raised


@shared_task(acks_late=True)
def digests_send_task() -> int:
    """The daily digest e-mails."""
    return services.digests_send()
