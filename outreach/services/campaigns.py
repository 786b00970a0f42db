"""Campaign lifecycle: one audited service per transition.

draft → scheduled → running ⇄ paused → completed / cancelled. Pausing stops the dispatcher
at once (it only sends rows of running campaigns); cancelling also cancels pending sends.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from madansara.audit import audit_record
from outreach import tasks
from outreach.models import CampaignStatus, OutboxMessage, OutboxStatus, OutreachCampaign, StepKind, SuppressionEntry


def _transition(*, campaign: OutreachCampaign, to: str, actor, action: str, **fields) -> OutreachCampaign:
    locked = OutreachCampaign.objects.select_for_update().get(pk=campaign.pk)
    if not locked.can_transition(to):
        raise ValidationError(f"A {locked.get_status_display().lower()} campaign cannot become {to}.")
    previous = locked.status
    locked.status = to
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", "updated_at", *fields])
    audit_record(actor=actor, action=action, target=locked, data={"from": previous, "to": to})
    campaign.refresh_from_db()
    return campaign


def campaign_check_ready(*, campaign: OutreachCampaign) -> None:
    """Raise ValidationError unless the campaign can run: at least one send step, and every send
    step has a template for its channel (or any template when auto)."""
    steps = list(campaign.steps.prefetch_related("templates"))
    sends = [step for step in steps if step.kind == StepKind.SEND]
    if not sends:
        raise ValidationError("A campaign needs at least one send step.")
    for step in sends:
        channels = {t.channel for t in step.templates.all()}
        if not channels or (step.channel != "auto" and step.channel not in channels):
            raise ValidationError(f"Step {step.position} has no template for its channel.")


@transaction.atomic
def campaign_launch(*, campaign: OutreachCampaign, actor=None, now: datetime | None = None) -> OutreachCampaign:
    """Draft → scheduled (starts_at in the future) or running."""
    now = now or timezone.now()
    campaign_check_ready(campaign=campaign)
    to = CampaignStatus.SCHEDULED if campaign.starts_at and campaign.starts_at > now else CampaignStatus.RUNNING
    fields = {"launched_at": now} if to == CampaignStatus.RUNNING else {}
    campaign = _transition(campaign=campaign, to=to, actor=actor, action="campaign.launch", **fields)
    if to == CampaignStatus.RUNNING:
        _plan_soon(campaign)
    return campaign


def _plan_soon(campaign: OutreachCampaign) -> None:
    transaction.on_commit(lambda: tasks.campaign_plan_task.delay(campaign.pk))


@transaction.atomic
def campaign_start_due(*, now: datetime | None = None) -> int:
    """Scheduled campaigns whose start time has come start running."""
    now = now or timezone.now()
    due = OutreachCampaign.objects.filter(status=CampaignStatus.SCHEDULED, starts_at__lte=now)
    started = 0
    for campaign in due:
        _transition(
            campaign=campaign, to=CampaignStatus.RUNNING, actor="beat", action="campaign.start", launched_at=now
        )
        started += 1
    return started


@transaction.atomic
def campaign_pause(*, campaign: OutreachCampaign, actor=None) -> OutreachCampaign:
    """Running → paused: nothing more is sent until it resumes."""
    return _transition(campaign=campaign, to=CampaignStatus.PAUSED, actor=actor, action="campaign.pause")


@transaction.atomic
def campaign_resume(*, campaign: OutreachCampaign, actor=None) -> OutreachCampaign:
    """Paused → running."""
    campaign = _transition(campaign=campaign, to=CampaignStatus.RUNNING, actor=actor, action="campaign.resume")
    _plan_soon(campaign)
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: OutreachCampaign, actor=None) -> OutreachCampaign:
    """Any open state → cancelled; pending sends are cancelled (a send in flight finishes)."""
    campaign = _transition(campaign=campaign, to=CampaignStatus.CANCELLED, actor=actor, action="campaign.cancel")
    OutboxMessage.objects.filter(campaign=campaign, status=OutboxStatus.PENDING).update(status=OutboxStatus.CANCELLED)
    return campaign


@transaction.atomic
def campaign_complete(*, campaign: OutreachCampaign, actor=None) -> OutreachCampaign:
    """Running → completed (every journey ended, or a recurring campaign reached its end)."""
    return _transition(
        campaign=campaign,
        to=CampaignStatus.COMPLETED,
        actor=actor,
        action="campaign.complete",
        completed_at=timezone.now(),
    )


def suppression_add(*, value: str, channel: str = "", reason: str = "") -> SuppressionEntry:
    """Never contact `value` again (on `channel`, or anywhere when blank)."""
    entry, _ = SuppressionEntry.objects.get_or_create(
        channel=channel, value=value.strip().lower() if "@" in value else value.strip(), defaults={"reason": reason}
    )
    return entry
