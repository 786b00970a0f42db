"""The console's live endpoints (session-authenticated): long-poll and presence.

GET /live/inbox/poll?after=N[&conversation=ID] waits (async: no worker held under ASGI) for the
queue's events, or one conversation's; POST /live/inbox/presence {conversation, state} is the
page's heartbeat: it tells the other agents on that conversation that this one is viewing or
replying, and answers with the agents whose pages are still heartbeating there (stale ones,
older than LIVE_PRESENCE_TTL_SECONDS, are left out: the page drops them from its notice).
"""

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from inbox.live import QUEUE_TOPIC, conversation_topic
from inbox.models import Conversation
from inbox.selectors import presence_on
from inbox.services.presence import presence_record
from madansara.api.exceptions import error_body
from madansara.channels.chat import chat_agent_typing
from madansara.choices import Channel
from madansara.live import live_wait

PRESENCE_STATES = ("viewing", "replying", "left")


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def _int(value, default: int = 0) -> int | None:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


@require_GET
async def poll(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    if not (user.is_active and user.is_staff) or not await sync_to_async(user.has_perm)("inbox.view_conversation"):
        return _error(403, "forbidden", "Sign in as an agent.")
    after, conversation = _int(request.GET.get("after"), -1), _int(request.GET.get("conversation"))
    wait = _int(request.GET.get("wait"), int(settings.LIVE_LONG_POLL_SECONDS))
    if after is None or conversation is None or wait is None:
        return _error(400, "invalid_parameter", "'after', 'conversation' and 'wait' are integers ≥ 0.")
    topics = [conversation_topic(conversation)] if conversation else [QUEUE_TOPIC]
    events, cursor = await live_wait(
        topics=topics, after=None if after == -1 else after, timeout=min(wait, settings.LIVE_LONG_POLL_SECONDS)
    )
    return JsonResponse({"events": events, "cursor": cursor})


def _presence(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm("inbox.view_conversation")):
        return _error(403, "forbidden", "Sign in as an agent.")
    try:
        data = orjson.loads(request.body[:2048] or b"{}")
    except orjson.JSONDecodeError:
        return _error(400, "invalid_json", "The body is not valid JSON.")
    if not isinstance(data, dict) or data.get("state") not in PRESENCE_STATES:
        return _error(400, "invalid_state", f"'state' is one of {', '.join(PRESENCE_STATES)}.")
    conversation = Conversation.objects.filter(pk=_int(data.get("conversation"), -1) or -1).first()
    if conversation is None:
        return _error(404, "not_found", "No such conversation.")
    presence_record(conversation_id=conversation.pk, user=user, state=data["state"])
    if data["state"] == "replying" and conversation.channel == Channel.CHAT:
        chat_agent_typing(thread_key=conversation.thread_key or conversation.participant)
    others = presence_on(conversation_id=conversation.pk, exclude_user_id=user.pk)
    return JsonResponse({"others": others, "ttl": settings.LIVE_PRESENCE_TTL_SECONDS})


presence = require_POST(_presence)
