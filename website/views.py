"""The public ingest endpoint `POST /t/batch` (plain Django: it must be small and fast)."""

import time

import orjson
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models.signals import post_save
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from website import ingest, services
from website.classify import parse_client
from website.models import Site
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


post_save.connect(_forget_local_sites, sender=Site, dispatch_uid="website.views.forget_local_sites")


def _error(status: int, code: str, message: str, details=None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "details": details}}, status=status)


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


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


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _preflight(request: HttpRequest) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if not origin or not _any_site_allows(origin):
        return HttpResponse(status=403)
    response = _cors(HttpResponse(status=204), origin)
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type, Content-Encoding"
    response["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


@csrf_exempt
def batch(request: HttpRequest) -> HttpResponse:
    """Accept a tracker batch: validate, filter bots, store (or spool) and report per-event errors."""
    if request.method == "OPTIONS":
        return _preflight(request)
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Use POST.")
    declared = request.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > ingest.MAX_COMPRESSED_BYTES:
        return _error(413, "payload_too_large", f"Request bodies are limited to {ingest.MAX_COMPRESSED_BYTES} bytes.")
    try:
        payload = ingest.decode_body(request.body, request.headers.get("Content-Encoding", ""))
    except ingest.PayloadTooLarge as exc:
        return _error(413, "payload_too_large", str(exc))
    except ingest.BadPayload as exc:
        return _error(400, "invalid_payload", str(exc))
    try:
        site = _site(payload["site"])
    except DatabaseError:
        response = _error(503, "unavailable", "Try again shortly.")
        response["Retry-After"] = "5"
        return response
    if site is None:
        return _error(404, "unknown_site", "No active site has this key.")
    origin = request.headers.get("Origin", "")
    if origin and not site.allows_origin(origin):
        return _error(403, "origin_not_allowed", "This origin is not registered for the site.")
    user_agent = request.headers.get("User-Agent", "")
    client = parse_client(user_agent)
    if client.is_bot:
        return _cors(
            JsonResponse({"accepted": 0, "filtered": len(payload["events"]), "errors": []}, status=202), origin
        )
    if site.respect_dnt and (request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1"):
        return _cors(
            JsonResponse({"accepted": 0, "filtered": len(payload["events"]), "errors": []}, status=202), origin
        )
    now = timezone.now()
    ip = _client_ip(request)
    anonymous = services.cookieless_id(site_id=site.id, ip=ip, user_agent=user_agent, day=now.date())
    parsed = ingest.parse_batch(payload, now=now, cookieless_id=anonymous)
    if site.cookieless:
        for row in parsed.rows:
            row["visitor_id"] = row["session_id"] = anonymous
    outcome = services.events_ingest(site_id=site.id, rows=parsed.rows, client=client, ip=ip)
    body = {"accepted": outcome.accepted, "filtered": 0, "errors": parsed.errors}
    if outcome.spooled:
        body["spooled"] = True
    return _cors(HttpResponse(orjson.dumps(body), status=202, content_type="application/json"), origin)


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
    return f"<script defer {' '.join(attributes)}></script>"
