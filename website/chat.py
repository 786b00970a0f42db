"""Website chat, the site side: widget configuration, visitor tokens, limits, open hours.

A visitor's token is `signing.dumps({"k": thread key, "s": site id})` with its own salt: it is
scoped to one conversation on one site and cannot be forged or re-pointed without SECRET_KEY.
The chat is tied to the tracker's visitor (its anonymous id) and, once the site has identified
that visitor (a signed `ms.identify`, website/identify.py), to the contact: what a visitor only
types into the pre-chat form is kept on the thread but never attaches a contact.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.conf import settings
from django.core import signing
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.utils import timezone

from madansara.channels.models import ChatThread
from website.models import ChatWidget, Site, WebsiteVisitor

TOKEN_SALT = "website.chat.visitor"
UI_TEXT_KEYS = ("title", "greeting", "away_message")


class ChatRefused(Exception):
    """A visitor request refused with an HTTP status and a message the widget can show."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


@dataclass(frozen=True)
class VisitorToken:
    thread_key: str
    site_id: int


def visitor_token(*, thread: ChatThread, site: Site) -> str:
    """The token the widget keeps for this conversation."""
    return signing.dumps({"k": thread.key, "s": site.pk}, salt=TOKEN_SALT)


def visitor_token_read(token: str) -> VisitorToken:
    """The conversation a token opens; ChatRefused(403) when forged, altered or expired."""
    try:
        data = signing.loads(str(token), salt=TOKEN_SALT, max_age=settings.CHAT_TOKEN_MAX_AGE_DAYS * 86400)
        return VisitorToken(thread_key=str(data["k"]), site_id=int(data["s"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ChatRefused(403, "invalid_token", "This chat token is not valid: start a new chat.") from exc


def widget_for(site: Site) -> ChatWidget | None:
    """The site's enabled chat widget, if any."""
    widget = ChatWidget.objects.filter(site=site, is_enabled=True).first()
    return widget


def is_open(widget: ChatWidget, at: datetime | None = None) -> bool:
    """Inside the widget's business hours (no hours: always open)."""
    if not widget.business_hours:
        return True
    local = (at or timezone.now()).astimezone(zoneinfo.ZoneInfo(widget.timezone))
    now = local.strftime("%H:%M")
    return any(start <= now < end for start, end in widget.business_hours.get(str(local.weekday()), []))


def widget_config(widget: ChatWidget, *, language: str = "") -> dict:
    """What the widget needs to draw itself, in the visitor's language when the site offers it."""
    languages = list(widget.languages or []) or ["en"]
    lang = language[:2].lower() if language[:2].lower() in languages else languages[0]
    texts = {key: getattr(widget, key) for key in UI_TEXT_KEYS}
    texts |= {k: str(v) for k, v in (widget.translations or {}).get(lang, {}).items() if k in UI_TEXT_KEYS and v}
    return {
        **texts,
        "language": lang,
        "languages": languages,
        "colour": widget.primary_colour,
        "text_colour": widget.text_colour,
        "position": widget.position,
        "prechat": list(widget.prechat_fields or []),
        "csat": widget.ask_csat,
        "online": is_open(widget),
    }


def thread_contact(*, site_id: int, visitor_id: str):
    """The contact of the tracker's visitor once the site identified it (signed), else None."""
    if not visitor_id:
        return None
    visitor = (
        WebsiteVisitor.objects.filter(site_id=site_id, anonymous_id=visitor_id, contact__isnull=False)
        .select_related("contact")
        .first()
    )
    return visitor.contact if visitor else None


@cache
def limits_cache():
    """The cache client of the rate counters: one per process. Django's `cache` is context-local,
    and under ASGI every long-poll is an asyncio task of its own: each poll built a new client
    with a new Redis connection (connect, CLIENT SETINFO, a package-metadata read), which cost the
    ASGI process most of a core at 2,000 open chats and delayed replies by seconds. The client is
    thread-safe (redis-py's pool; LocMem's lock and its storage shared by name)."""
    return caches.create_connection(DEFAULT_CACHE_ALIAS)


def over_limit(key: str, limit: int, seconds: int = 60) -> bool:
    """A fixed-window counter in the shared cache (Redis in production)."""
    full = f"chat:rate:{key}"
    cache = limits_cache()
    if cache.add(full, 1, seconds):
        return False
    try:
        return cache.incr(full) > limit
    except ValueError:  # expired between add and incr
        cache.add(full, 1, seconds)
        return False


def message_limits_check(*, site_id: int, thread_key: str) -> None:
    """ChatRefused(429) over the per-visitor or per-site message rate."""
    if over_limit(f"msg:t:{thread_key}", settings.CHAT_MESSAGES_PER_VISITOR_PER_MINUTE):
        raise ChatRefused(429, "rate_limited", "You are sending messages too fast: wait a minute.", retry_after=60)
    if over_limit(f"msg:s:{site_id}", settings.CHAT_MESSAGES_PER_SITE_PER_MINUTE):
        raise ChatRefused(429, "rate_limited", "This chat is very busy: try again in a minute.", retry_after=60)
