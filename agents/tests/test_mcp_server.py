"""The MCP server driven through the official SDK's client, over stdio (a `manage.py mcp_server`
subprocess) and over streamable HTTP (a live server): tools listed, reads return real data, a
send under the approval policy waits in the review queue, refusals are refused, audit rows exist."""

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest
import uvicorn
from django.conf import settings
from django.db import connection
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from agents.mcp_server import http_app
from inbox.models import Conversation, ConversationMessage, Direction, DraftStatus, ReplyDraft
from madansara.channels.models import InboundMessage, Message
from madansara.models import ActionPolicy, AuditEvent, PolicyAction, PolicyTier
from madansara.services import api_key_create
from madansara.tests.factories import make_contact, make_user
from outreach.models import ChannelTemplate, DirectSend, DirectSendStatus, OutboxMessage, OutreachCampaign, Segment

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_TOOLS = {
    "search_contacts", "contact_360", "conversations_needing_attention", "read_conversation", "propose_reply",
    "send_message", "create_campaign_draft", "campaign_results", "experiment_results", "funnel_results",
    "attribution_results", "record_conversion", "best_practice_recommendations",
}  # fmt: skip


@pytest.fixture
def world(transactional_db):
    """A contact who wrote in, a template, a segment, and two keys: a full one and a contacts:read one."""
    admin = make_user("Admin")
    contact = make_contact(
        name="Ana Pierre", identities={"email": "ana@example.com", "sms": "+15005550006"},
        consents={"email": "opted_in", "sms": "opted_in"},
    )  # fmt: skip
    inbound = InboundMessage.objects.create(
        channel="email", contact=contact, sender="ana@example.com", external_id="in-1", subject="Price?",
        text="How much is the premium plan?",
    )  # fmt: skip
    conversation = Conversation.objects.create(
        channel="email", contact=contact, participant="ana@example.com", subject="Price?", awaiting_reply=True,
        latest_intent="pricing",
    )  # fmt: skip
    ConversationMessage.objects.create(conversation=conversation, direction=Direction.INBOUND, inbound=inbound)
    ChannelTemplate.objects.create(
        name="welcome", channel="email", subject="Welcome", text="Hi {{ contact.first_name }}"
    )
    segment = Segment.objects.create(name="Leads", filters={"lifecycle_stage": ["lead"]})
    _, full = api_key_create(user=admin, name="agent", scopes=["*:read", "outreach:write", "inbox:write"])
    _, narrow = api_key_create(user=admin, name="narrow", scopes=["contacts:read"])
    ActionPolicy.objects.create(action=PolicyAction.SEND_MESSAGE, tier=PolicyTier.APPROVAL)
    return {"contact": contact, "conversation": conversation, "segment": segment, "full": full, "narrow": narrow}


def _text(result) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def _data(result) -> dict:
    assert not result.is_error, _text(result)
    return result.structured_content if result.structured_content is not None else json.loads(_text(result))


async def _session_checks(client, world) -> dict:
    """What every transport must do; returns what the test asserts on afterwards."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert EXPECTED_TOOLS <= set(tools)
    assert tools["send_message"].input_schema["properties"]["idempotency_key"]["type"] == "string"
    assert "queued for approval" in tools["send_message"].description
    found = _data(await client.call_tool("search_contacts", {"query": "ana@example"}))
    assert found["contacts"][0]["id"] == world["contact"].pk and found["contacts"][0]["consent"]["email"] == "opted_in"
    view = _data(await client.call_tool("contact_360", {"contact_id": world["contact"].pk}))
    assert view["conversations"][0]["id"] == world["conversation"].pk and view["omitted"] == []
    attention = _data(await client.call_tool("conversations_needing_attention", {}))
    assert [c["id"] for c in attention["conversations"]] == [world["conversation"].pk]
    thread = _data(await client.call_tool("read_conversation", {"conversation_id": world["conversation"].pk}))
    assert thread["messages"][0]["text"] == "How much is the premium plan?"
    sent = _data(await client.call_tool("send_message", {"contact_id": world["contact"].pk, "text": "Our prices"}))
    assert sent["status"] == "queued for approval"
    proposed = _data(
        await client.call_tool("propose_reply", {"conversation_id": world["conversation"].pk, "text": "It is $20."})
    )
    assert proposed["status"] == "queued for approval"
    draft = _data(
        await client.call_tool(
            "create_campaign_draft",
            {
                "name": "Spring",
                "segment_id": world["segment"].pk,
                "channel": "email",
                "text": "Hi",
                "subject": "Spring",
            },
        )
    )
    assert draft["status"] == "draft created"
    practices = _data(await client.call_tool("best_practice_recommendations", {"outcome": "opened"}))
    assert practices["practices"] == [] and practices["recommendations"] == []
    templates = await client.read_resource("madansara://templates")
    assert "welcome" in {t["name"] for t in json.loads(templates.contents[0].text)}
    segments = await client.read_resource("madansara://segments")
    assert json.loads(segments.contents[0].text)[0]["id"] == world["segment"].pk
    refused = await client.call_tool("record_conversion", {"external_id": "o-1", "type": "purchase"})
    assert refused.is_error and "conversion:write" in _text(refused)
    return {"send_id": sent["send_id"], "draft_id": proposed["draft_id"], "campaign_id": draft["campaign_id"]}


async def _narrow_checks(client, world) -> None:
    assert _data(await client.call_tool("search_contacts", {"query": "Ana"}))["count"] == 1
    view = _data(await client.call_tool("contact_360", {"contact_id": world["contact"].pk}))
    assert "conversations" not in view and "conversations (needs inbox:read)" in view["omitted"]
    for name, args in [
        ("send_message", {"contact_id": world["contact"].pk, "text": "x"}),
        ("read_conversation", {"conversation_id": world["conversation"].pk}),
        ("propose_reply", {"conversation_id": world["conversation"].pk, "text": "x"}),
    ]:
        result = await client.call_tool(name, args)
        assert result.is_error and "lacks the" in _text(result), name


def _assert_effects(world, ids, key_name="agent") -> None:
    send = DirectSend.objects.get(pk=ids["send_id"])
    assert send.status == DirectSendStatus.AWAITING_APPROVAL and send.via == "mcp"
    assert not OutboxMessage.objects.exists() and not Message.objects.exists()  # nothing went out
    draft = ReplyDraft.objects.get(pk=ids["draft_id"])
    assert draft.status == DraftStatus.PENDING and draft.source == "agent" and draft.text == "It is $20."
    assert OutreachCampaign.objects.get(pk=ids["campaign_id"]).status == "draft"
    audited = set(
        AuditEvent.objects.filter(data__api_key__startswith=f"{key_name} (ms_").values_list("action", flat=True)
    )
    assert {
        "agents.search_contacts", "agents.contact_360", "agents.read_conversation", "agents.send_message",
        "agents.propose_reply", "agents.create_campaign_draft",
    } <= audited  # fmt: skip


# --- stdio -------------------------------------------------------------------------------------
@pytest.fixture
def subprocess_db(world, tmp_path):
    """The test database as a subprocess sees it: PostgreSQL's test database, or for SQLite
    (in memory) a file copy, copied back after the subprocess wrote to it."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        yield f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}", lambda: None
        return
    path = tmp_path / "mcp.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as target:
        connection.connection.backup(target)

    def copy_back():
        with sqlite3.connect(path) as source:
            source.backup(connection.connection)

    yield f"sqlite:///{path}", copy_back


