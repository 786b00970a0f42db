"""The public ingest endpoint `POST /t/batch` (plain Django: it must be small and fast)."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models.signals import post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from madansara.api.exceptions import error_body
from madansara.metrics import tracker_count
from website import services
from website.classify import parse_client
from website.ingest import identify, parse, writer
from website.models import ChatWidget, Site
from website.selectors import SiteInfo, site_for_key

CORS_MAX_AGE = "86400"
# Sites also cached in-process, briefly: a shared-cache round trip per batch is measurable.
LOCAL_SITE_SECONDS = 5.0
_local_sites: dict[str, tuple[float, SiteInfo | None]] = {}


def _site(public_key: str) -> SiteInfo | None:
    cached = _local_sites.get(public_key)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    info = site_for_key(public_key)
    if len(_local_sites) > 10_000:
        _local_sites.clear()
    _local_sites[public_key] = (now + LOCAL_SITE_SECONDS, info)
    return info


def _forget_local_sites(**kwargs) -> None:
    """A site saved in this process is seen at once here; other processes within LOCAL_SITE_SECONDS."""
    _local_sites.clear()


post_save.connect(_forget_local_sites, sender=Site, dispatch_uid="website.ingest.endpoint.forget_local_sites")


@dataclass
class Reply:
    """An ingest answer, independent of Django's request/response classes (see website.ingest.wsgi)."""

    status: int
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, code: str, message: str, details=None) -> Reply:
    return Reply(status, error_body(code, message, details))


def _cors(reply: Reply, origin: str) -> Reply:
    if origin:
        reply.headers["Access-Control-Allow-Origin"] = origin
        reply.headers["Vary"] = "Origin"
    return reply


def _any_site_allows(origin: str) -> bool:
    origins = cache.get("website:all-origins")
    if origins is None:
        origins = sorted(
            {
                o.rstrip("/")
                for row in Site.objects.filter(is_active=True).values_list("allowed_origins", flat=True)
                for o in row or ()
            }
        )
        cache.set("website:all-origins", origins, 60)
    return origin.rstrip("/") in origins


def _preflight(origin: str) -> Reply:
    if not origin or not _any_site_allows(origin):
        return Reply(403)
    reply = _cors(Reply(204), origin)
    reply.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    reply.headers["Access-Control-Allow-Headers"] = "Content-Type, Content-Encoding"
    reply.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    return reply


def batch_reply(*, method: str, header: Callable[[str], str], read_body: Callable[[], bytes], ip: str) -> Reply:
    """Accept a tracker batch: validate, filter bots, store (or spool) and report per-event errors.

    `header(name)` returns a request header ('' if absent); `read_body()` the raw body.
    """
    origin = header("Origin")
    if method == "OPTIONS":
        return _preflight(origin)
    if method != "POST":
        return _error(405, "method_not_allowed", "Use POST.")
    declared = header("Content-Length")
    if declared and declared.isdigit() and int(declared) > parse.MAX_COMPRESSED_BYTES:
        return _error(413, "payload_too_large", f"Request bodies are limited to {parse.MAX_COMPRESSED_BYTES} bytes.")
    try:
        payload = parse.decode_body(read_body(), header("Content-Encoding"))
    except parse.PayloadTooLarge as exc:
        return _error(413, "payload_too_large", str(exc))
    except parse.BadPayload as exc:
        return _error(400, "invalid_payload", str(exc))
    try:
        site = _site(payload["site"])
    except DatabaseError:
        reply = _error(503, "unavailable", "Try again shortly.")
        reply.headers["Retry-After"] = "5"
        return reply
    if site is None:
        return _error(404, "unknown_site", "No active site has this key.")
    if origin and not site.allows_origin(origin):
        return _error(403, "origin_not_allowed", "This origin is not registered for the site.")
    user_agent = header("User-Agent")
    client = parse_client(user_agent)
    if client.is_bot or (site.respect_dnt and (header("DNT") == "1" or header("Sec-GPC") == "1")):
        tracker_count(outcome="filtered", events=len(payload["events"]))
        return _cors(Reply(202, {"accepted": 0, "filtered": len(payload["events"]), "errors": []}), origin)
    now = timezone.now()
    anonymous = ""  # the daily hash, only when some event needs it
    if site.cookieless or not all(isinstance(e, dict) and e.get("a") and e.get("s") for e in payload["events"]):
        anonymous = services.cookieless_id(site_id=site.id, ip=ip, user_agent=user_agent, day=now.date())
    parsed = parse.parse_batch(payload, now=now, cookieless_id=anonymous)
    if site.cookieless:
        for row in parsed.rows:
            row["visitor_id"] = row["session_id"] = anonymous
    if parsed.identifies:  # only signed ones are trusted; all are capped and rate-limited
        identify.identifies_screen(site_id=site.id, secret=site.identity_secret, batch=parsed)
    outcome = writer.events_accept(site_id=site.id, rows=parsed.rows, client=client, ip=ip)
    body = {"accepted": outcome.accepted, "filtered": 0, "errors": parsed.errors}
    tracker_count(outcome="accepted", events=outcome.accepted)
    tracker_count(outcome="rejected", events=len(parsed.errors))
    if outcome.spooled:
        tracker_count(outcome="spooled", events=outcome.accepted)
    if outcome.spooled:
        body["spooled"] = True
    return _cors(Reply(202, body), origin)


@csrf_exempt
def batch(request: HttpRequest) -> HttpResponse:
    """`POST /t/batch` through Django (tests, runserver); gunicorn serves it via website.ingest.wsgi."""
    reply = batch_reply(
        method=request.method,
        header=lambda name: request.headers.get(name, ""),
        read_body=lambda: request.body,
        ip=request.META.get("REMOTE_ADDR", ""),
    )
    if reply.body is None:
        response = HttpResponse(status=reply.status)
    else:
        response = HttpResponse(orjson.dumps(reply.body), status=reply.status, content_type="application/json")
    for name, value in reply.headers.items():
        response[name] = value
    return response


def snippet(site: Site, base_url: str) -> str:
    """The <script> tag a site owner pastes into their pages."""
    attributes = [
        f'src="{base_url}/static/madansara.min.js"',
        f'data-site="{site.public_key}"',
        f'data-api="{base_url}"',
    ]
    if site.respect_dnt:
        attributes.append("data-dnt")
    if site.cookieless:
        attributes.append("data-cookieless")
    if ChatWidget.objects.filter(site=site, is_enabled=True).exists():
        attributes.append("data-chat")
    return f"<script defer {' '.join(attributes)}></script>"
