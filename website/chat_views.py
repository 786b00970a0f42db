"""The chat widget's endpoints under /chat/ (plain Django, JSON in text/plain bodies so browsers
send no CORS preflight). `poll` is an async long-poll: under ASGI (madansara.asgi, the Procfile's
`chat` process) a waiting visitor holds no worker; see madansara/live.py.

Every answer to a browser carries CORS headers only for the site's own origins
(Site.allowed_origins); other origins are refused with 403.
"""

import functools
import random
import time

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from madansara.api.exceptions import error_body
from madansara.channels import chat as channel_chat
from madansara.channels.models import ChatThread, ChatThreadStatus
from madansara.live import live_cursor, live_wait, pooled
from website.chat import (
    ChatRefused,
    message_limits_check,
    over_limit,
    thread_contact,
    visitor_token,
    visitor_token_read,
    widget_config,
    widget_for,
)
from website.models import PRECHAT_FIELDS, Site

LOCAL_SITE_SECONDS = 5.0
_local_sites: dict[int, tuple[float, tuple[str, ...] | None]] = {}


def _response(status: int, body: dict | None, origin: str, retry_after: int | None = None) -> HttpResponse:
    response = HttpResponse(
        orjson.dumps(body) if body is not None else b"", status=status, content_type="application/json"
    )
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    if retry_after:
        response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def _body(request: HttpRequest) -> dict:
    declared = request.headers.get("Content-Length", "")
    too_big_declared = declared.isdigit() and int(declared) > settings.CHAT_MAX_BODY_BYTES
    return body_parse(b"" if too_big_declared else request.body, declared=too_big_declared)


