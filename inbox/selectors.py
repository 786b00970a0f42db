"""Inbox reads that are more than a filter: SLA counts and the human vs auto reply report."""

from django.db import connection
from django.db.models import BooleanField, Count, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from inbox.models import Conversation, ConversationStatus, DraftStatus, ReplyDraft, SLAEvent, SLAEventKind

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
