"""Website tracking writes: storing events (COPY / bulk insert / spool), identity stitching,
sessions, funnel snapshots, drop-off segments and recommendations."""

import atexit
import base64
import hashlib
import json
import logging
import operator
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import orjson
from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, connection, connections, transaction
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from madansara.channels.chat import chat_visitor_identified
from madansara.choices import Channel
from madansara.contacts.models import Contact, Tag
from madansara.contacts.services import contact_get_or_create_by_identity
from website import tasks
from website.classify import Client, classify_landing, truncate_ip
from website.funnels import FunnelSpec, funnel_compute
from website.ingest import parse, spool
from website.models import (
    CustomerType,
    FunnelAnalytics,
    FunnelDefinition,
    IngestSpoolReceipt,
    Site,
    WebsiteEvent,
    WebsiteSession,
    WebsiteVisitor,
)
from website.signals import events_ingested

logger = logging.getLogger(__name__)

IDENTIFY_EVENT = parse.IDENTIFY_EVENT
COPY_COLUMNS = (
    "site_id",
    "occurred_at",
    "received_at",
    "name",
    "visitor_id",
    "contact_id",
    "session_id",
    "url",
    "path",
    "referrer",
    "props",
    "device",
    "browser",
    "os",
    "ip",
)


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to an accepted batch: stored now, or spooled for later."""

    accepted: int
    spooled: bool


def cookieless_id(*, site_id: int, ip: str, user_agent: str, day: date) -> str:
    """A daily, salted visitor hash for cookieless sites: nothing is stored on the device."""
    raw = f"{settings.SECRET_KEY}|{site_id}|{day.isoformat()}|{ip}|{user_agent}"
    return "cl_" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def row_common(*, client: Client, ip: str, received_at: datetime) -> dict:
    """The columns every event of one request shares: device, browser, OS, truncated IP, received_at."""
    return {
        "device": client.device,
        "browser": client.browser,
        "os": client.os,
        "ip": truncate_ip(ip),
        "received_at": received_at,
    }


def _complete_rows(rows: list[dict], *, client: Client, ip: str, received_at: datetime) -> list[dict]:
    common = row_common(client=client, ip=ip, received_at=received_at)
    for row in rows:
        row.update(common)
    return rows


COPY_SQL = f"COPY website_event ({', '.join(COPY_COLUMNS)}) FROM STDIN"
_SHARED_COLUMNS = ("received_at", "device", "browser", "os", "ip")  # see row_common


def _copy_write(copy, site_id: int, rows: list[dict], common: dict | None) -> None:
    """Write rows to an open COPY of COPY_COLUMNS; `common` (row_common) holds the columns the
    rows share when they do not carry them. Timestamps go as ISO text: psycopg's own datetime
    formatting costs 4x the rest of the row."""
    received, received_text = None, ""
    for r in rows:
        shared = common or r
        if shared["received_at"] is not received:  # one value per request: format it once
            received = shared["received_at"]
            received_text = received.isoformat()
        copy.write_row(
            (
                site_id,
                r["occurred_at"].isoformat(),
                received_text,
                r["name"],
                r["visitor_id"],
                r.get("contact_id"),
                r["session_id"],
                r["url"],
                r["path"],
                r["referrer"],
                r.get("props_json") or json.dumps(r["props"]),
                shared["device"],
                shared["browser"],
                shared["os"],
                shared["ip"],
            )
        )


def rows_write(batches: list[tuple[int, list[dict], dict | None]]) -> None:
    """Store (site_id, rows, common) batches in one statement: a COPY on PostgreSQL, one bulk
    INSERT elsewhere; `common` (row_common) holds the columns a batch's rows do not carry."""
    if connection.vendor == "postgresql":
        # wrap_database_errors: Django does not wrap cursor.copy(), and callers catch django.db errors.
        with connection.wrap_database_errors, connection.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
            for site_id, rows, common in batches:
                _copy_write(copy, site_id, rows, common)
        return
    own = [k for k in COPY_COLUMNS if k not in ("site_id", "contact_id", *_SHARED_COLUMNS)]
    WebsiteEvent.objects.bulk_create(
        [
            WebsiteEvent(
                site_id=site_id,
                contact_id=r.get("contact_id"),
                **{k: r[k] for k in own},
                **{k: (common or r)[k] for k in _SHARED_COLUMNS},
            )
            for site_id, rows, common in batches
            for r in rows
        ],
        batch_size=500,
    )