def _stdio(raw_key: str, database_url: str, tmp_path) -> StdioServerParameters:
    env = {
        **os.environ,
        "MADANSARA_API_KEY": raw_key,
        "DATABASE_URL": database_url,
        "MADANSARA_VAR_DIR": str(tmp_path / "var"),
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DJANGO_SETTINGS_MODULE": "madansara.settings",
    }
    env.pop("REDIS_URL", None)
    return StdioServerParameters(command=sys.executable, args=["manage.py", "mcp_server"], env=env, cwd=str(ROOT))


def test_stdio_server_through_the_sdk_client(world, subprocess_db, tmp_path):
    url, copy_back = subprocess_db

    async def scenario():
        async with Client(_stdio(world["full"], url, tmp_path), read_timeout_seconds=60) as client:
            ids = await _session_checks(client, world)
        async with Client(_stdio(world["narrow"], url, tmp_path), read_timeout_seconds=60) as client:
            await _narrow_checks(client, world)
        return ids

    ids = asyncio.run(scenario())
    copy_back()
    _assert_effects(world, ids)


def test_stdio_refuses_to_start_without_a_valid_key(subprocess_db, tmp_path):
    env = {**os.environ, "MADANSARA_API_KEY": "ms_nope_nope", "DATABASE_URL": subprocess_db[0]}
    result = subprocess.run(
        [sys.executable, "manage.py", "mcp_server"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode != 0 and "Invalid API key" in result.stderr


# --- streamable HTTP ---------------------------------------------------------------------------------
@pytest.fixture
def http_server(world):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(http_app(allowed_hosts=["127.0.0.1"]), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    thread.join(10)


def _http(url: str, raw_key: str | None):
    headers = {"Authorization": f"Bearer {raw_key}"} if raw_key else {}
    return streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers, timeout=60))


def test_http_server_through_the_sdk_client(world, http_server):
    async def scenario():
        async with Client(_http(http_server, world["full"])) as client:
            ids = await _session_checks(client, world)
        async with Client(_http(http_server, world["narrow"])) as client:
            await _narrow_checks(client, world)
        return ids

    ids = asyncio.run(scenario())
    _assert_effects(world, ids)


def test_http_without_or_with_a_bad_key_is_401(world, http_server):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    assert httpx2.post(http_server, json=body, headers=headers).status_code == 401
    bad = headers | {"Authorization": "Bearer ms_nope_nope"}
    assert httpx2.post(http_server, json=body, headers=bad).status_code == 401


def test_auto_policy_sends_and_refused_policy_refuses(world, http_server, monkeypatch):
    from django.utils import timezone

    noon = timezone.now().replace(hour=12, minute=0)
    monkeypatch.setattr(timezone, "now", lambda: noon)
    ActionPolicy.objects.filter(action=PolicyAction.SEND_MESSAGE).update(tier=PolicyTier.AUTO)
    args = {"contact_id": world["contact"].pk, "text": "Hello", "idempotency_key": "k-1"}

    async def send():
        async with Client(_http(http_server, world["full"])) as client:
            return await client.call_tool("send_message", args)

    first = _data(asyncio.run(send()))
    assert first["status"] == "sent" and first["outcome"].startswith("sent on")
    assert _data(asyncio.run(send()))["replayed"] is True and Message.objects.count() == 1
    ActionPolicy.objects.filter(action=PolicyAction.SEND_MESSAGE).update(tier=PolicyTier.REFUSED, note="no sends today")
    args["idempotency_key"] = "k-2"
    refused = asyncio.run(send())
    assert refused.is_error and "no sends today" in _text(refused)
    assert Message.objects.count() == 1
    assert settings.PUBLIC_BASE_URL  # the HTTP app's OAuth resource metadata is built from it
