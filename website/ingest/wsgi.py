"""A WSGI fast path for the tracker endpoint `/t/batch` (madansara.wsgi wraps Django with it).

The endpoint's own checks (CORS, size limits, gzip, per-event validation, bot and DNT
filtering, IP truncation, durable storage) live in website.ingest.endpoint.batch_reply and run
unchanged; what is skipped is Django's request and response objects and the middleware stack
(sessions, CSRF, auth, messages), which this endpoint never used and which cost more CPU than
storing the batch. What the stack gave it is kept: ALLOWED_HOSTS, the HTTPS redirect (any
such request goes to Django), the security headers, the request id, the request_started /
request_finished signals (database connection upkeep) and logged 500s.
"""

import logging
import time
import uuid

import orjson
from django.conf import settings
from django.core import signals
from django.http.request import split_domain_port, validate_host

from madansara.api.exceptions import error_body
from madansara.metrics import http_observe
from madansara.observability import _VALID_ID, HEADER, request_id_var
from website.ingest import endpoint
from website.ingest.parse import MAX_COMPRESSED_BYTES

logger = logging.getLogger("django.request")

PATH = "/t/batch"
ROUTE = "website-ingest"  # the URL name Django resolves for PATH (same metrics label either way)
_REASONS = {
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class TrackerIngestApp:
    """Serves /t/batch itself and hands every other request (or an unusual one) to `app`."""

    def __init__(self, app) -> None:
        self.app = app
        self._hosts: dict[str, bool] = {}

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or not self._plain(environ):
            return self.app(environ, start_response)
        started = time.perf_counter()
        signals.request_started.send(sender=self.__class__, environ=environ)
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            reply = endpoint.batch_reply(
                method=environ["REQUEST_METHOD"],
                header=lambda name: _header(environ, name),
                read_body=lambda: _read_body(environ),
                ip=environ.get("REMOTE_ADDR", ""),
            )
        except Exception:
            logger.exception("Internal Server Error: %s", PATH)
            reply = endpoint.Reply(500, error_body("server_error", "Server error."))
        finally:
            request_id_var.reset(token)
            signals.request_finished.send(sender=self.__class__)
        body = b"" if reply.body is None else orjson.dumps(reply.body)
        headers = [
            ("Content-Type", "application/json" if reply.body is not None else "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *reply.headers.items(),
            *_security_headers(environ),
            (HEADER, request_id),
        ]
        start_response(f"{reply.status} {_REASONS.get(reply.status, '')}", headers)
        http_observe(route=ROUTE, method=environ["REQUEST_METHOD"], status=reply.status, started=started)
        return [body]

    def _plain(self, environ) -> bool:
        """A request this path may answer: an allowed Host, and no HTTPS redirect due."""
        if settings.SECURE_SSL_REDIRECT and not _is_secure(environ):
            return False
        host = environ.get("HTTP_X_FORWARDED_HOST", "") if settings.USE_X_FORWARDED_HOST else ""
        host = host or environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        allowed = self._hosts.get(host)
        if allowed is None:
            domain, _ = split_domain_port(host)
            hosts = settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
            allowed = bool(domain) and validate_host(domain, hosts)
            if len(self._hosts) < 1000:
                self._hosts[host] = allowed
        return allowed  # a bad Host goes to Django, which answers 400 as before


def _header(environ, name: str) -> str:
    key = name.upper().replace("-", "_")
    if key not in ("CONTENT_LENGTH", "CONTENT_TYPE"):
        key = "HTTP_" + key
    return environ.get(key, "")


def _read_body(environ) -> bytes:
    """The raw body; at most one byte past the ingest limit (decode_body then answers 413)."""
    length = environ.get("CONTENT_LENGTH", "")
    stream = environ["wsgi.input"]
    if length.isdigit():
        return stream.read(min(int(length), MAX_COMPRESSED_BYTES + 1))
    return stream.read(MAX_COMPRESSED_BYTES + 1)  # chunked: the server ends the stream


def _is_secure(environ) -> bool:
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        header, secure_value = proxy
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _security_headers(environ) -> list[tuple[str, str]]:
    """What SecurityMiddleware and XFrameOptionsMiddleware add to every response."""
    headers = []
    if settings.SECURE_HSTS_SECONDS and _is_secure(environ):
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        headers.append(("Strict-Transport-Security", value))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    headers.append(("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()))
    return headers
