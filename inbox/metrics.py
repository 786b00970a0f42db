"""Review queue and SLA gauges for /metrics (read at scrape time; see madansara.metrics)."""

from django.db.models import Min
from django.utils import timezone

from inbox.models import Conversation, DraftStatus, ReplyDraft
from inbox.selectors import sla_q
from madansara.metrics import Gauge


def inbox_gauges() -> list[Gauge]:
    now = timezone.now()
    pending = ReplyDraft.objects.filter(status=DraftStatus.PENDING)
    oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
    return [
        Gauge("madansara_review_queue_drafts", "Reply drafts waiting for a human.", samples=[((), pending.count())]),
        Gauge(
            "madansara_review_queue_oldest_age_seconds",
            "How long the oldest waiting draft has waited (0 when none).",
            samples=[((), (now - oldest).total_seconds() if oldest else 0.0)],
        ),
        Gauge(
            "madansara_conversations_past_sla",
            "Open conversations awaiting a reply past their SLA deadline (breached).",
            samples=[((), Conversation.objects.filter(sla_q("breached", now)).count())],
        ),
    ]


GAUGES = [inbox_gauges]
