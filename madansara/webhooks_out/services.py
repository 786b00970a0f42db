"""Outbound webhooks: register endpoints (SSRF-checked), emit events, deliver them signed per
Standard Webhooks, retry with backoff for 24 hours, disable endpoints that keep failing, replay.

Domain apps do not call this module directly: the integration layer (`agents.events`) turns
their signals into `webhook_event_emit` calls, so the core never imports a domain app.
"""

import ipaddress
import json
import logging
import socket
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from madansara.audit import audit_record
from madansara.models import APIKey
from madansara.notifications.services import webhook_endpoint_disabled as notice_endpoint_disabled
from madansara.webhooks_out import tasks
from madansara.webhooks_out.models import (
    EVENT_DOMAINS,
    PERSONAL_DOMAIN,
    DeliveryStatus,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    new_secret,
)

logger = logging.getLogger(__name__)

# Seconds after the first attempt's failure before each retry: exponential, about 24 h in all.
RETRY_DELAYS = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800)
CLAIM_SECONDS = 120  # a delivery being attempted is not picked up again before this
# Sent after an endpoint is disabled (kwargs: endpoint, reason); admin notifications hook in here.
webhook_endpoint_disabled = Signal()


class UnsafeAddress(Exception):
    """The URL resolves to an address webhooks may not reach (loopback, private, link-local…)."""


