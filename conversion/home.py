"""The analyst's home: attribution by channel and return on spend, last 30 days."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from conversion.models import AttributionCredit, AttributionModel, ChannelPerformance
from madansara.charts import bar_chart
from madansara.home import Card
from madansara.money import money_format
from madansara.roles import ROLE_ADMIN, ROLE_ANALYST, ROLE_MARKETER

MODEL = AttributionModel.LINEAR
DAYS = 30


def role_cards(*, user, role) -> list[Card]:
    if role not in (ROLE_ANALYST, ROLE_ADMIN, ROLE_MARKETER) or not user.has_perm("conversion.view_attributioncredit"):
        return []
    since = timezone.now().date() - timedelta(days=DAYS)
    credits = (
        AttributionCredit.objects.filter(model=MODEL, day__gte=since)
        .values("channel")
        .annotate(conversions=Sum("conversions"), revenue=Sum("revenue"))
        .order_by("-conversions")
    )
    credits = list(credits)
    attribution = bar_chart(
        rows=[(row["channel"], row["conversions"]) for row in credits],
        title="Conversions by channel",
        value_format="{:,.1f}",
        empty_text="No conversion in the last 30 days. Conversions come from the tracker, the API or "
        "Conversion events → Add; attribution runs as they arrive.",
    )
    cards = [
        Card(
            "Attribution (linear, last 30 days)",
            format_html(
                '<p class="why">{}</p>{}', "Conversions credited to each channel along the journey.", attribution
            ),
            ("Compare models", reverse("admin:conversion_attribution")),
            31,
        )
    ]
    # message costs and ad spend, as channel performance adds them up per day
    spend = dict(ChannelPerformance.objects.filter(day__gte=since).values_list("channel").annotate(cost=Sum("cost")))
    rows = []
    for row in credits:
        cost = spend.get(row["channel"]) or Decimal(0)
        revenue = row["revenue"] or Decimal(0)
        roi = f"{(revenue - cost) / cost:,.0%}" if cost else "no cost recorded"
        rows.append((row["channel"], money_format(revenue), money_format(cost), roi))
    table = format_html_join(
        "", '<tr><td>{}</td><td class="money">{}</td><td class="money">{}</td><td>{}</td></tr>', rows
    )
    body = (
        format_html("<table><tr><th>Channel</th><th>Revenue</th><th>Cost</th><th>ROI</th></tr>{}</table>", table)
        if rows
        else format_html('<p class="why">{}</p>', "No attributed revenue yet, so no ROI: it appears with conversions.")
    )
    cards.append(
        Card(
            "Return on spend (last 30 days)",
            body,
            ("Channel performance", reverse("admin:conversion_channelperformance_changelist")),
            32,
        )
    )
    return cards
