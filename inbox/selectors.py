"""Inbox reads that are more than a filter: SLA counts and the human vs auto reply report."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Case, Count, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from inbox.models import (
    AgentPresence,
    Conversation,
    ConversationMessage,
    ConversationStatus,
    DraftStatus,
    Priority,
    ReplyDraft,
    SLAEvent,
    SLAEventKind,
)
from madansara.channels.models import Message
from madansara.contacts.models import Contact
from outreach.models import CampaignStatus, EnrollmentState

AT_RISK_WINDOW = timezone.timedelta(minutes=30)


def _response_due_before(moment) -> Q:
    return Q(first_responded_at__isnull=True, first_response_due__lte=moment) | Q(
        first_responded_at__isnull=False, next_response_due__lte=moment
    )


def sla_q(state: str, now=None) -> Q:
    """Filter for conversations 'breached' or 'at_risk' (due within 30 minutes) now."""
    now = now or timezone.now()
    awaiting = Q(awaiting_reply=True) & ~Q(status=ConversationStatus.RESOLVED)
    if state == "breached":
        return awaiting & (Q(sla_breached=True) | _response_due_before(now))
    if state == "at_risk":
        return (
            awaiting & Q(sla_breached=False) & _response_due_before(now + AT_RISK_WINDOW) & ~_response_due_before(now)
        )
    raise ValueError(f"Unknown SLA state '{state}'.")


def sla_counts(*, queryset=None, now=None) -> dict[str, int]:
    """At-risk and breached counts in one query."""
    queryset = Conversation.objects.all() if queryset is None else queryset
    return queryset.aggregate(
        at_risk=Count("pk", filter=sla_q("at_risk", now)), breached=Count("pk", filter=sla_q("breached", now))
    )


def reply_report(*, since=None) -> dict:
    """Human and auto replies apart: how many, and how many met their SLA response target."""
    drafts = ReplyDraft.objects.all()
    events = SLAEvent.objects.filter(kind__in=[SLAEventKind.FIRST_RESPONSE, SLAEventKind.NEXT_RESPONSE])
    if since is not None:
        drafts, events = drafts.filter(created_at__gte=since), events.filter(occurred_at__gte=since)
    by_status = dict(drafts.order_by().values_list("status").annotate(n=Count("pk")))
    timing = events.aggregate(
        human_met=Count("pk", filter=Q(auto=False, met=True)),
        auto_met=Count("pk", filter=Q(auto=True, met=True)),
    )
    return {
        "human_sent": by_status.get(DraftStatus.SENT, 0),
        "auto_sent": by_status.get(DraftStatus.AUTO_SENT, 0),
        "rejected": by_status.get(DraftStatus.REJECTED, 0),
        "pending": by_status.get(DraftStatus.PENDING, 0),
        "human_replies_within_sla": timing["human_met"],
        "auto_replies_within_sla": timing["auto_met"],
    }


def conversations_search(*, queryset, text: str):
    """Full-text search over subject, participant and the customer's words.

    PostgreSQL: `to_tsvector('simple', search_text) @@ plainto_tsquery(...)`, served by the GIN
    index of migration 0003 ('simple': no stemming, so EN/FR/ES/HT words all match as written).
    SQLite: every word must appear (case-insensitive LIKE).
    """
    words = text.split()
    if not words:
        return queryset
    if connection.vendor == "postgresql":
        match = RawSQL(
            "to_tsvector('simple', search_text) @@ plainto_tsquery('simple', %s)", (text,), output_field=BooleanField()
        )
        return queryset.filter(match)
    for word in words:
        queryset = queryset.filter(search_text__icontains=word)
    return queryset


VIP_TAG = "vip"
NEGATIVE_SENTIMENT = -0.3
# Weights of the review queue's priority: legal risk outranks urgency, which outranks tone and VIPs.
RISK_WEIGHTS = {"legal": 8, "urgent": 4, "negative": 2, "vip": 1}


def _flag(condition: Q, weight: int) -> Case:
    return Case(When(condition, then=Value(weight)), default=Value(0), output_field=IntegerField())


def drafts_review_queue(*, queryset=None):
    """Drafts annotated with their risk flags and `priority_rank`, in the order to review them:
    priority first (legal risk, urgency, negative sentiment, VIP contact), then SLA due time."""
    drafts = ReplyDraft.objects.all() if queryset is None else queryset
    vip = Contact.tags.through.objects.filter(contact_id=OuterRef("conversation__contact_id"), tag__name=VIP_TAG)
    urgent = Q(inbound__classification__urgency="high") | Q(conversation__priority__in=[Priority.HIGH, Priority.URGENT])
    drafts = drafts.annotate(
        flag_legal=_flag(Q(inbound__classification__legal_risk=True), RISK_WEIGHTS["legal"]),
        flag_urgent=_flag(urgent, RISK_WEIGHTS["urgent"]),
        flag_negative=_flag(
            Q(inbound__classification__sentiment_score__lt=NEGATIVE_SENTIMENT), RISK_WEIGHTS["negative"]
        ),
        flag_vip=_flag(Q(Exists(vip)), RISK_WEIGHTS["vip"]),
    )
    return drafts.annotate(
        priority_rank=F("flag_legal") + F("flag_urgent") + F("flag_negative") + F("flag_vip")
    ).order_by("-priority_rank", F("sla_due_at").asc(nulls_last=True), "id")


def draft_neighbours(*, draft: ReplyDraft, limit: int = 2000) -> tuple[int | None, int | None]:
    """The pending drafts before and after `draft` in the review queue (ids, or None)."""
    ids = list(
        drafts_review_queue(queryset=ReplyDraft.objects.filter(status=DraftStatus.PENDING)).values_list(
            "pk", flat=True
        )[:limit]
    )
    if draft.pk not in ids:
        return None, (ids[0] if ids else None)
    index = ids.index(draft.pk)
    return (ids[index - 1] if index else None), (ids[index + 1] if index + 1 < len(ids) else None)


def contact_panorama(*, conversation: Conversation, limit: int = 8) -> dict:
    """What a reviewer needs about the person: identities, consent, open campaigns, and their
    recent messages on every channel outside this conversation."""
    contact = conversation.contact
    if contact is None:
        return {"contact": None, "identities": [], "consents": [], "campaigns": [], "elsewhere": [], "outreach": []}
    elsewhere = (
        ConversationMessage.objects.filter(conversation__contact=contact)
        .exclude(conversation=conversation)
        .select_related("conversation", "inbound", "outbound")
        .order_by("-created_at", "-id")[:limit]
    )
    return {
        "contact": contact,
        "identities": list(contact.identities.order_by("channel")),
        "consents": list(contact.consents.order_by("channel")),
        "tags": [tag.name for tag in contact.tags.all()],
        "campaigns": list(
            contact.enrollments.filter(
                state=EnrollmentState.ACTIVE,
                campaign__status__in=[CampaignStatus.RUNNING, CampaignStatus.SCHEDULED, CampaignStatus.PAUSED],
            ).select_related("campaign")
        ),
        "elsewhere": list(elsewhere),
        "outreach": list(Message.objects.filter(contact=contact).exclude(source="inbox").order_by("-created_at")[:3]),
    }


def presence_cutoff(now: datetime | None = None) -> datetime:
    """Presence heartbeats older than this are stale (LIVE_PRESENCE_TTL_SECONDS)."""
    return (now or timezone.now()) - timedelta(seconds=settings.LIVE_PRESENCE_TTL_SECONDS)


def presence_on(*, conversation_id: int, exclude_user_id: int | None = None, now=None) -> list[dict]:
    """The agents whose page on the conversation heartbeat within LIVE_PRESENCE_TTL_SECONDS."""
    rows = (
        AgentPresence.objects.filter(conversation_id=conversation_id, seen_at__gte=presence_cutoff(now))
        .exclude(user_id=exclude_user_id)
        .select_related("user")
        .order_by("seen_at")
    )
    return [
        {"user_id": row.user_id, "user": row.user.get_username(), "state": row.state, "at": row.seen_at.isoformat()}
        for row in rows
    ]
