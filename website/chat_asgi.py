"""`POST /chat/poll` in the ASGI process without Django's request handling.

Django's ASGI handler gives every request its own thread for sync work (request signals,
sync middleware) for as long as the request lasts: thousands of waiting visitors would be
thousands of idle threads. This answers the long-poll directly (the same `poll_answer` as the
Django view, whose database work runs on the shared pool) and hands every other request to Django.
"""

import orjson
from django.conf import settings

from madansara.api.exceptions import error_body
from website.chat_views import poll_answer

POLL_PATH = "/chat/poll"


def _headers(scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}


async def _read_body(receive, limit: int) -> bytes | None:
    """The request body, or None once it exceeds `limit` bytes."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _answer(send, status: int, body: dict | None, origin: str, retry_after: int | None = None) -> None:
    payload = orjson.dumps(body) if body is not None else b""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if origin:
        headers += [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
    if retry_after:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def with_chat_poll(django_app):
    """An ASGI app answering POST /chat/poll itself and passing everything else to `django_app`."""

    async def app(scope, receive, send):
        if scope["type"] != "http" or scope["path"] != POLL_PATH or scope["method"] not in ("POST", "OPTIONS"):
            return await django_app(scope, receive, send)
        origin = _headers(scope).get("origin", "")
        if scope["method"] == "OPTIONS":
            return await _answer(send, 204, None, origin)
        raw = await _read_body(receive, settings.CHAT_MAX_BODY_BYTES)
        if raw is None:
            limit = settings.CHAT_MAX_BODY_BYTES
            message = f"Chat requests are limited to {limit} bytes."
            return await _answer(send, 413, error_body("payload_too_large", message), origin)
        status, body, retry_after = await poll_answer(raw=raw, origin=origin)
        await _answer(send, status, body, origin, retry_after)

    return app
