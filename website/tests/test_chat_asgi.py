"""The ASGI process's own long-poll (website/chat_asgi.py): a waiting visitor is woken by a reply
published meanwhile, oversized bodies are refused, everything else goes to Django."""

import asyncio
import contextvars
import json
import threading
import time

import orjson
import pytest
from django.test import Client

from madansara.channels.chat import chat_deliver
from madansara.channels.models import ChatThread
from website.chat_asgi import with_chat_poll
from website.models import ChatWidget

ORIGIN = "https://shop.example.com"
pytestmark = pytest.mark.django_db(transaction=True)


async def _django_stub(scope, receive, send):
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"django"})


def asgi_call(path: str, body: bytes, method: str = "POST") -> tuple[int, dict, bytes]:
    app = with_chat_poll(_django_stub)
    sent = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "method": method, "headers": [(b"origin", ORIGIN.encode())]}
    asyncio.run(app(scope, receive, send))
    headers = {k.decode(): v.decode() for k, v in sent[0].get("headers", [])}
    return sent[0]["status"], headers, sent[1]["body"]


@pytest.fixture
def token(site):
    ChatWidget.objects.create(site=site)
    response = Client(HTTP_ORIGIN=ORIGIN).post(
        "/chat/start", json.dumps({"site": site.public_key}), content_type="text/plain"
    )
    return response.json()


def test_a_waiting_poll_is_woken_by_a_reply(token):
    thread = ChatThread.objects.get()

    def reply_later():
        time.sleep(0.5)
        chat_deliver(thread=thread, message_id="m-1", text="Hello from an agent")

    threading.Thread(target=reply_later).start()
    started = time.monotonic()
    status, headers, body = asgi_call("/chat/poll", orjson.dumps({"token": token["token"], "after": token["cursor"]}))
    waited = time.monotonic() - started

    assert status == 200 and headers["access-control-allow-origin"] == ORIGIN
    events = orjson.loads(body)["events"]
    assert [(e["kind"], e["data"]["text"]) for e in events] == [("message", "Hello from an agent")]
    assert 0.4 < waited < 2.0


def test_oversized_and_forged_polls_are_refused(token, settings):
    status, _, body = asgi_call("/chat/poll", b"x" * (settings.CHAT_MAX_BODY_BYTES + 1))
    assert status == 413 and orjson.loads(body)["error"]["code"] == "payload_too_large"
    status, _, body = asgi_call("/chat/poll", orjson.dumps({"token": token["token"] + "x", "after": 0}))
    assert status == 403 and orjson.loads(body)["error"]["code"] == "invalid_token"


def test_other_requests_go_to_django(token):
    assert asgi_call("/chat/messages", b"{}")[0] == 299
    assert asgi_call("/chat/poll", b"", method="GET")[0] == 299


def test_the_poll_rate_limit_holds_across_the_tasks_of_the_asgi_process(token, settings):
    # Every long-poll is an asyncio task of its own; the per-visitor counter is one counter
    settings.CHAT_POLLS_PER_VISITOR_PER_MINUTE = 3
    body = orjson.dumps({"token": token["token"], "after": token["cursor"], "wait": 0})
    statuses = [asgi_call("/chat/poll", body)[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.redis
def test_polls_open_no_redis_connection_each(token, monkeypatch):
    """Django's `cache` is context-local: each poll (its own task) built a new Redis client and
    connection. At 2,000 open chats that cost the ASGI process most of a core and delayed
    replies by seconds (bench/chat.py: p95 3.5 s). The counters now use one client per process."""
    import redis.connection

    connects = []
    real_connect = redis.connection.Connection._connect  # opens the socket (connect() is called per command)

    def counting_connect(self, *args, **kwargs):
        connects.append(self)
        return real_connect(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "_connect", counting_connect)
    body = orjson.dumps({"token": token["token"], "after": token["cursor"], "wait": 0})
    for _ in range(20):  # like uvicorn: each request a task in a context that has seen no cache yet
        assert contextvars.Context().run(asgi_call, "/chat/poll", body)[0] == 200
    assert len(connects) <= 2  # the process's pool: one, and one more if a poll overlapped
