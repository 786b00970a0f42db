"""The client against a live Madan Sara server started by the test (127.0.0.1, random port), on
the suite's database (SQLite or PostgreSQL), plus its retry rule against a local fake server."""

import asyncio
import email.utils
import time
from datetime import UTC, datetime

import pytest
from madansara_client import AsyncClient, Client, MadanSaraError, RetryPolicy, WebhookVerificationError, models
from madansara_client.webhooks import verify_webhook
from werkzeug import Response

from madansara.models import ActionPolicy, PolicyAction, PolicyTier
from madansara.services import api_key_create
from madansara.tests.factories import make_user
from madansara.webhooks_out.services import webhook_sign


def _noon_zone() -> str:
    """An IANA zone where it is now around midday (inside the sending window)."""
    offset = 12 - datetime.now(UTC).hour
    if offset > 12:
        offset -= 24
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


@pytest.fixture
def server(live_server, transactional_db, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    _, raw = api_key_create(user=make_user("Admin"), name="client", scopes=["*:read", "*:write"])
    ActionPolicy.objects.create(action=PolicyAction.SEND_MESSAGE, tier=PolicyTier.AUTO)
    return live_server.url, raw


def _contact(n: int) -> dict:
    return {
        "name": f"Person {n}",
        "timezone": _noon_zone(),
        "identities": {"email": f"p{n}@example.com"},
        "consents": {"email": "opted_in"},
    }


def test_sync_client_pages_types_sends_idempotently_and_raises_api_errors(server):
    url, key = server
    with Client(url, api_key=key) as ms:
        created = [ms.contacts.create(**_contact(n)) for n in range(5)]
        assert all(isinstance(c, models.Contact) for c in created)
        everyone = list(ms.contacts.iter(page_size=2))
        assert sorted(c.id for c in everyone) == sorted(c.id for c in created)
        assert len(ms.contacts.list(page_size=2)) == 2
        renamed = ms.contacts.update(created[0].id, name="Renamed")
        assert renamed.name == "Renamed" and ms.contacts.get(created[0].id).name == "Renamed"
        first = ms.sends.send(contact=created[0].id, text="Hello", idempotency_key="order-7")
        again = ms.sends.send(contact=created[0].id, text="Hello", idempotency_key="order-7")
        assert isinstance(first, models.DirectSend) and first.status == "sent" and again.id == first.id
        assert [s.id for s in ms.sends.iter()] == [first.id]
        with pytest.raises(MadanSaraError) as missing:
            ms.contacts.get(999_999)
        assert missing.value.status_code == 404 and missing.value.code == "not_found"
        with pytest.raises(MadanSaraError) as conflict:
            ms.sends.send(contact=created[0].id, text="Changed", idempotency_key="order-7")
        assert conflict.value.status_code == 422 and conflict.value.code == "idempotency_key_reused"


def test_webhook_from_the_live_server_verifies_with_the_client_helper(server, httpserver):
    url, key = server
    received = []

    def handle(request):
        received.append((request.get_data(), dict(request.headers)))
        return Response("", status=204)

    httpserver.expect_request("/hook").respond_with_handler(handle)
    with Client(url, api_key=key) as ms:
        endpoint = ms.webhook_endpoints.create(url=httpserver.url_for("/hook"), event_types=["contact.erased"])
        assert endpoint.secret.startswith("whsec_")
        contact = ms.contacts.create(**_contact(9))
        ms.contacts.erase(contact.id)
        deadline = time.monotonic() + 20
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        body, headers = received[0]
        event = verify_webhook(secret=endpoint.secret, body=body, headers=headers)
        assert event["type"] == "contact.erased" and event["data"] == {"contact_id": contact.id}
        with pytest.raises(WebhookVerificationError):
            verify_webhook(secret=endpoint.secret, body=body.replace(b"contact", b"kontact"), headers=headers)
        [delivery] = list(ms.webhook_deliveries.iter())
        assert delivery.status == "succeeded"
        replayed = ms.webhook_deliveries.replay(delivery.id)  # delivered again at once (eager tasks)
        assert replayed.status == "succeeded" and len(received) == 2
        assert received[1][1]["Webhook-Id"] == received[0][1]["Webhook-Id"] == delivery.event_id


def test_async_client_against_the_live_server(server):
    url, key = server

    async def scenario():
        async with AsyncClient(url, api_key=key) as ms:
            created = [await ms.contacts.create(**_contact(n)) for n in range(3)]
            seen = [c.id async for c in ms.contacts.iter(page_size=2)]
            send = await ms.sends.send(email="p1@example.com", text="Hi")
            return created, seen, send

    created, seen, send = asyncio.run(scenario())
    assert sorted(seen) == sorted(c.id for c in created)
    assert send.status == "sent" and send.contact == created[1].id


# --- retries against a local fake -----------------------------------------------------------------
def _page():
    return {"count": 0, "next": None, "previous": None, "results": []}


def test_retry_after_seconds_and_http_date_are_honoured(httpserver):
    waits = []
    httpserver.expect_ordered_request("/api/v1/contacts").respond_with_json(
        {"error": {"code": "throttled", "message": "slow down"}}, status=429, headers={"Retry-After": "2"}
    )
    later = email.utils.format_datetime(datetime.fromtimestamp(time.time() + 30, UTC), usegmt=True)
    httpserver.expect_ordered_request("/api/v1/contacts").respond_with_data(
        "busy", status=503, headers={"Retry-After": later}
    )
    httpserver.expect_ordered_request("/api/v1/contacts").respond_with_json(_page())
    with Client(httpserver.url_for(""), api_key="ms_x_y", sleep=waits.append) as ms:
        assert ms.contacts.list() == []
    assert waits[0] == 2 and 25 <= waits[1] <= 31


def test_posts_are_retried_only_with_an_idempotency_key(httpserver):
    waits = []
    httpserver.expect_oneshot_request("/api/v1/contacts", method="POST").respond_with_data("down", status=503)
    with Client(httpserver.url_for(""), api_key="ms_x_y", sleep=waits.append) as ms:
        with pytest.raises(MadanSaraError) as error:
            ms.contacts.create(name="x")
        assert error.value.status_code == 503 and waits == []
    send = {"id": 1, "contact": 1, "channel": "email", "status": "sent"}
    httpserver.expect_ordered_request("/api/v1/outreach/send", method="POST").respond_with_data("down", status=503)
    httpserver.expect_ordered_request("/api/v1/outreach/send", method="POST").respond_with_json(
        send | dict.fromkeys(("channel_score", "message", "api_key", "sent_at", "decided_at"))
        | {"requested_channel": "", "template_name": "", "subject": "", "text": "x", "hold_reason": "", "reason": "",
           "due_at": "2026-01-01T00:00:00Z", "attempts": 0, "error": "", "via": "api", "outcome": "sent on email",
           "created_at": "2026-01-01T00:00:00Z"},
        status=201,
    )  # fmt: skip
    with Client(httpserver.url_for(""), api_key="ms_x_y", sleep=waits.append, retry=RetryPolicy(backoff=0.01)) as ms:
        assert ms.sends.send(contact=1, text="x").id == 1
    keys = [request.headers.get("Idempotency-Key") for request, _ in httpserver.log[-2:]]
    assert keys[0] and keys[0] == keys[1] and len(waits) == 1


def test_verify_webhook_matches_the_server_signature():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    now = datetime.now(UTC)
    body = '{"type":"message.sent","timestamp":"x","data":{"message_id":"m1"}}'
    headers = webhook_sign(secret=secret, event_id="msg_1", timestamp=now, body=body)
    assert verify_webhook(secret=secret, body=body, headers=headers)["data"] == {"message_id": "m1"}
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook(secret=secret, body=body, headers=headers, now=now.timestamp() + 3600)
    with pytest.raises(WebhookVerificationError, match="headers"):
        verify_webhook(secret=secret, body=body, headers={})
