"""Daily channel performance and the incremental refresh run by celery-beat."""

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import CharField, Count, DecimalField, Q, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from conversion.models import (
    AttributionCredit,
    ChannelCost,
    ChannelPerformance,
    ConversionEvent,
    CustomerTouchpoint,
    TouchpointSource,
)
from conversion.services.credit import conversions_attribute
from conversion.services.touchpoints import BATCH, touchpoints_capture
from madansara.channels.models import Message
from outreach.models import CampaignSpend


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=timezone.UTC)
    return start, start + timedelta(days=1)


@transaction.atomic
def channel_performance_refresh(*, day: date) -> int:
    """Recompute one day's performance rows from messages, sessions, costs and credit; returns rows."""
    start, end = _day_bounds(day)
    rows: dict[tuple[str, str], dict] = defaultdict(
        lambda: {"sent": 0, "delivered": 0, "engaged": 0, "replies": 0, "sessions": 0, "cost": Decimal("0")}
    )
    campaign = Coalesce(KT("context__campaign"), KT("context__campaign_id"), Value(""), output_field=CharField())
    messages = Message.objects.annotate(campaign_key=campaign)

    def window(field: str) -> Q:
        return Q(**{f"{field}__gte": start, f"{field}__lt": end})

    stats = {
        "sent": window("sent_at"),
        "delivered": window("delivered_at"),
        "engaged": window("opened_at") | (Q(opened_at__isnull=True) & window("clicked_at")),
        "replies": window("replied_at"),
    }
    for name, condition in stats.items():
        for row in messages.filter(condition).values("channel", "campaign_key").annotate(n=Count("pk")):
            rows[(row["channel"], str(row["campaign_key"])[:200])][name] = row["n"]
    money = DecimalField(max_digits=16, decimal_places=5)
    message_cost = {
        (row["channel"], str(row["campaign_key"])[:200]): row["total"]
        for row in messages.filter(window("sent_at"))
        .values("channel", "campaign_key")
        .annotate(total=Coalesce(Sum("cost"), Value(Decimal("0")), output_field=money))
    }
    # the outreach spend ledger, when it has the campaign's day, replaces per-message costs (never both)
    message_cost |= {
        (row["channel"], str(row["campaign_id"])): row["total"]
        for row in CampaignSpend.objects.filter(day=day).values("channel", "campaign_id").annotate(total=Sum("cost"))
    }
    for key, total in message_cost.items():
        rows[key]["cost"] += total
    for row in ChannelCost.objects.filter(day=day).values("channel", "campaign").annotate(total=Sum("amount")):
        rows[(row["channel"], row["campaign"])]["cost"] += row["total"]
    for row in (
        CustomerTouchpoint.objects.filter(source=TouchpointSource.WEBSITE_SESSION, occurred_at__gte=start)
        .filter(occurred_at__lt=end)
        .values("channel", "campaign")
        .annotate(n=Count("pk"))
    ):
        rows[(row["channel"], row["campaign"])]["sessions"] = row["n"]
    credited: dict[tuple[str, str], tuple[dict, dict]] = defaultdict(lambda: ({}, {}))
    for row in (
        AttributionCredit.objects.filter(day=day)
        .values("channel", "campaign", "model")
        .annotate(conversions=Sum("conversions"), revenue=Sum("revenue"))
    ):
        conversions, revenue = credited[(row["channel"], row["campaign"])]
        conversions[row["model"]] = round(row["conversions"], 9)
        revenue[row["model"]] = str(Decimal(row["revenue"]).quantize(Decimal("0.01")))
    for key in credited:
        _ = rows[key]  # a credited channel without volume still gets its row
    ChannelPerformance.objects.filter(day=day).delete()
    now = timezone.now()
    performance = [
        ChannelPerformance(
            day=day,
            channel=channel,
            campaign=campaign_name,
            sent=values["sent"],
            delivered=values["delivered"],
            engaged=values["engaged"],
            replies=values["replies"],
            sessions=values["sessions"],
            cost=values["cost"].quantize(Decimal("0.01")),
            attributed_conversions=credited[(channel, campaign_name)][0],
            attributed_revenue=credited[(channel, campaign_name)][1],
            refreshed_at=now,
        )
        for (channel, campaign_name), values in rows.items()
    ]
    ChannelPerformance.objects.bulk_create(performance, batch_size=BATCH)
    return len(performance)


def attribution_refresh(*, now: datetime | None = None, limit: int = 5000) -> dict[str, int]:
    """Incremental run for celery-beat: capture new touchpoints, attribute new conversions,
    refresh the days they touched plus today and yesterday."""
    now = now or timezone.now()
    touchpoints = touchpoints_capture(since=now - timedelta(days=2))
    pending = list(
        ConversionEvent.objects.filter(attributed_at__isnull=True).order_by("pk").values_list("pk", flat=True)[:limit]
    )
    credits = conversions_attribute(conversion_ids=pending) if pending else 0
    days = set(
        ConversionEvent.objects.filter(pk__in=pending)
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.UTC))
        .values_list("day", flat=True)
    )
    today = now.astimezone(timezone.UTC).date()
    days |= {today, today - timedelta(days=1)}
    rows = sum(channel_performance_refresh(day=day) for day in sorted(days))
    return {"touchpoints": touchpoints, "conversions": len(pending), "credits": credits, "performance_rows": rows}