SIGNAL_KEYS = ("name", "visitor_id", "contact_id", "session_id", "occurred_at", "url", "props")
_signal_values = operator.itemgetter(*SIGNAL_KEYS)


def _signal_payload(rows: list[dict]) -> list[tuple]:
    """What subscribers get of each stored event, as tuples in SIGNAL_KEYS order (a dict per
    event cost more than the rest of the notification)."""
    return [_signal_values(r) for r in rows]


SIGNAL_BUFFER_MAX_EVENTS = 5000


class _SignalBuffer:
    """Stored events waiting to be handed to the events_ingested task, per site.

    One broker publish per request cost more than storing the batch, so with
    WEBSITE_SIGNAL_BUFFER_SECONDS > 0 the events of many committed batches are published
    together, at most that many seconds later (a timer thread), and at exit. The events are
    already stored durably; only the notification waits (a killed worker can drop at most that
    window of notifications, never events).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[int, list[tuple]] = {}
        self.timer: threading.Timer | None = None

    def add(self, site_id: int, payload: list[tuple], delay: float) -> None:
        with self.lock:
            events = self.pending.setdefault(site_id, [])
            events.extend(payload)
            full = len(events) >= SIGNAL_BUFFER_MAX_EVENTS
            if self.timer is None and not full:
                self.timer = threading.Timer(delay, self._flush_from_timer)
                self.timer.daemon = True
                self.timer.start()
        if full:  # keep task messages small: publish now rather than wait for the timer
            self.flush()

    def _flush_from_timer(self) -> None:
        try:
            self.flush()
        except Exception:
            logger.exception("website ingest: publishing buffered events_ingested failed")
        finally:
            connections.close_all()  # this thread's own connections (an inline fallback may open one)

    def flush(self) -> int:
        with self.lock:
            pending, self.pending = self.pending, {}
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
        for site_id, events in pending.items():
            _events_ingested_publish(site_id, events)
        return sum(len(events) for events in pending.values())


_signal_buffer = _SignalBuffer()
atexit.register(_signal_buffer.flush)


def events_ingested_flush() -> int:
    """Publish the buffered events_ingested notifications now; returns how many events."""
    return _signal_buffer.flush()


def _events_ingested_publish(site_id: int, payload: list[tuple]) -> None:
    packed = events_pack(payload)
    try:
        tasks.events_ingested_task.delay(site_id, packed=packed)
    except Exception:  # noqa: BLE001 - broker down: the rows are stored, notify in-process instead
        logger.warning("website ingest: broker unavailable, sending events_ingested inline")
        events_ingested_send(site_id=site_id, events=events_unpack(packed))


def events_pack(events: list[tuple]) -> str:
    """Events (_signal_payload tuples) as compressed columnar JSON in base64: a fraction of the
    broker client's CPU of a list of dicts, and of the message size (the client JSON-escapes and
    base64-encodes every message body)."""
    return base64.b64encode(zlib.compress(orjson.dumps({"k": SIGNAL_KEYS, "r": events}), 1)).decode()


def events_unpack(packed: str) -> list[dict]:
    """The events of events_pack as dicts (occurred_at as ISO text, as events_ingested_send
    accepts); a message packed as a list of dicts (before the columnar form) still reads."""
    data = orjson.loads(zlib.decompress(base64.b64decode(packed)))
    if isinstance(data, list):
        return data
    return [dict(zip(data["k"], row, strict=True)) for row in data["r"]]


def _events_ingested_enqueue(site_id: int, payload: list[tuple]) -> None:
    """Hand the stored events to subscribers from a worker (buffered, see _SignalBuffer)."""
    delay = getattr(settings, "WEBSITE_SIGNAL_BUFFER_SECONDS", 0)
    if delay > 0:
        _signal_buffer.add(site_id, payload, delay)
    else:
        _events_ingested_publish(site_id, payload)


def events_ingested_send(*, site_id: int, events: list[dict]) -> None:
    """Send the events_ingested signal (occurred_at as aware datetimes)."""
    for event in events:
        if isinstance(event["occurred_at"], str):
            event["occurred_at"] = datetime.fromisoformat(event["occurred_at"])
    events_ingested.send(sender=WebsiteEvent, site_id=site_id, events=events)


_KNOWN_VISITORS_SQL = (
    "SELECT site_id, anonymous_id, contact_id FROM website_websitevisitor"
    " WHERE contact_id IS NOT NULL AND site_id = ANY(%s) AND anonymous_id = ANY(%s)"
)


def contacts_attach(batches: list[tuple[int, list[dict]]]) -> None:
    """Set contact_id on the rows of visitors already identified, for (site_id, rows) batches of
    any number of sites (one indexed query)."""
    site_ids = list({site_id for site_id, _ in batches})
    visitor_ids = list({r["visitor_id"] for _, rows in batches for r in rows})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_KNOWN_VISITORS_SQL, [site_ids, visitor_ids])
            rows_found = cursor.fetchall()
    else:
        rows_found = WebsiteVisitor.objects.filter(
            site_id__in=site_ids, anonymous_id__in=visitor_ids, contact__isnull=False
        ).values_list("site_id", "anonymous_id", "contact_id")
    known = {(site_id, anonymous_id): contact_id for site_id, anonymous_id, contact_id in rows_found}
    for site_id, rows in batches:
        for row in rows:
            row["contact_id"] = known.get((site_id, row["visitor_id"]))


def events_store(*, site_id: int, rows: list[dict], batch_id: str = "") -> int:
    """Store validated rows atomically (COPY on PostgreSQL); stitch identifies; signal after commit.

    With a `batch_id` (a spooled batch) the batch is stored at most once.
    """
    if not rows:
        return 0
    if not batch_id and not any(r["name"] == IDENTIFY_EVENT for r in rows):
        # The common case needs no explicit transaction: the COPY (or one multi-row INSERT) is a
        # single statement, atomic and durably committed on its own - two round trips in all.
        contacts_attach([(site_id, rows)])
        rows_write([(site_id, rows, None)])
        payload = _signal_payload(rows)
        transaction.on_commit(lambda: _events_ingested_enqueue(site_id, payload))
        return len(rows)
    with transaction.atomic():
        if batch_id:
            try:
                with transaction.atomic():
                    IngestSpoolReceipt.objects.create(batch_id=batch_id, events=len(rows))
            except IntegrityError:
                return 0
        contacts_attach([(site_id, rows)])
        rows_write([(site_id, rows, None)])
        for row in rows:
            if row["name"] == IDENTIFY_EVENT:
                identify = visitor_identify if row.get("verified") else visitor_claim  # see website.ingest.identify
                contact_id = identify(
                    site_id=site_id,
                    visitor_id=row["visitor_id"],
                    identifier=str(row["props"].get("id", "")),
                    traits=row["props"].get("traits") or {},
                    at=row["occurred_at"],
                )
                if contact_id:
                    for other in rows:
                        if other["visitor_id"] == row["visitor_id"]:
                            other["contact_id"] = contact_id
        payload = _signal_payload(rows)
        transaction.on_commit(lambda: _events_ingested_enqueue(site_id, payload))
    return len(rows)


def events_ingest(*, site_id: int, rows: list[dict], client: Client, ip: str) -> IngestOutcome:
    """Store an accepted batch now; if the database is unavailable, spool it durably instead."""
    rows = _complete_rows(rows, client=client, ip=ip, received_at=timezone.now())
    if not rows:
        return IngestOutcome(accepted=0, spooled=False)
    try:
        events_store(site_id=site_id, rows=rows)
    except DatabaseError as exc:
        if isinstance(exc, IntegrityError):
            raise
        logger.warning("website ingest: database unavailable, spooling %d events (%s)", len(rows), type(exc).__name__)
        connection.close_if_unusable_or_obsolete()
        spool.spool_write(site_id=site_id, rows=rows)
        return IngestOutcome(accepted=len(rows), spooled=True)
    return IngestOutcome(accepted=len(rows), spooled=False)


def spool_flush(*, limit: int = 1000) -> int:
    """Store spooled batches, oldest first. A batch whose data is refused (unreadable file, a
    deleted site, bad values) is quarantined and the next one tried; the flush stops at the first
    sign that the database is unavailable. Returns the events stored."""
    stored = 0
    for index, path in enumerate(spool.spool_pending()):
        if index >= limit:
            break
        try:
            batch = spool.spool_read(path)
            stored += events_store(site_id=batch["site_id"], rows=batch["rows"], batch_id=batch["batch_id"])
        except (DataError, IntegrityError, ValueError, KeyError, TypeError) as exc:
            spool.spool_quarantine(path, reason=f"{type(exc).__name__}: {exc}"[:500])
            continue
        except FileNotFoundError:  # flushed meanwhile by another process sharing the directory
            continue
        except DatabaseError:
            logger.warning("website spool: database still unavailable, %s kept", path.name)
            break
        path.unlink(missing_ok=True)
    return stored


def _resolve_contact(identifier: str, traits: dict):
    from django.core.exceptions import ValidationError

    name = str(traits.get("name", ""))[:255]
    if "@" in identifier:
        try:
            contact, _, _ = contact_get_or_create_by_identity(
                channel=Channel.EMAIL, value=identifier, defaults={"name": name}
            )
        except ValidationError:
            return None
        return contact
    # An `email` trait is not attached: the signature covers the id only (website.ingest.identify).
    contact, _ = Contact.objects.get_or_create(external_id=identifier[:255], defaults={"name": name})
    return contact


def visitor_claim(*, site_id: int, visitor_id: str, identifier: str, traits: dict, at: datetime) -> None:
    """Record what an unsigned identify claimed on the visitor; no contact is created or attached."""
    claim = {"claimed_id": identifier.strip()[:255], "claimed_traits": traits, "claimed_at": at}
    WebsiteVisitor.objects.update_or_create(
        site_id=site_id,
        anonymous_id=visitor_id,
        defaults=claim,
        create_defaults={**claim, "first_seen_at": at, "last_seen_at": at},
    )


def visitor_identify(*, site_id: int, visitor_id: str, identifier: str, traits: dict, at: datetime) -> int | None:
    """Stitch an anonymous visitor to a contact (by email or external id) and re-attribute
    their earlier events and sessions. Returns the contact id, or None for an unusable id.
    Only for identities the site signed (website.ingest.identify): never for what a browser merely claims."""
    identifier = identifier.strip()
    if not identifier:
        return None
    with transaction.atomic():
        contact = _resolve_contact(identifier, traits)
        if contact is None:
            return None
        visitor, created = WebsiteVisitor.objects.get_or_create(
            site_id=site_id,
            anonymous_id=visitor_id,
            defaults={"contact": contact, "first_seen_at": at, "last_seen_at": at, "identified_at": at},
        )
        if not created and visitor.contact_id != contact.pk:
            visitor.contact, visitor.identified_at = contact, at
            visitor.save(update_fields=["contact", "identified_at"])
        WebsiteEvent.objects.filter(site_id=site_id, visitor_id=visitor_id).exclude(contact_id=contact.pk).update(
            contact_id=contact.pk
        )
        WebsiteSession.objects.filter(site_id=site_id, visitor__anonymous_id=visitor_id).update(
            contact_id=contact.pk, customer_type=_customer_type(contact)
        )
        # what the visitor wrote in the site's chat before is the contact's too
        site_key = Site.objects.filter(pk=site_id).values_list("public_key", flat=True).first()
        chat_visitor_identified(site_key=site_key or "", visitor_id=visitor_id, contact=contact)
    return contact.pk


def _customer_type(contact) -> str:
    if contact is None:
        return CustomerType.ANONYMOUS
    if contact.lifecycle_stage == "customer":
        return CustomerType.CUSTOMER
    return CustomerType.LEAD


def _customer_types(contact_ids: Iterable[int]) -> dict[int, str]:
    """Customer or lead per contact, by lifecycle stage.

    (It also looked for a `conversion.models.Conversion`, a model that never existed, so recorded
    conversions never counted here; that dead read is gone with the website -> conversion import.)
    """
    ids = {c for c in contact_ids if c}
    stages = dict(Contact.objects.filter(pk__in=ids).values_list("pk", "lifecycle_stage"))
    return {pk: CustomerType.CUSTOMER if stage == "customer" else CustomerType.LEAD for pk, stage in stages.items()}


def sessions_rebuild(*, start: datetime, end: datetime, site_id: int | None = None, chunk: int = 5000) -> int:
    """(Re)build sessions and visitors for every session with an event in [start, end).

    Sessions last 24 hours at most, so their events are read from a day either side.
    Returns the number of sessions written.
    """
    events = WebsiteEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    if site_id is not None:
        events = events.filter(site_id=site_id)
    keys = events.values("site_id", "session_id").distinct()
    touched = list(keys.values_list("site_id", "session_id"))
    written = 0
    for offset in range(0, len(touched), chunk):
        written += _sessions_write(touched[offset : offset + chunk], start=start, end=end)
    return written


def _sessions_write(keys: list[tuple[int, str]], *, start: datetime, end: datetime) -> int:
    by_site: dict[int, set[str]] = {}
    for site, session in keys:
        by_site.setdefault(site, set()).add(session)
    written = 0
    for site_id, session_keys in by_site.items():
        scope = WebsiteEvent.objects.filter(
            site_id=site_id,
            session_id__in=session_keys,
            occurred_at__gte=start - timedelta(days=1),
            occurred_at__lt=end + timedelta(days=1),
        )
        ordered = WebsiteEvent.objects.filter(
            site_id=site_id, session_id=OuterRef("session_id"), occurred_at__gte=start - timedelta(days=1)
        )
        first = ordered.order_by("occurred_at", "id")
        last = ordered.order_by("-occurred_at", "-id")
        rows = list(
            scope.values("session_id")
            .annotate(
                started=Min("occurred_at"),
                ended=Max("occurred_at"),
                pageviews=Count("id", filter=Q(name="pageview")),
                total=Count("id"),
                contact=Max("contact_id"),
                entry_url=Subquery(first.values("url")[:1]),
                entry_path=Subquery(first.values("path")[:1]),
                referrer=Subquery(first.values("referrer")[:1]),
                visitor_id=Subquery(first.values("visitor_id")[:1]),
                device=Subquery(first.values("device")[:1]),
                browser=Subquery(first.values("browser")[:1]),
                os=Subquery(first.values("os")[:1]),
                exit_url=Subquery(last.values("url")[:1]),
                exit_path=Subquery(last.values("path")[:1]),
            )
            .order_by()
        )
        written += _sessions_upsert(site_id, rows)
    return written


def _sessions_upsert(site_id: int, rows: list[dict]) -> int:
    if not rows:
        return 0
    visitors = _visitors_upsert(site_id, rows)
    types = _customer_types(v.contact_id for v in visitors.values())
    sessions = []
    for row in rows:
        visitor = visitors[row["visitor_id"]]
        contact_id = row["contact"] or visitor.contact_id
        landing = classify_landing(row["entry_url"] or "", row["referrer"] or "")
        sessions.append(
            WebsiteSession(
                site_id=site_id,
                session_key=row["session_id"],
                visitor=visitor,
                contact_id=contact_id,
                started_at=row["started"],
                ended_at=row["ended"],
                pageviews=row["pageviews"],
                events=row["total"],
                entry_url=row["entry_url"] or "",
                exit_url=row["exit_url"] or "",
                entry_path=(row["entry_path"] or "")[:500],
                exit_path=(row["exit_path"] or "")[:500],
                referrer=row["referrer"] or "",
                source=landing.source,
                medium=landing.medium,
                campaign=landing.campaign,
                traffic_class=landing.traffic_class,
                outreach_message_id=landing.outreach_message_id,
                device=row["device"] or "",
                browser=row["browser"] or "",
                os=row["os"] or "",
                is_returning=row["started"] > visitor.first_seen_at,
                customer_type=types.get(contact_id, CustomerType.ANONYMOUS) if contact_id else CustomerType.ANONYMOUS,
            )
        )
    fields = [f.name for f in WebsiteSession._meta.concrete_fields if f.name not in ("id", "site", "session_key")]
    WebsiteSession.objects.bulk_create(
        sessions, update_conflicts=True, unique_fields=["site", "session_key"], update_fields=fields, batch_size=1000
    )
    _visitor_session_counts(site_id, list(visitors.values()))
    return len(sessions)


def _visitors_upsert(site_id: int, rows: list[dict]) -> dict[str, WebsiteVisitor]:
    spans: dict[str, list] = {}
    for row in rows:
        span = spans.setdefault(row["visitor_id"], [row["started"], row["ended"], row["contact"]])
        span[0], span[1] = min(span[0], row["started"]), max(span[1], row["ended"])
        span[2] = span[2] or row["contact"]
    existing = {
        v.anonymous_id: v for v in WebsiteVisitor.objects.filter(site_id=site_id, anonymous_id__in=spans.keys())
    }
    to_write = []
    for anonymous_id, (first_seen, last_seen, contact_id) in spans.items():
        visitor = existing.get(anonymous_id)
        if visitor is None:
            visitor = WebsiteVisitor(
                site_id=site_id, anonymous_id=anonymous_id, first_seen_at=first_seen, last_seen_at=last_seen
            )
        else:
            visitor.first_seen_at = min(visitor.first_seen_at, first_seen)
            visitor.last_seen_at = max(visitor.last_seen_at, last_seen)
        if contact_id and not visitor.contact_id:
            visitor.contact_id = contact_id
        to_write.append(visitor)
    WebsiteVisitor.objects.bulk_create(
        to_write,
        update_conflicts=True,
        unique_fields=["site", "anonymous_id"],
        update_fields=["first_seen_at", "last_seen_at", "contact"],
    )
    return {v.anonymous_id: v for v in WebsiteVisitor.objects.filter(site_id=site_id, anonymous_id__in=spans.keys())}


def _visitor_session_counts(site_id: int, visitors: list[WebsiteVisitor]) -> None:
    counts = dict(
        WebsiteSession.objects.filter(visitor__in=visitors)
        .values("visitor_id")
        .annotate(n=Count("id"))
        .values_list("visitor_id", "n")
    )
    for visitor in visitors:
        visitor.sessions_count = counts.get(visitor.pk, 0)
    WebsiteVisitor.objects.bulk_update(visitors, ["sessions_count"], batch_size=1000)


def funnel_snapshot(*, funnel: FunnelDefinition, day: date) -> FunnelAnalytics:
    """Compute and store the funnel for the cohort that entered on `day` (UTC)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    result = funnel_compute(FunnelSpec.for_funnel(funnel, start=start, end=start + timedelta(days=1)))
    steps = result.steps
    snapshot, _ = FunnelAnalytics.objects.update_or_create(
        funnel=funnel,
        day=day,
        defaults={
            "entered": steps[0]["count"],
            "converted": steps[-1]["count"],
            "result": {"steps": steps, "breakdown": result.breakdown},
        },
    )
    return snapshot


