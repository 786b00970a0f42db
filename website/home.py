"""The analyst's home: the latest funnel, step by step."""

from django.urls import reverse
from django.utils.html import format_html

from madansara.charts import bar_chart
from madansara.home import Card
from madansara.roles import ROLE_ADMIN, ROLE_ANALYST, ROLE_MARKETER
from website.models import FunnelAnalytics


def role_cards(*, user, role) -> list[Card]:
    if role not in (ROLE_ANALYST, ROLE_ADMIN, ROLE_MARKETER) or not user.has_perm("website.view_funnelanalytics"):
        return []
    snapshot = FunnelAnalytics.objects.select_related("funnel").order_by("-day", "-id").first()
    if snapshot is None:
        body = format_html(
            '<p class="why">{}</p>',
            "No funnel computed yet. Define one under Funnels; it is computed every night "
            "(or use the action “Snapshot yesterday's cohort now”).",
        )
        return [Card("Funnel", body, None, 30)]
    steps = snapshot.result.get("steps", [])
    chart = bar_chart(
        rows=[(step["label"], step["count"]) for step in steps],
        title=snapshot.funnel.name,
        empty_text="Nobody entered this funnel on that day.",
    )
    rate = f"{snapshot.converted / snapshot.entered:.1%}" if snapshot.entered else "—"
    body = format_html(
        '<p class="why">{} · {} · {} entered, {} converted ({})</p>{}',
        snapshot.funnel.name,
        snapshot.day.strftime("%d %b %Y"),
        snapshot.entered,
        snapshot.converted,
        rate,
        chart,
    )
    return [Card("Funnel", body, ("All funnels", reverse("admin:website_funneldefinition_changelist")), 30)]