# --- SSRF guard ---------------------------------------------------------------------------------
def _blocked(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def url_resolve(url: str) -> list[str]:
    """The addresses `url`'s host resolves to; raises UnsafeAddress when one of them is not public
    (unless WEBHOOKS_ALLOW_PRIVATE) or the URL is not http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeAddress("Only http(s) URLs with a host are allowed.")
    if parts.username or parts.password:
        raise UnsafeAddress("URLs with credentials are not allowed.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeAddress(f"'{parts.hostname}' does not resolve.") from exc
    addresses = list(dict.fromkeys(info[4][0].split("%")[0] for info in infos))
    if not settings.WEBHOOKS_ALLOW_PRIVATE:
        for address in addresses:
            if _blocked(ipaddress.ip_address(address)):
                raise UnsafeAddress(
                    f"'{parts.hostname}' resolves to {address}, a loopback, private, link-local or reserved "
                    "address (set WEBHOOKS_ALLOW_PRIVATE=1 to allow)."
                )
    return addresses


# --- endpoints ------------------------------------------------------------------------------------
def _check_events(*, event_types: list[str], owner, api_key: APIKey | None) -> None:
    unknown = [e for e in event_types if e not in EventType.values]
    if unknown or not event_types:
        raise ValidationError(
            {"event_types": [f"Unknown event types: {', '.join(unknown)}" if unknown else "Required."]}
        )
    probe = WebhookEndpoint(owner=owner, api_key=api_key)
    denied = [e for e in event_types if not probe.allows(EVENT_DOMAINS[e])]
    if denied:
        scopes = ", ".join(sorted({f"{EVENT_DOMAINS[e]}:read" for e in denied}))
        raise ValidationError({"event_types": [f"Receiving {', '.join(denied)} needs the scope(s) {scopes}."]})


@transaction.atomic
def webhook_endpoint_create(
    *, url: str, event_types: list[str], owner, api_key: APIKey | None = None, description: str = ""
) -> WebhookEndpoint:
    """Register an endpoint; its URL must resolve to public addresses, its events be within the scopes."""
    try:
        url_resolve(url)
    except UnsafeAddress as exc:
        raise ValidationError({"url": [str(exc)]}) from exc
    _check_events(event_types=event_types, owner=owner, api_key=api_key)
    endpoint = WebhookEndpoint.objects.create(
        url=url, event_types=sorted(set(event_types)), owner=owner, api_key=api_key, description=description
    )
    audit_record(actor=owner, action="webhooks.endpoint.create", target=endpoint, data={"url": url})
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, actor, **changes) -> WebhookEndpoint:
    """Change url / event_types / description / is_active (re-checked like a new endpoint)."""
    if "url" in changes:
        try:
            url_resolve(changes["url"])
        except UnsafeAddress as exc:
            raise ValidationError({"url": [str(exc)]}) from exc
    if "event_types" in changes:
        _check_events(event_types=changes["event_types"], owner=endpoint.owner, api_key=endpoint.api_key)
        changes["event_types"] = sorted(set(changes["event_types"]))
    if changes.get("is_active") and not endpoint.is_active:
        changes |= {"disabled_at": None, "disabled_reason": "", "consecutive_failures": 0, "failing_since": None}
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save()
    audit_record(actor=actor, action="webhooks.endpoint.update", target=endpoint, data={"fields": sorted(changes)})
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor) -> WebhookEndpoint:
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    audit_record(actor=actor, action="webhooks.endpoint.rotate_secret", target=endpoint)
    return endpoint


# --- events ---------------------------------------------------------------------------------------
_ACTIVE: dict = {}
ACTIVE_CACHE_SECONDS = 5.0


def subscribed_event_types() -> frozenset[str]:
    """Event types some enabled endpoint subscribes to, read at most every few seconds per process
    (events are frequent — one per message sent — and endpoints few). Only a "nobody wants it"
    answer is taken from it; endpoints themselves are always read fresh, so a cached answer can
    never point at an endpoint that is gone. Saving an endpoint or a key clears it at once."""
    cached = _ACTIVE.get("types")
    if cached and time.monotonic() - cached[0] < ACTIVE_CACHE_SECONDS:
        return cached[1]
    rows = WebhookEndpoint.objects.filter(is_active=True).values_list("event_types", flat=True)
    types = frozenset(event_type for event_types in rows for event_type in event_types or [])
    _ACTIVE["types"] = (time.monotonic(), types)
    return types


def active_endpoints_forget(**kwargs) -> None:
    _ACTIVE.clear()


def webhook_event_emit(
    *, event_type: str, data: dict, personal: dict | None = None, occurred_at: datetime | None = None
) -> list[WebhookDelivery]:
    """Queue `event_type` for every active endpoint subscribed to it whose scopes cover its domain.
    `personal` (names, addresses, bodies) is merged into `data` only for endpoints that may read
    contacts. Deliveries start after the surrounding transaction commits."""
    domain = EVENT_DOMAINS[event_type]
    if event_type not in subscribed_event_types():
        return []
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(is_active=True).select_related("api_key", "owner")
        if e.wants(event_type)
    ]
    if not endpoints:
        return []
    event_id = f"msg_{uuid.uuid4().hex}"
    now = timezone.now()
    when = (occurred_at or now).isoformat()
    deliveries = []
    for endpoint in endpoints:
        if not endpoint.allows(domain):
            continue
        payload = dict(data)
        if personal and endpoint.allows(PERSONAL_DOMAIN):
            payload |= personal
        body = json.dumps(
            {"type": event_type, "timestamp": when, "data": payload}, separators=(",", ":"), cls=DjangoJSONEncoder
        )
        deliveries.append(
            WebhookDelivery(
                endpoint=endpoint, event_id=event_id, event_type=event_type, body=body, created_at=now,
                next_attempt_at=now,
            )
        )  # fmt: skip
    created = WebhookDelivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in created if d.pk]
    if not ids:  # backends without RETURNING on bulk insert
        ids = list(WebhookDelivery.objects.filter(event_id=event_id).values_list("pk", flat=True))

    transaction.on_commit(lambda: [tasks.webhook_deliver_task.delay(pk) for pk in ids])
    return created


# --- delivery -------------------------------------------------------------------------------------
def webhook_sign(*, secret: str, event_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers for a body: webhook-id, webhook-timestamp, webhook-signature."""
    signature = Webhook(secret).sign(event_id, timestamp, body)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }


