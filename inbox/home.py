"""The agent's home: my queue, SLA breaches, who has waited longest."""

from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from inbox.models import Conversation, ConversationStatus, DraftStatus, ReplyDraft, SLAEvent
from inbox.selectors import drafts_review_queue, sla_counts
from madansara.charts import bar_chart
from madansara.home import Card
from madansara.roles import ROLE_ADMIN, ROLE_AGENT


def role_cards(*, user, role) -> list[Card]:
    if role not in (ROLE_AGENT, ROLE_ADMIN) or not user.has_perm("inbox.view_replydraft"):
        return []
    return [_my_queue(user), _sla(), _oldest_waiting()]


def _my_queue(user) -> Card:
    pending = ReplyDraft.objects.filter(status=DraftStatus.PENDING)
    mine = pending.filter(Q(conversation__assignee=user) | Q(conversation__assignee__isnull=True))
    top = drafts_review_queue(queryset=mine.select_related("conversation__contact"))[:5]
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:inbox_replydraft_review", args=[d.pk]),
                (d.conversation.contact.name if d.conversation.contact else "") or d.conversation.participant,
                d.conversation.get_channel_display(),
                d.intent or "—",
            )
            for d in top
        ),
    )
    body = format_html(
        '<div class="big">{}</div><p class="why">drafts waiting for you (assigned to you or to nobody), {} in all</p>'
        "<table>{}</table>",
        mine.count(),
        pending.count(),
        rows or format_html("<tr><td class='why'>{}</td></tr>", "Nothing to review: new drafts appear here."),
    )
    return Card("My queue", body, ("Open the review desk", reverse("admin:inbox_replydraft_changelist")), order=10)


def _sla() -> Card:
    counts = sla_counts()
    since = timezone.now() - timedelta(days=7)
    per_day = dict(
        SLAEvent.objects.filter(met=False, occurred_at__gte=since)
        .annotate(day=TruncDate("occurred_at"))
        .values_list("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    days = [(since + timedelta(days=i + 1)).date() for i in range(7)]
    chart = bar_chart(
        rows=[(day.strftime("%a %d %b"), per_day.get(day, 0)) for day in days],
        title="SLA breaches per day",
        empty_text="No SLA breach recorded in the last 7 days. Breaches are recorded every minute by the "
        "SLA job; if conversations are late and nothing shows, check that celery-beat runs.",
    )
    body = format_html(
        '<div class="kpis"><div class="kpi"><div class="label">Breached now</div><div class="value">{}</div></div>'
        '<div class="kpi"><div class="label">At risk (≤ 30 min)</div><div class="value">{}</div></div></div>{}',
        counts["breached"],
        counts["at_risk"],
        chart,
    )
    url = reverse("admin:inbox_conversation_changelist") + "?sla=breached"
    return Card("SLA breaches", body, ("See breached conversations", url), order=11)


def _oldest_waiting() -> Card:
    waiting = (
        Conversation.objects.filter(awaiting_reply=True)
        .exclude(status=ConversationStatus.RESOLVED)
        .select_related("contact", "assignee")
        .order_by("last_inbound_at")[:6]
    )
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:inbox_conversation_change", args=[c.pk]),
                (c.contact.name if c.contact else "") or c.participant,
                c.get_channel_display(),
                timesince(c.last_inbound_at) if c.last_inbound_at else "—",
                c.assignee or "unassigned",
            )
            for c in waiting
        ),
    )
    body = (
        format_html("<table><tr><th>Contact</th><th>Channel</th><th>Waiting</th><th>Assignee</th></tr>{}</table>", rows)
        if rows
        else format_html('<p class="why">{}</p>', "Nobody is waiting for an answer.")
    )
    return Card("Oldest waiting", body, None, order=12)
