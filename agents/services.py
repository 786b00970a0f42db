"""Actions agents take, and the approval queue for those whose policy tier is "human approval".

Each action is one effect function whose keyword arguments are the tool's arguments, so a
request held for approval is carried out later exactly as the agent asked. `*_check` functions
refuse bad arguments when the agent asks, not only when a person approves.
"""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agents.models import ActionRequestStatus, AgentActionRequest
from conversion.models import ConversionType
from conversion.services.conversions import conversion_record
from madansara.audit import audit_record
from madansara.choices import Channel
from madansara.models import PolicyAction
from outreach.models import CampaignStep, ChannelTemplate, OutreachCampaign, Segment, StepKind


class ActionRequestError(Exception):
    """The request cannot be decided in its current state."""


# --- the effects ---------------------------------------------------------------------------------
def campaign_draft_check(*, name: str, segment_id: int, channel: str, text: str, subject: str = "") -> None:
    if not name.strip() or not text.strip():
        raise ValidationError("A campaign needs a name and a text.")
    if not Segment.objects.filter(pk=segment_id).exists():
        raise ValidationError(f"No segment #{segment_id}.")
    if channel not in Channel.values:
        raise ValidationError(f"Unknown channel '{channel}'.")
    # The template's own rules (an e-mail needs a subject, lengths, template syntax).
    ChannelTemplate(name=f"{name} ({channel})", channel=channel, subject=subject, text=text).full_clean()


@transaction.atomic
def campaign_draft_create(*, name: str, segment_id: int, channel: str, text: str, subject: str = "") -> dict:
    """A campaign in draft with one send step and its template; it never sends by itself."""
    campaign_draft_check(name=name, segment_id=segment_id, channel=channel, text=text, subject=subject)
    template = ChannelTemplate.objects.create(name=f"{name} ({channel})", channel=channel, subject=subject, text=text)
    campaign = OutreachCampaign.objects.create(name=name, segment_id=segment_id)
    step = CampaignStep.objects.create(campaign=campaign, position=1, kind=StepKind.SEND, channel=channel)
    step.templates.add(template)
    return {"campaign_id": campaign.pk, "template_id": template.pk}


def _when(occurred_at: str) -> datetime:
    try:
        when = datetime.fromisoformat(occurred_at) if occurred_at else timezone.now()
    except ValueError as exc:
        raise ValidationError(f"occurred_at is not an ISO 8601 time: {occurred_at!r}.") from exc
    return timezone.make_aware(when, timezone.UTC) if timezone.is_naive(when) else when


def conversion_check(
    *, external_id: str, type: str, value: str = "0", currency: str = "USD", contact_id=None, occurred_at: str = ""
) -> None:
    if not external_id.strip():
        raise ValidationError("external_id is required.")
    try:
        Decimal(str(value))
    except InvalidOperation as exc:
        raise ValidationError(f"value is not a decimal amount: {value!r}.") from exc
    _when(occurred_at)
    if not contact_id:
        raise ValidationError("contact_id is required.")
    if not ConversionType.objects.filter(code=type, is_active=True).exists():
        raise ValidationError(f"Unknown conversion type '{type}'.")


def conversion_record_for_agent(
    *, external_id: str, type: str, value: str = "0", currency: str = "USD", contact_id=None, occurred_at: str = ""
) -> dict:
    """Record a conversion once per external id (attributed like any other)."""
    conversion_check(
        external_id=external_id, type=type, value=value, currency=currency, contact_id=contact_id,
        occurred_at=occurred_at,
    )  # fmt: skip
    conversion, created = conversion_record(
        external_id=external_id, type=type, value=Decimal(str(value)), currency=currency, contact_id=contact_id,
        occurred_at=_when(occurred_at),
    )  # fmt: skip
    return {"conversion_id": conversion.pk, "created": created}


# action -> (argument check, effect, the permission a person needs to carry it out)
ACTIONS: dict[str, tuple[Callable[..., None], Callable[..., dict], str]] = {
    PolicyAction.CREATE_CAMPAIGN_DRAFT: (campaign_draft_check, campaign_draft_create, "outreach.add_outreachcampaign"),
    PolicyAction.RECORD_CONVERSION: (conversion_check, conversion_record_for_agent, "conversion.add_conversionevent"),
}


# --- the approval queue --------------------------------------------------------------------------
@transaction.atomic
def action_request_queue(*, action: str, arguments: dict, api_key, user) -> AgentActionRequest:
    """Hold an agent's action for a person's approval (its arguments checked first)."""
    check, _, _ = ACTIONS[action]
    check(**arguments)
    request = AgentActionRequest.objects.create(action=action, arguments=arguments, api_key=api_key, requested_by=user)
    audit_record(actor=user, action="agents.action_request.queue", target=request, data={"action": action})
    return request


def _decidable(request: AgentActionRequest, actor) -> AgentActionRequest:
    if not actor.has_perm("agents.approve_agentactionrequest"):
        raise PermissionError("Only users allowed to approve agents' actions may decide them.")
    locked = AgentActionRequest.objects.select_for_update().filter(pk=request.pk).first()
    if locked is None or locked.status != ActionRequestStatus.PENDING:
        raise ActionRequestError("This request was already decided.")
    return locked


@transaction.atomic
def action_request_approve(*, request: AgentActionRequest, actor) -> AgentActionRequest:
    """Carry out a held action as the agent asked it; arguments no longer valid mark it failed."""
    locked = _decidable(request, actor)
    _, effect, permission = ACTIONS[locked.action]
    if not actor.has_perm(permission):
        raise PermissionError(f"Approving this needs the '{permission}' permission.")
    locked.decided_by, locked.decided_at = actor, timezone.now()
    try:
        with transaction.atomic():
            locked.result = effect(**locked.arguments)
        locked.status = ActionRequestStatus.DONE
    except ValidationError as exc:
        locked.status, locked.error = ActionRequestStatus.FAILED, " ".join(exc.messages)[:500]
    locked.save(update_fields=["status", "result", "error", "decided_by", "decided_at"])
    audit_record(
        actor=actor, action="agents.action_request.approve", target=locked,
        data={"action": locked.action, "status": locked.status, "result": locked.result, "error": locked.error},
    )  # fmt: skip
    return locked


@transaction.atomic
def action_request_reject(*, request: AgentActionRequest, actor, reason: str = "") -> AgentActionRequest:
    """Refuse a held action; nothing is done."""
    locked = _decidable(request, actor)
    locked.status, locked.error = ActionRequestStatus.REJECTED, reason[:500]
    locked.decided_by, locked.decided_at = actor, timezone.now()
    locked.save(update_fields=["status", "error", "decided_by", "decided_at"])
    audit_record(actor=actor, action="agents.action_request.reject", target=locked, data={"reason": reason})
    return locked
