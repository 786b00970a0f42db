"""Reads: journeys, Markov removal effects over a window, statistics for the API and admin."""

from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Exists, Max, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone

from conversion import attribution
from conversion.models import (
    AttributionCredit,
    AttributionModel,
    ChannelPerformance,
    ConversionEvent,
    ConversionType,
    CustomerTouchpoint,
    JourneyTouch,
)
from website.models import WebsiteVisitor

MARKOV_WINDOW_DAYS = 90
INTERVALS = {"day": TruncDate, "week": TruncWeek, "month": TruncMonth}


def _dedupe_steps(touches):
    """One journey step per journey key (a message's delivered/opened/clicked are one step)."""
    seen = set()
    for touch in touches:
        key = touch.journey_key
        if key:
            if key in seen:
                continue
            seen.add(key)
        yield touch


def journeys_for(conversions: list[ConversionEvent]) -> dict[int, list[CustomerTouchpoint]]:
    """Journey touchpoints of many conversions in one query: each one's lookback window, oldest first."""
    if not conversions:
        return {}
    windows = {
        c.pk: (c.occurred_at - timedelta(days=c.conversion_type.lookback_days), c.occurred_at) for c in conversions
    }
    contacts = {c.contact_id for c in conversions if c.contact_id}
    # a contact's journey includes the anonymous web visits of the browsers later stitched to them
    stitched: dict[int, set[str]] = {}
    for contact_id, anonymous_id in WebsiteVisitor.objects.filter(contact_id__in=contacts).values_list(
        "contact_id", "anonymous_id"
    ):
        stitched.setdefault(contact_id, set()).add(anonymous_id)
    visitors = {c.visitor_id for c in conversions if c.visitor_id}.union(*stitched.values())
    touches = CustomerTouchpoint.objects.filter(
        Q(contact_id__in=contacts) | Q(visitor_id__in=visitors),
        occurred_at__gte=min(w[0] for w in windows.values()),
        occurred_at__lte=max(w[1] for w in windows.values()),
    ).order_by("occurred_at", "id")
    by_contact: dict[int, list] = {}
    by_visitor: dict[str, list] = {}
    for touch in touches:
        if touch.contact_id in contacts:
            by_contact.setdefault(touch.contact_id, []).append(touch)
        if touch.visitor_id in visitors:
            by_visitor.setdefault(touch.visitor_id, []).append(touch)
    journeys = {}
    for conversion in conversions:
        start, end = windows[conversion.pk]
        visitor_ids = {conversion.visitor_id} | stitched.get(conversion.contact_id, set())
        mine = {t.pk: t for t in by_contact.get(conversion.contact_id, [])}
        mine |= {t.pk: t for v in visitor_ids for t in by_visitor.get(v, [])}
        ordered = sorted(
            (t for t in mine.values() if start <= t.occurred_at <= end), key=lambda t: (t.occurred_at, t.pk)
        )
        journeys[conversion.pk] = list(_dedupe_steps(ordered))
    return journeys


def markov_paths(*, until: datetime, window_days: int = MARKOV_WINDOW_DAYS) -> list[attribution.Path]:
    """Aggregated paths for the Markov chain: stored journeys of conversions in the window, and
    the touches of contacts/visitors who did not convert in it (null paths)."""
    start = until - timedelta(days=window_days)
    converting: Counter = Counter()
    current, steps = None, []
    rows = (
        JourneyTouch.objects.filter(conversion__occurred_at__gte=start, conversion__occurred_at__lte=until)
        .order_by("conversion_id", "position")
        .values_list("conversion_id", "channel")
    )
    for conversion_id, channel in rows.iterator(chunk_size=5000):
        if conversion_id != current and steps:
            converting[tuple(steps)] += 1
            steps = []
        current = conversion_id
        steps.append(channel)
    if steps:
        converting[tuple(steps)] += 1

    converted = ConversionEvent.objects.filter(occurred_at__gte=start, occurred_at__lte=until)
    contacts = converted.exclude(contact_id=None).values("contact_id")
    visitors = converted.exclude(visitor_id="").values("visitor_id")
    touches = (
        CustomerTouchpoint.objects.filter(occurred_at__gte=start, occurred_at__lte=until)
        .exclude(contact_id__in=contacts)
        .exclude(visitor_id__in=visitors)
        .order_by("contact_id", "visitor_id", "occurred_at", "id")
        .values_list("contact_id", "visitor_id", "channel", "journey_key")
    )
    nulls: Counter = Counter()
    current, steps, seen = None, [], set()
    for contact_id, visitor_id, channel, journey_key in touches.iterator(chunk_size=5000):
        who = (contact_id, "" if contact_id else visitor_id)
        if who != current and steps:
            nulls[tuple(steps)] += 1
            steps, seen = [], set()
        current = who
        if journey_key and journey_key in seen:
            continue
        seen.add(journey_key)
        steps.append(channel)
    if steps:
        nulls[tuple(steps)] += 1
    return [attribution.Path(p, converting.get(p, 0), nulls=nulls.get(p, 0)) for p in converting.keys() | nulls.keys()]


