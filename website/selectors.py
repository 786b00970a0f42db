"""Website tracking reads: cached site lookups for ingest, time series and top lists."""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour, TruncWeek

from website.models import Site, WebsiteEvent, WebsiteSession

SITE_CACHE_SECONDS = 60
TRUNC = {"hour": TruncHour, "day": TruncDay, "week": TruncWeek}
METRICS = ("visitors", "sessions", "pageviews", "events", "conversions")


@dataclass(frozen=True)
class SiteInfo:
    """What ingest needs to know about a site, cached so a database outage does not refuse events."""

    id: int
    allowed_origins: tuple[str, ...]
    respect_dnt: bool
    cookieless: bool
    identity_secret: str = ""

    def allows_origin(self, origin: str) -> bool:
        return bool(origin) and origin.rstrip("/") in {o.rstrip("/") for o in self.allowed_origins}


def site_for_key(public_key: str) -> SiteInfo | None:
    """The active site with this public key (cached for a minute; misses are cached too)."""
    cache_key = f"website:site:v2:{public_key}"
    cached = cache.get(cache_key)
    if cached is not None:
        return cached or None
    site = Site.objects.filter(public_key=public_key, is_active=True).first()
    info = (
        SiteInfo(site.pk, tuple(site.allowed_origins or ()), site.respect_dnt, site.cookieless, site.identity_secret)
        if site
        else False
    )
    cache.set(cache_key, info, SITE_CACHE_SECONDS)
    return info or None


def events_in_range(*, site_id: int, start: datetime, end: datetime) -> QuerySet:
    return WebsiteEvent.objects.filter(site_id=site_id, occurred_at__gte=start, occurred_at__lt=end)


def time_series(
    *,
    site_id: int,
    start: datetime,
    end: datetime,
    interval: str,
    conversion_event: str = "",
    source: str = "",
    device: str = "",
    path: str = "",
) -> list[dict]:
    """Visitors, sessions, page views, events and conversions per hour/day/week bucket."""
    trunc = TRUNC[interval]
    events = events_in_range(site_id=site_id, start=start, end=end)
    sessions = WebsiteSession.objects.filter(site_id=site_id, started_at__gte=start, started_at__lt=end)
    if source:
        sessions = sessions.filter(traffic_class=source)
        events = events.filter(session_id__in=sessions.values("session_key"))
    if device:
        events = events.filter(device=device)
        sessions = sessions.filter(device=device)
    if path:
        events = events.filter(path=path)
        sessions = sessions.filter(entry_path=path)
    by_bucket: dict[datetime, dict] = {}
    event_rows = (
        events.annotate(bucket=trunc("occurred_at"))
        .values("bucket")
        .annotate(
            visitors=Count("visitor_id", distinct=True),
            pageviews=Count("id", filter=Q(name="pageview")),
            events=Count("id"),
            conversions=Count("id", filter=Q(name=conversion_event or "conversion")),
        )
        .order_by("bucket")
    )
    for row in event_rows:
        bucket = row.pop("bucket")
        by_bucket[bucket] = {"bucket": bucket, "sessions": 0, **row}
    for row in sessions.annotate(bucket=trunc("started_at")).values("bucket").annotate(n=Count("id")).order_by():
        entry = by_bucket.setdefault(
            row["bucket"],
            {"bucket": row["bucket"], "visitors": 0, "pageviews": 0, "events": 0, "conversions": 0, "sessions": 0},
        )
        entry["sessions"] = row["n"]
    return [by_bucket[key] for key in sorted(by_bucket)]


def top_pages(*, site_id: int, start: datetime, end: datetime, limit: int = 20) -> list[dict]:
    """Most viewed paths with unique visitors, entries and exits."""
    pages = list(
        events_in_range(site_id=site_id, start=start, end=end)
        .filter(name="pageview")
        .values("path")
        .annotate(pageviews=Count("id"), visitors=Count("visitor_id", distinct=True))
        .order_by("-pageviews", "path")[:limit]
    )
    sessions = WebsiteSession.objects.filter(site_id=site_id, started_at__gte=start, started_at__lt=end)
    paths = [p["path"] for p in pages]
    entries = dict(
        sessions.filter(entry_path__in=paths)
        .values("entry_path")
        .annotate(n=Count("id"))
        .values_list("entry_path", "n")
    )
    exits = dict(
        sessions.filter(exit_path__in=paths).values("exit_path").annotate(n=Count("id")).values_list("exit_path", "n")
    )
    for page in pages:
        page["entries"] = entries.get(page["path"], 0)
        page["exits"] = exits.get(page["path"], 0)
        page["exit_rate"] = round(page["exits"] / page["pageviews"], 4) if page["pageviews"] else 0.0
    return pages


def top_sources(*, site_id: int, start: datetime, end: datetime, group_by: str = "traffic_class", limit: int = 20):
    """Sessions and visitors per traffic class, source or campaign."""
    return list(
        WebsiteSession.objects.filter(site_id=site_id, started_at__gte=start, started_at__lt=end)
        .values(group_by)
        .annotate(sessions=Count("id"), visitors=Count("visitor", distinct=True))
        .order_by("-sessions", group_by)[:limit]
    )
