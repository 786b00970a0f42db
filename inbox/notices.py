"""Inbox conditions that tell a person (run every minute by madansara.notifications):
SLA about to breach and breached, urgent and legal-risk conversations."""

from datetime import timedelta

from django.urls import reverse

from inbox.models import AIClassification, Conversation, SLAEvent, SLAEventKind
from inbox.selectors import sla_q
from madansara.notifications.models import NoticeKind, Severity
from madansara.notifications.services import notify
from madansara.roles import ROLE_ADMIN, ROLE_AGENT

LOOK_BACK = timedelta(hours=24)
BATCH = 200  # per run; the rest are raised next minute


def _url(conversation_id: int) -> str:
    return reverse("admin:inbox_conversation_change", args=[conversation_id])


def _people(conversation: Conversation, *, escalate: bool = False) -> dict:
    """The assignee, else the agents; admins too when `escalate`."""
    roles = [] if conversation.assignee_id else [ROLE_AGENT]
    if escalate:
        roles.append(ROLE_ADMIN)
    return {"users": [conversation.assignee] if conversation.assignee_id else [], "roles": roles}


def sla_at_risk(*, now) -> int:
    raised = 0
    soon = Conversation.objects.filter(sla_q("at_risk", now)).select_related("assignee").order_by("pk")
    for conversation in soon[:BATCH]:
        due = conversation.response_due
        raised += bool(
            notify(
                kind=NoticeKind.SLA_AT_RISK,
                key=f"conversation:{conversation.pk}:{due:%Y%m%dT%H%M%S}",
                window=None,  # once per deadline
                title=f"Conversation #{conversation.pk} ({conversation.channel}) must be answered by {due:%H:%M} UTC",
                body=f"The reply is due at {due:%Y-%m-%d %H:%M} UTC.",
                url=_url(conversation.pk),
                target=conversation,
                now=now,
                **_people(conversation),
            )
        )
    return raised


def sla_breached(*, now) -> int:
    raised = 0
    breaches = (
        SLAEvent.objects.filter(met=False, occurred_at__gte=now - LOOK_BACK)
        .exclude(kind=SLAEventKind.RESOLUTION)
        .select_related("conversation__assignee")
        .order_by("pk")
    )
    for event in breaches[:BATCH]:
        conversation = event.conversation
        raised += bool(
            notify(
                kind=NoticeKind.SLA_BREACHED,
                key=f"sla_event:{event.pk}",
                window=None,  # once per breach
                severity=Severity.CRITICAL,
                title=f"Conversation #{conversation.pk} ({conversation.channel}) missed its {event.get_kind_display().lower()} SLA",
                body=f"The reply was due at {event.due_at:%Y-%m-%d %H:%M} UTC.",
                url=_url(conversation.pk),
                target=conversation,
                now=now,
                **_people(conversation, escalate=True),
            )
        )
    return raised


def risky_conversations(*, now) -> int:
    """Legal risk (critical, admins too) or urgency high, once per conversation and day."""
    raised = 0
    flagged = (
        AIClassification.objects.filter(created_at__gte=now - LOOK_BACK, legal_risk=True)
        | AIClassification.objects.filter(created_at__gte=now - LOOK_BACK, urgency="high")
    ).order_by("pk")
    for classification in flagged[:BATCH]:
        conversation = (
            Conversation.objects.filter(entries__inbound_id=classification.inbound_id)
            .select_related("assignee")
            .first()
        )
        if conversation is None:
            continue
        legal = classification.legal_risk
        raised += bool(
            notify(
                kind=NoticeKind.CONVERSATION_LEGAL_RISK if legal else NoticeKind.CONVERSATION_URGENT,
                key=f"conversation:{conversation.pk}",
                window=timedelta(days=1),
                severity=Severity.CRITICAL if legal else Severity.WARNING,
                title=f"Conversation #{conversation.pk} ({conversation.channel}) "
                + ("may carry a legal risk" if legal else "is urgent"),
                body=f"Intent: {classification.intent or 'unknown'}; classified by the {classification.engine} engine.",
                url=_url(conversation.pk),
                target=conversation,
                now=now,
                **_people(conversation, escalate=legal),
            )
        )
    return raised


CHECKS = [sla_at_risk, sla_breached, risky_conversations]