def markov_removal_effects(
    *, until: datetime, window_days: int = MARKOV_WINDOW_DAYS, max_age_seconds: int = 0
) -> dict[str, float]:
    """Removal effect per channel over the window ending at `until`; with max_age_seconds, a value
    computed for the same day within that time is reused (one conversion must not rescan 90 days)."""

    def compute() -> dict[str, float]:
        return attribution.removal_effects(markov_paths(until=until, window_days=window_days))

    if not max_age_seconds:
        return compute()
    key = f"conversion:markov:{until.astimezone(timezone.UTC).date()}:{window_days}"
    return cache.get_or_set(key, compute, timeout=max_age_seconds)


def conversion_stats(
    *, since: date, until: date, interval: str = "day", conversion_type: str | None = None
) -> list[dict]:
    """Conversions and their value per interval (and type) between two dates, inclusive."""
    trunc = INTERVALS[interval]
    rows = ConversionEvent.objects.filter(occurred_at__date__gte=since, occurred_at__date__lte=until)
    if conversion_type:
        rows = rows.filter(conversion_type__code=conversion_type)
    return list(
        rows.annotate(period=trunc("occurred_at", tzinfo=timezone.UTC))
        .values("period", "conversion_type__code", "currency")
        .annotate(conversions=Count("pk"), value=Sum("value"))
        .order_by("period", "conversion_type__code", "currency")
    )


def attribution_comparison(*, since: date, until: date, by: str = "conversions") -> dict:
    """Credit per channel under every model, side by side, between two dates inclusive."""
    field = "conversions" if by == "conversions" else "revenue"
    rows = (
        AttributionCredit.objects.filter(day__gte=since, day__lte=until)
        .values("channel", "model")
        .annotate(total=Sum(field))
    )
    table: dict[str, dict[str, float]] = {}
    for row in rows:
        table.setdefault(row["channel"], dict.fromkeys(AttributionModel.values, 0.0))[row["model"]] = float(
            row["total"] or 0
        )
    totals = {m: sum(channels[m] for channels in table.values()) for m in AttributionModel.values}
    return {"models": list(AttributionModel.values), "channels": dict(sorted(table.items())), "totals": totals}


def performance_series(
    *, since: date, until: date, model: str, channel: str | None = None, campaign: str | None = None
) -> list[dict]:
    """Daily cost, attributed revenue and ROI per channel under one model."""
    rows = ChannelPerformance.objects.filter(day__gte=since, day__lte=until)
    if channel:
        rows = rows.filter(channel=channel)
    if campaign is not None:
        rows = rows.filter(campaign=campaign)
    merged: dict[tuple, dict] = {}
    for row in rows.order_by("day", "channel"):
        item = merged.setdefault(
            (row.day, row.channel),
            {"day": row.day, "channel": row.channel, "cost": Decimal("0"), "revenue": Decimal("0"), "conversions": 0.0},
        )
        item["cost"] += row.cost
        item["revenue"] += row.revenue_under(model)
        item["conversions"] += row.conversions_under(model)
    for item in merged.values():
        item["roi"] = (item["revenue"] - item["cost"]) / item["cost"] if item["cost"] else None
    return list(merged.values())


def contact_journey(*, contact_id: int) -> dict:
    """A contact's touchpoints and conversions (with their stored journeys), oldest first."""
    touchpoints = list(CustomerTouchpoint.objects.filter(contact_id=contact_id).order_by("occurred_at", "id"))
    conversions = list(
        ConversionEvent.objects.filter(contact_id=contact_id)
        .select_related("conversion_type")
        .prefetch_related("journey")
        .order_by("occurred_at")
    )
    return {"contact_id": contact_id, "touchpoints": touchpoints, "conversions": conversions}


def conversion_events_of(*, contact, code: str | None = None, since=None):
    """Conversions of a contact (of type `code`, at or after `since`): the source behind
    madansara.contacts.conversions.contact_converted (registered in conversion.receivers)."""
    events = ConversionEvent.objects.filter(contact_id=contact)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if code:
        events = events.filter(conversion_type__code=code)
    return events


def converted_after(*, contact, at) -> Exists:
    """Exists expression for annotating sends (`contact`, `at`: OuterRefs of the send): the contact
    has a conversion after `at` and within that conversion type's lookback window, i.e. one whose
    attribution journey (journeys_for) would hold a touch made at `at`. Read by bestpractices."""
    lookbacks = ConversionType.objects.order_by().values_list("lookback_days", flat=True).distinct()
    # one condition per distinct lookback (a handful): portable, unlike integer x interval arithmetic
    within = Q(pk__in=[])
    for days in lookbacks:
        within |= Q(conversion_type__lookback_days=days, occurred_at__lte=at + timedelta(days=days))
    return Exists(ConversionEvent.objects.filter(within, contact_id=contact, occurred_at__gt=at))


def conversion_window_days() -> int | None:
    """Longest lookback of the conversion types (days): every conversion converted_after can see for
    a send is in once the send is this old. None when there is no conversion type (not measured)."""
    return ConversionType.objects.aggregate(days=Max("lookback_days"))["days"]
