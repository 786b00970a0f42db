"""Touchpoints from every source, idempotent by (source, source_key)."""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Case, CharField, Exists, Min, OuterRef, Q, Subquery, Value, When

from conversion.models import (
    Channel,
    ConversionEvent,
    CustomerTouchpoint,
    TouchKind,
    TouchpointSource,
)
from conversion.services.conversions import _as_datetime
from madansara.channels.models import ChatThread, InboundMessage, MessageEvent
from social.models import PLATFORM_CHANNEL, FunnelRun, SocialEngagement
from website.classify import classify_landing
from website.models import WebsiteSession

MESSAGE_TOUCH_KINDS = {"delivered": TouchKind.DELIVERED, "opened": TouchKind.OPENED, "clicked": TouchKind.CLICKED}
BATCH = 2000
# website.classify traffic classes → our channel taxonomy
TRAFFIC_CHANNEL = {
    "paid_search": Channel.PAID_SEARCH,
    "organic_search": Channel.ORGANIC_SEARCH,
    "social": Channel.SOCIAL_ORGANIC,
    "email": Channel.EMAIL,
    "referral": Channel.REFERRAL,
    "direct": Channel.DIRECT,
    "outreach": Channel.EMAIL,
}


def touchpoint_record(
    *,
    contact_id: int | None = None,
    visitor_id: str = "",
    channel: str,
    occurred_at: datetime,
    source: str,
    source_key: str,
    kind: str = TouchKind.OTHER,
    campaign: str = "",
    utm_source: str = "",
    utm_medium: str = "",
    journey_key: str = "",
) -> tuple[CustomerTouchpoint, bool]:
    """Record one touchpoint, idempotent by (source, source_key): social and web apps call this."""
    if channel not in Channel.values:
        raise ValidationError({"channel": f"Unknown channel '{channel}'."})
    if not contact_id and not visitor_id:
        raise ValidationError({"contact_id": "A contact or a visitor id is required."})
    return CustomerTouchpoint.objects.get_or_create(
        source=source,
        source_key=str(source_key),
        defaults={
            "contact_id": contact_id,
            "visitor_id": visitor_id or "",
            "channel": channel,
            "kind": kind,
            "occurred_at": occurred_at,
            "campaign": (campaign or "")[:200],
            "utm_source": (utm_source or "")[:100],
            "utm_medium": (utm_medium or "")[:100],
            "journey_key": journey_key or "",
        },
    )


def message_campaign(context: dict | None) -> str:
    """The campaign label an outbound message carries in its context."""
    context = context or {}
    return str(context.get("campaign") or context.get("campaign_id") or "")[:200]


def touchpoints_capture_messages(
    *,
    since: datetime | None = None,
    event_ids: Iterable[int] | None = None,
    inbound_ids: Iterable[int] | None = None,
) -> int:
    """Touchpoints from outbound message events (delivered/opened/clicked) and inbound replies, set-based;
    with ids, only those rows. A website chat message from a visitor not identified yet is the
    tracker visitor's touchpoint (journeys stitch it to the contact once identified)."""
    events = MessageEvent.objects.filter(kind__in=MESSAGE_TOUCH_KINDS, message__contact__isnull=False)
    chat_visitor = Subquery(ChatThread.objects.filter(key=OuterRef("thread_id")).values("visitor_id")[:1])
    inbound = InboundMessage.objects.annotate(
        visitor=Case(
            When(channel=Channel.CHAT, contact__isnull=True, then=chat_visitor),
            default=Value(""),
            output_field=CharField(),
        )
    ).filter(Q(contact__isnull=False) | Q(visitor__gt=""))
    if event_ids is not None or inbound_ids is not None:
        events = events.filter(pk__in=list(event_ids or []))
        inbound = inbound.filter(pk__in=list(inbound_ids or []))
    if since is not None:
        events = events.filter(occurred_at__gte=since)
        inbound = inbound.filter(received_at__gte=since)
    rows = (
        CustomerTouchpoint(
            contact_id=contact_id,
            channel=channel,
            kind=MESSAGE_TOUCH_KINDS[kind],
            occurred_at=occurred_at,
            campaign=message_campaign(context),
            source=TouchpointSource.MESSAGE_EVENT,
            source_key=str(pk),
            journey_key=f"message:{message_id}",
        )
        for pk, kind, occurred_at, message_id, contact_id, channel, context in events.values_list(
            "pk", "kind", "occurred_at", "message_id", "message__contact_id", "message__channel", "message__context"
        ).iterator(chunk_size=BATCH)
    )
    created = _bulk_insert(rows)
    replies = (
        CustomerTouchpoint(
            contact_id=contact_id,
            visitor_id="" if contact_id else visitor,
            channel=channel,
            kind=TouchKind.REPLIED,
            occurred_at=received_at,
            campaign=message_campaign(context),
            source=TouchpointSource.INBOUND,
            source_key=str(pk),
            journey_key=f"inbound:{pk}",
        )
        for pk, contact_id, visitor, channel, received_at, context in inbound.values_list(
            "pk", "contact_id", "visitor", "channel", "received_at", "in_reply_to_message__context"
        ).iterator(chunk_size=BATCH)
    )
    return created + _bulk_insert(replies)