def _pinned(url: str, address: str) -> tuple[str, dict, dict]:
    """The URL with its host replaced by the checked address (no second DNS lookup can move it),
    the Host header and, for https, the name the certificate must match."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    headers = {"Host": parts.netloc}
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), headers, extensions


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery, now: datetime) -> tuple[int | None, str]:
    """One HTTP attempt; (status code or None, error text or '')."""
    try:
        address = url_resolve(endpoint.url)[0]
    except UnsafeAddress as exc:
        return None, f"refused: {exc}"
    url, headers, extensions = _pinned(endpoint.url, address)
    headers |= webhook_sign(secret=endpoint.secret, event_id=delivery.event_id, timestamp=now, body=delivery.body)
    headers |= {"Content-Type": "application/json", "User-Agent": "MadanSara-Webhooks/1"}
    try:
        with httpx.Client(timeout=settings.WEBHOOKS_TIMEOUT, follow_redirects=False) as client:
            # No redirects: a redirect could lead to an address the check never saw.
            request = client.build_request(
                "POST", url, content=delivery.body.encode(), headers=headers, extensions=extensions
            )
            response = client.send(request)
    except httpx.HTTPError as exc:
        return None, f"{exc.__class__.__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


def _claim(delivery_id: int, now: datetime) -> bool:
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
        ).update(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
    )


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> str:
    """Attempt a due delivery once (claimed: a concurrent run skips it); record the attempt,
    schedule the next retry or give up, and disable an endpoint that keeps failing. Returns
    succeeded, retry, failed or skipped."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    started = time.perf_counter()
    status_code, error = _post(endpoint, delivery, now)
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=status_code,
        succeeded=not error,
        error=error,
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
    attempts = delivery.attempts + 1
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SUCCEEDED, attempts=attempts, last_status_code=status_code, last_error="",
            delivered_at=now,
        )  # fmt: skip
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0, failing_since=None)
        return "succeeded"
    exhausted = attempts > len(RETRY_DELAYS)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED if exhausted else DeliveryStatus.PENDING,
        attempts=attempts,
        last_status_code=status_code,
        last_error=error,
        next_attempt_at=now if exhausted else now + timedelta(seconds=RETRY_DELAYS[attempts - 1]),
    )
    _endpoint_failed(endpoint, now)
    return "failed" if exhausted else "retry"


def _endpoint_failed(endpoint: WebhookEndpoint, now: datetime) -> None:
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.consecutive_failures += 1
        endpoint.failing_since = endpoint.failing_since or now
        failing_for = now - endpoint.failing_since
        disable = (
            endpoint.is_active
            and endpoint.consecutive_failures >= settings.WEBHOOKS_DISABLE_AFTER_FAILURES
            and failing_for >= timedelta(hours=settings.WEBHOOKS_DISABLE_AFTER_HOURS)
        )
        if disable:
            endpoint.is_active = False
            endpoint.disabled_at = now
            endpoint.disabled_reason = f"{endpoint.consecutive_failures} failed attempts in a row since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC"
        endpoint.save(
            update_fields=["consecutive_failures", "failing_since", "is_active", "disabled_at", "disabled_reason"]
        )
        if disable:
            WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.FAILED, last_error="endpoint disabled"
            )
            audit_record(
                actor="webhooks",
                action="webhooks.endpoint.disabled",
                target=endpoint,
                data={"url": endpoint.url, "reason": endpoint.disabled_reason},
            )
            logger.error(
                "webhook endpoint disabled", extra={"endpoint": endpoint.pk, "reason": endpoint.disabled_reason}
            )
            reason = endpoint.disabled_reason
            transaction.on_commit(lambda: _tell_admins(endpoint, reason))


def _tell_admins(endpoint: WebhookEndpoint, reason: str) -> None:
    """A notice to the admins and the endpoint's owner, and the signal for other listeners."""
    notice_endpoint_disabled(
        endpoint=endpoint,
        reason=reason,
        owner=endpoint.owner,
        url=reverse("admin:webhooks_out_webhookendpoint_change", args=[endpoint.pk]),
    )
    webhook_endpoint_disabled.send(sender=WebhookEndpoint, endpoint=endpoint, reason=reason)


def webhook_deliveries_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Attempt every delivery whose retry is due (beat, every minute)."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
    ).order_by("next_attempt_at")
    outcomes: dict[str, int] = {}
    for delivery_id in list(due.values_list("id", flat=True)[:limit]):
        outcome = webhook_deliver(delivery_id=delivery_id, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def webhook_delivery_replay(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send a delivery again now (same webhook-id and body: receivers deduplicate on the id);
    a fresh 24-hour retry schedule. The endpoint must be enabled."""
    if not WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, is_active=True).exists():
        raise ValidationError("Enable the endpoint before replaying its deliveries.")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    audit_record(actor=actor, action="webhooks.delivery.replay", target=delivery)

    transaction.on_commit(lambda: tasks.webhook_deliver_task.delay(delivery.pk))
    delivery.refresh_from_db()
    return delivery
