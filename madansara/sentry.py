"""Error tracking with Sentry (on when SENTRY_DSN is set): Django and Celery integrations,
the request id as a tag, and no personal data: no cookies, headers, bodies, local variables or
users are sent, and e-mail addresses and phone numbers left in messages are masked."""

import re

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from madansara.observability import current_request_id

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+\d{8,15}\b")  # E.164, as identities are stored
SAFE_HEADERS = {"content-type", "content-length", "user-agent", "x-request-id", "host"}
MASK = "[scrubbed]"


def _mask(value):
    if isinstance(value, str):
        return PHONE.sub(MASK, EMAIL.sub(MASK, value))
    if isinstance(value, dict):
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(item) for item in value]
    return value


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """before_send: attach the request id, drop request data and users, mask addresses in texts."""
    request_id = current_request_id()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    request = event.get("request")
    if request:
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers") or {}
        request["headers"] = {k: v for k, v in headers.items() if k.lower() in SAFE_HEADERS}
    if event.get("user"):
        event["user"] = {key: value for key, value in event["user"].items() if key == "id"}
    event.pop("extra", None)  # log records' extra= may hold anything
    for exception in (event.get("exception") or {}).get("values") or []:
        exception["value"] = _mask(exception.get("value"))
    for key in ("message", "logentry"):
        if key in event:
            event[key] = _mask(event[key])
    for crumb in (event.get("breadcrumbs") or {}).get("values") or []:
        scrub_breadcrumb(crumb)
    return event


def scrub_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    """Breadcrumbs keep their category and level; their texts are masked."""
    for key in ("message", "data"):
        if key in crumb:
            crumb[key] = _mask(crumb[key])
    return crumb


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float = 0.0) -> None:
    """Switch Sentry on for this process (web, worker or beat)."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration(monitor_beat_tasks=False)],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
    )