def funnel_snapshots_build(*, day: date, site_id: int | None = None) -> int:
    """Snapshot every active funnel for one day; returns how many were written."""
    funnels = FunnelDefinition.objects.filter(is_active=True)
    if site_id is not None:
        funnels = funnels.filter(site_id=site_id)
    count = 0
    for funnel in funnels:
        funnel_snapshot(funnel=funnel, day=day)
        count += 1
    return count


def funnel_dropoff_save_segment(
    *, funnel: FunnelDefinition, step_index: int, start: datetime, end: datetime, tag_name: str
) -> tuple[object, int]:
    """Tag the contacts who reached step `step_index` (0-based) but not the next one.

    The tag is the segment campaigns and A/B tests target. Returns (tag, contacts tagged).
    """
    if not 0 <= step_index < len(funnel.steps) - 1:
        raise ValueError("Drop-off exists after every step but the last.")
    result = funnel_compute(FunnelSpec.for_funnel(funnel, start=start, end=end), dropped_limit=10**9)
    contact_ids = {p["contact_id"] for p in result.dropped[step_index] if p["contact_id"]}
    with transaction.atomic():
        tag, _ = Tag.objects.get_or_create(name=tag_name[:100])
        through = Contact.tags.through
        through.objects.bulk_create([through(contact_id=c, tag_id=tag.pk) for c in contact_ids], ignore_conflicts=True)
    return tag, len(contact_ids)
