"""SLA policies, due times in business hours, and breach events."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inbox.business_hours import add_business_minutes
from inbox.models import Conversation, ConversationStatus, SLAEvent, SLAEventKind, SLAPolicy


def sla_policy_for(*, conversation: Conversation) -> SLAPolicy | None:
    """The most specific policy: team+priority, team, priority, then the catch-all."""
    candidates = SLAPolicy.objects.filter(
        Q(team=conversation.team_id) | Q(team__isnull=True),
        Q(priority=conversation.priority) | Q(priority=""),
    ).select_related("business_hours", "team__business_hours")
    ranked = sorted(candidates, key=lambda p: (p.team_id is None, p.priority == "", p.pk))
    return ranked[0] if ranked else None


def _hours(policy: SLAPolicy, conversation: Conversation):
    if policy.business_hours_id:
        return policy.business_hours
    team = conversation.team
    return team.business_hours if team and team.business_hours_id else None


def sla_due(*, conversation: Conversation, kind: str, start=None):
    """The due time of one target counted from `start` in business hours (None without a policy)."""
    policy = sla_policy_for(conversation=conversation)
    if policy is None:
        return None
    minutes = {
        SLAEventKind.FIRST_RESPONSE: policy.first_response_minutes,
        SLAEventKind.NEXT_RESPONSE: policy.next_response_minutes,
        SLAEventKind.RESOLUTION: policy.resolution_minutes,
    }[kind]
    return add_business_minutes(start or timezone.now(), minutes, _hours(policy, conversation))


def sla_record_response(*, conversation: Conversation, auto: bool, at=None) -> SLAEvent | None:
    """A reply went out: record whether it met the awaited target (human and auto apart)."""
    at = at or timezone.now()
    due = conversation.response_due
    if due is None:
        return None
    kind = SLAEventKind.FIRST_RESPONSE if conversation.first_responded_at is None else SLAEventKind.NEXT_RESPONSE
    return SLAEvent.objects.create(
        conversation=conversation, kind=kind, due_at=due, met=at <= due, auto=auto, occurred_at=at
    )


@transaction.atomic
def sla_record_breaches(*, now=None) -> int:
    """Set-based: record a breach event once per missed target and flag the conversations."""
    now = now or timezone.now()
    awaiting = Conversation.objects.filter(awaiting_reply=True, sla_breached=False).exclude(
        status=ConversationStatus.RESOLVED
    )
    first = awaiting.filter(first_responded_at__isnull=True, first_response_due__lte=now)
    later = awaiting.filter(first_responded_at__isnull=False, next_response_due__lte=now)
    events = [
        SLAEvent(conversation_id=pk, kind=SLAEventKind.FIRST_RESPONSE, due_at=due, occurred_at=now)
        for pk, due in first.values_list("pk", "first_response_due")
    ] + [
        SLAEvent(conversation_id=pk, kind=SLAEventKind.NEXT_RESPONSE, due_at=due, occurred_at=now)
        for pk, due in later.values_list("pk", "next_response_due")
    ]
    overdue = Conversation.objects.filter(resolution_due__lte=now).exclude(status=ConversationStatus.RESOLVED)
    resolution_missed = overdue.exclude(sla_events__kind=SLAEventKind.RESOLUTION, sla_events__met=False)
    events += [
        SLAEvent(conversation_id=pk, kind=SLAEventKind.RESOLUTION, due_at=due, occurred_at=now)
        for pk, due in resolution_missed.values_list("pk", "resolution_due")
    ]
    SLAEvent.objects.bulk_create(events, ignore_conflicts=True)
    Conversation.objects.filter(pk__in=[e.conversation_id for e in events if e.kind != SLAEventKind.RESOLUTION]).update(
        sla_breached=True
    )
    return len(events)