def body_parse(raw: bytes, *, declared: bool = False) -> dict:
    """The JSON object of a request body; ChatRefused 413 when over the limit (or `declared` so), 400 when not JSON."""
    limit = settings.CHAT_MAX_BODY_BYTES
    if declared or len(raw) > limit:
        raise ChatRefused(413, "payload_too_large", f"Chat requests are limited to {limit} bytes.")
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise ChatRefused(400, "invalid_json", "The body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise ChatRefused(400, "invalid_payload", "The body must be a JSON object.")
    return data


def _string(data: dict, name: str, *, limit: int, required: bool = False) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ChatRefused(400, "invalid_field", f"'{name}' must be a string.")
    value = value.strip()
    if required and not value:
        raise ChatRefused(400, "missing_field", f"'{name}' is required.")
    if len(value) > limit:
        raise ChatRefused(422, "too_long", f"'{name}' is limited to {limit} characters.")
    return value


def _origin_allowed(allowed: tuple[str, ...], origin: str) -> None:
    # No Origin: not a cross-site browser request, which is all CORS protects.
    if origin and origin.rstrip("/") not in {o.rstrip("/") for o in allowed}:
        raise ChatRefused(403, "origin_not_allowed", "This origin is not registered for the site.")


def _site_origins(site_id: int) -> tuple[str, ...] | None:
    """The active site's allowed origins, cached in-process briefly (polls come often)."""
    now = time.monotonic()
    cached = _local_sites.get(site_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    site = Site.objects.filter(pk=site_id, is_active=True).only("allowed_origins").first()
    origins = tuple(site.allowed_origins or ()) if site else None
    if len(_local_sites) > 10_000:
        _local_sites.clear()
    _local_sites[site_id] = (now + LOCAL_SITE_SECONDS, origins)
    return origins


def _visitor(data: dict, origin: str) -> ChatThread:
    """The thread the token opens, after the site and origin checks."""
    token = visitor_token_read(_string(data, "token", limit=500, required=True))
    origins = _site_origins(token.site_id)
    if origins is None:
        raise ChatRefused(404, "unknown_site", "This site no longer has a chat.")
    _origin_allowed(origins, origin)
    thread = ChatThread.objects.filter(key=token.thread_key).first()
    if thread is None:
        raise ChatRefused(403, "invalid_token", "This chat no longer exists: start a new chat.")
    return thread


def visitor_endpoint(view):
    """POST (or GET for config) with CORS and preflight handling; ChatRefused → its 4xx."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        origin = request.headers.get("Origin", "")
        if request.method == "OPTIONS":
            response = _response(204, None, origin)
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Content-Type"
            response["Access-Control-Max-Age"] = "86400"
            return response
        try:
            status, body = view(request, origin)
        except ChatRefused as refused:
            return _response(refused.status, error_body(refused.code, refused.message), origin, refused.retry_after)
        return _response(status, body, origin)

    return wrapper


@visitor_endpoint
def config(request: HttpRequest, origin: str):
    """GET /chat/config?site=KEY&lang=fr — how to draw the widget, and whether agents are in."""
    site = Site.objects.filter(public_key=request.GET.get("site", "")[:64], is_active=True).first()
    widget = widget_for(site) if site else None
    if widget is None:
        raise ChatRefused(404, "no_chat", "This site has no chat.")
    _origin_allowed(tuple(site.allowed_origins or ()), origin)
    return 200, widget_config(widget, language=request.GET.get("lang", ""))


@visitor_endpoint
def start(request: HttpRequest, origin: str):
    """POST /chat/start {site, visitor, lang, name, email} — a new conversation and its token."""
    if request.method != "POST":
        raise ChatRefused(405, "method_not_allowed", "Use POST.")
    data = _body(request)
    site = Site.objects.filter(public_key=_string(data, "site", limit=64, required=True), is_active=True).first()
    widget = widget_for(site) if site else None
    if widget is None:
        raise ChatRefused(404, "no_chat", "This site has no chat.")
    _origin_allowed(tuple(site.allowed_origins or ()), origin)
    visitor_id = _string(data, "visitor", limit=64)
    if over_limit(f"start:{site.pk}:{visitor_id or request.META.get('REMOTE_ADDR', '')}", 10, 3600):
        raise ChatRefused(429, "rate_limited", "Too many new chats from this browser: try again later.", 3600)
    fields = {name: channel_chat.chat_text_clean(_string(data, name, limit=200)) for name in PRECHAT_FIELDS}
    missing = [name for name in widget.prechat_fields or [] if not fields.get(name)]
    if missing:
        raise ChatRefused(400, "missing_field", f"Please fill in: {', '.join(missing)}.")
    if fields["email"]:
        try:
            validate_email(fields["email"])
        except ValidationError as exc:
            raise ChatRefused(422, "invalid_email", "This e-mail address is not valid.") from exc
    config_data = widget_config(widget, language=_string(data, "lang", limit=16))
    cursor = live_cursor()
    thread = channel_chat.chat_thread_open(
        site_key=site.public_key,
        visitor_id=visitor_id,
        name=fields["name"],
        email=fields["email"].lower(),
        language=config_data["language"],
        prechat={k: v for k, v in fields.items() if v},
    )
    return 201, {
        "token": visitor_token(thread=thread, site=site),
        "thread": thread.key,
        "status": thread.status,
        "messages": [],
        "cursor": cursor,
        "config": config_data,
    }


@visitor_endpoint
def resume(request: HttpRequest, origin: str):
    """POST /chat/resume {token} — the conversation's messages, to redraw it on a new page."""
    thread = _visitor(_body(request), origin)
    cursor = live_cursor()
    return 200, {
        "thread": thread.key,
        "status": thread.status,
        "messages": channel_chat.chat_history(thread=thread),
        "cursor": cursor,
        "email": bool(thread.email),
    }


@visitor_endpoint
def send(request: HttpRequest, origin: str):
    """POST /chat/messages {token, text, client_id} — the visitor writes."""
    data = _body(request)
    thread = _visitor(data, origin)
    text = _string(data, "text", limit=settings.CHAT_MAX_MESSAGE_CHARS, required=True)
    client_id = _string(data, "client_id", limit=64, required=True)
    cleaned = channel_chat.chat_text_clean(text)
    if not cleaned:
        raise ChatRefused(422, "empty_message", "The message has no text once markup is removed.")
    site = Site.objects.only("pk").get(public_key=thread.site_key)
    message_limits_check(site_id=site.pk, thread_key=thread.key)
    contact = thread_contact(site_id=site.pk, visitor_id=thread.visitor_id)
    inbound, created = channel_chat.chat_inbound(thread=thread, text=cleaned, client_id=client_id, contact=contact)
    return (201 if created else 200), {"id": f"in-{inbound.pk}", "client_id": client_id, "text": inbound.text}


@visitor_endpoint
def leave_email(request: HttpRequest, origin: str):
    """POST /chat/email {token, email} — where replies go while the visitor is away."""
    data = _body(request)
    thread = _visitor(data, origin)
    email = _string(data, "email", limit=254, required=True).lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ChatRefused(422, "invalid_email", "This e-mail address is not valid.") from exc
    channel_chat.chat_email_set(thread=thread, email=email)
    return 200, {"email": True}


@visitor_endpoint
def close(request: HttpRequest, origin: str):
    """POST /chat/close {token} — the visitor ends the chat (a rating is asked)."""
    thread = channel_chat.chat_close(thread=_visitor(_body(request), origin))
    return 200, {"status": thread.status}


@visitor_endpoint
def csat(request: HttpRequest, origin: str):
    """POST /chat/csat {token, score 1-5, comment} — the visitor rates a closed chat."""
    data = _body(request)
    thread = _visitor(data, origin)
    score = data.get("score")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise ChatRefused(422, "invalid_score", "'score' is a whole number from 1 to 5.")
    if thread.status != ChatThreadStatus.CLOSED:
        raise ChatRefused(409, "chat_open", "A chat is rated once it has ended.")
    channel_chat.chat_rate(thread=thread, score=score, comment=_string(data, "comment", limit=1000))
    return 200, {"score": score}


def _poll_prepare(data: dict, origin: str) -> str:
    """The live topic of the token's conversation, after the site, origin and rate checks (two
    round trips: the rate counter and the presence UPDATE; the token alone names the thread)."""
    token = visitor_token_read(_string(data, "token", limit=500, required=True))
    origins = _site_origins(token.site_id)
    if origins is None:
        raise ChatRefused(404, "unknown_site", "This site no longer has a chat.")
    _origin_allowed(origins, origin)
    if over_limit(f"poll:{token.thread_key}", settings.CHAT_POLLS_PER_VISITOR_PER_MINUTE):
        raise ChatRefused(429, "rate_limited", "Polling too often: wait a minute.", retry_after=60)
    channel_chat.chat_seen(thread_key=token.thread_key)
    return f"chat:{token.thread_key}"


async def poll_answer(*, raw: bytes, origin: str) -> tuple[int, dict, int | None]:
    """The long-poll's (status, body, retry_after): the conversation's events after `after`,
    waiting up to LIVE_LONG_POLL_SECONDS (or the smaller `wait`) for the first one. The database
    work runs on the shared pool (thread_sensitive=False), so a waiting visitor holds no thread."""
    try:
        data = body_parse(raw)
        after, wait = data.get("after", 0), data.get("wait", settings.LIVE_LONG_POLL_SECONDS)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ChatRefused(400, "invalid_field", "'after' is the last event id seen (an integer ≥ 0).")
        if not isinstance(wait, int | float) or isinstance(wait, bool) or wait < 0:
            raise ChatRefused(400, "invalid_field", "'wait' is a number of seconds ≥ 0.")
        topic = await pooled(_poll_prepare)(data, origin)
    except ChatRefused as refused:
        return refused.status, error_body(refused.code, refused.message), refused.retry_after
    # Jittered: visitors who arrived together do not all come back in the same second.
    timeout = min(float(wait), settings.LIVE_LONG_POLL_SECONDS) * random.uniform(0.7, 1.0)
    events, cursor = await live_wait(topics=[topic], after=after, timeout=timeout)
    return 200, {"events": events, "cursor": cursor}, None


@csrf_exempt
async def poll(request: HttpRequest) -> HttpResponse:
    """POST /chat/poll {token, after, wait} — waits for the conversation's next events: agent
    replies, typing, the end of the chat. (The ASGI process answers it without Django's request
    handling: website/chat_asgi.py.)"""
    origin = request.headers.get("Origin", "")
    if request.method == "OPTIONS":
        return _response(204, None, origin)
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > settings.CHAT_MAX_BODY_BYTES:
        status, body, retry_after = 413, error_body("payload_too_large", "Chat request too large."), None
    else:
        status, body, retry_after = await poll_answer(raw=request.body, origin=origin)
    return _response(status, body, origin, retry_after)