def touchpoints_attach_inbound(*, contact_id: int, inbound_ids: Iterable[int]) -> int:
    """Inbound messages' touchpoints recorded for an anonymous visitor are the contact's now (a chat
    visitor identified later); set-based. The visitor id stays: it is how the journey was stitched."""
    keys = [str(pk) for pk in inbound_ids]
    return CustomerTouchpoint.objects.filter(
        source=TouchpointSource.INBOUND, source_key__in=keys, contact__isnull=True
    ).update(contact_id=contact_id)


def _bulk_insert(rows: Iterable[CustomerTouchpoint]) -> int:
    """Insert in batches; rows whose (source, source_key) exists are skipped by the database."""
    created, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            created += _insert_batch(batch)
            batch = []
    return created + (_insert_batch(batch) if batch else 0)


def _insert_batch(batch: list[CustomerTouchpoint]) -> int:
    existing = set(
        CustomerTouchpoint.objects.filter(
            source__in={r.source for r in batch}, source_key__in={r.source_key for r in batch}
        ).values_list("source", "source_key")
    )
    fresh = [r for r in batch if (r.source, r.source_key) not in existing]
    # a concurrent writer may still win a race: the unique constraint makes that a no-op
    CustomerTouchpoint.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def touchpoints_from_tracker_events(*, site_id: int, events: list[dict]) -> int:
    """One website-session touchpoint per session, classified from its landing page."""
    rows, seen = [], set()
    for event in sorted(events, key=lambda e: str(e.get("occurred_at", ""))):
        session = event.get("session_id")
        if not session or session in seen or not (event.get("contact_id") or event.get("visitor_id")):
            continue
        seen.add(session)
        props = event.get("props") or {}
        landing = classify_landing(event.get("url") or "", props.get("referrer") or "")
        rows.append(
            CustomerTouchpoint(
                contact_id=event.get("contact_id"),
                visitor_id=event.get("visitor_id") or "",
                channel=TRAFFIC_CHANNEL.get(landing.traffic_class, Channel.OTHER),
                kind=TouchKind.SESSION,
                occurred_at=_as_datetime(event.get("occurred_at")),
                campaign=landing.campaign,
                utm_source=landing.source,
                utm_medium=landing.medium,
                source=TouchpointSource.WEBSITE_SESSION,
                source_key=f"{site_id}:{session}",
                journey_key=f"message:{landing.outreach_message_id}" if landing.outreach_message_id else "",
            )
        )
    return _bulk_insert(rows)


def touchpoints_capture_sessions(*, since: datetime | None = None) -> int:
    """Website-session touchpoints from the website app's sessions (same keys as the live path), set-based."""
    sessions = WebsiteSession.objects.filter(Q(contact__isnull=False) | Q(visitor__isnull=False))
    if since is not None:
        sessions = sessions.filter(started_at__gte=since)
    rows = (
        CustomerTouchpoint(
            contact_id=contact_id,
            visitor_id=anonymous_id or "",
            channel=TRAFFIC_CHANNEL.get(traffic_class, Channel.OTHER),
            kind=TouchKind.SESSION,
            occurred_at=started_at,
            campaign=campaign,
            utm_source=source[:100],
            utm_medium=medium[:100],
            source=TouchpointSource.WEBSITE_SESSION,
            source_key=f"{site_id}:{session_key}",
            journey_key=f"message:{message_id}" if message_id else "",
        )
        for site_id, session_key, contact_id, anonymous_id, started_at, traffic_class, source, medium, campaign, message_id
        in sessions.values_list(
            "site_id", "session_key", "contact_id", "visitor__anonymous_id", "started_at", "traffic_class",
            "source", "medium", "campaign", "outreach_message_id",
        ).iterator(chunk_size=BATCH)
    )  # fmt: skip
    return _bulk_insert(rows)


def touchpoints_capture_social(*, since: datetime | None = None) -> int:
    """Touchpoints from social engagements of known contacts; engagements with one post are one step."""
    engagements = SocialEngagement.objects.filter(contact__isnull=False)
    if since is not None:
        engagements = engagements.filter(occurred_at__gte=since)
    rows = (
        CustomerTouchpoint(
            contact_id=contact_id,
            channel=PLATFORM_CHANNEL.get(platform, Channel.SOCIAL_ORGANIC),
            kind=TouchKind.ENGAGEMENT,
            occurred_at=occurred_at,
            source=TouchpointSource.SOCIAL,
            source_key=str(pk),
            journey_key=f"social-post:{post_id}:{contact_id}" if post_id else "",
        )
        for pk, contact_id, platform, occurred_at, post_id in engagements.values_list(
            "pk", "contact_id", "platform", "occurred_at", "post_id"
        ).iterator(chunk_size=BATCH)
    )
    return _bulk_insert(rows)


def funnel_runs_mark_converted() -> int:
    """Mark social funnel runs converted when their contact converted after the run's first DM
    (set-based; the first such conversion's time)."""
    conversions = ConversionEvent.objects.filter(
        contact_id=OuterRef("contact_id"), occurred_at__gte=OuterRef("dm_sent_at")
    )
    first = conversions.order_by().values("contact_id").annotate(first=Min("occurred_at")).values("first")
    return (
        FunnelRun.objects.filter(converted_at__isnull=True, dm_sent_at__isnull=False)
        .filter(Exists(conversions))
        .update(converted_at=Subquery(first[:1]))
    )


def touchpoints_capture(*, since: datetime | None = None) -> int:
    """Every touchpoint source, idempotently: messages, replies, website sessions, social engagements."""
    return (
        touchpoints_capture_messages(since=since)
        + touchpoints_capture_sessions(since=since)
        + touchpoints_capture_social(since=since)
    )
