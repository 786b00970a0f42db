"""Outbound webhooks: registration (SSRF, scopes), Standard Webhooks signatures, retries with
backoff, replay, automatic disabling, and no personal data beyond the key's scopes."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug import Response

from madansara.models import AuditEvent
from madansara.notifications.models import NoticeKind, Notification
from madansara.tests.factories import key_client, make_user
from madansara.webhooks_out.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from madansara.webhooks_out.services import (
    RETRY_DELAYS,
    webhook_deliver,
    webhook_deliveries_due,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_disabled,
    webhook_event_emit,
)

pytestmark = pytest.mark.django_db
ENDPOINTS = "/api/v1/webhooks/endpoints"


@pytest.fixture
def allow_local(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_TIMEOUT = 2


@pytest.fixture
def receiver(httpserver, allow_local):
    """A local receiver recording each request (status given by `receiver.status`)."""
    httpserver.received = []
    httpserver.status = 200

    def handle(request):
        httpserver.received.append((dict(request.headers), request.get_data(as_text=True)))
        return Response("ok", status=httpserver.status)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handle)
    return httpserver


def _endpoint(receiver, events, scopes=("*:read",), role="Admin"):
    user = make_user(role)
    client, raw = key_client(user, [*scopes, "webhooks:write"])
    response = client.post(ENDPOINTS, {"url": receiver.url_for("/hook"), "event_types": events}, format="json")
    assert response.status_code == 201, response.json()
    return WebhookEndpoint.objects.get(pk=response.json()["id"]), response.json()["secret"]


def reference_signature(secret: str, msg_id: str, timestamp: str, body: str) -> str:
    """The Standard Webhooks reference algorithm, written from the spec."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# --- registration ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.10/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "http://user:pw@example.com/hook",
    ],
)
def test_private_and_odd_addresses_are_refused(url):
    client, _ = key_client(make_user("Admin"), ["*:read", "webhooks:write"])
    response = client.post(ENDPOINTS, {"url": url, "event_types": ["message.sent"]}, format="json")
    assert response.status_code == 400, response.json()
    assert not WebhookEndpoint.objects.exists()


def test_secret_is_standard_webhooks_and_shown_on_creation_only(receiver):
    user = make_user("Admin")
    client, _ = key_client(user, ["*:read", "webhooks:write"])
    body = client.post(ENDPOINTS, {"url": receiver.url_for("/hook"), "event_types": ["message.sent"]}, format="json")
    secret = body.json()["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    assert "secret" not in client.get(f"{ENDPOINTS}/{body.json()['id']}").json()
    rotated = client.post(f"{ENDPOINTS}/{body.json()['id']}/rotate-secret").json()["secret"]
    assert rotated != secret and WebhookEndpoint.objects.get().secret == rotated


def test_events_beyond_the_keys_scopes_are_refused(receiver):
    client, _ = key_client(make_user("Admin"), ["inbox:read", "webhooks:write"])
    url = receiver.url_for("/hook")
    refused = client.post(ENDPOINTS, {"url": url, "event_types": ["conversion.recorded"]}, format="json")
    assert refused.status_code == 400 and "conversion:read" in refused.json()["error"]["message"]
    assert client.post(ENDPOINTS, {"url": url, "event_types": ["draft.created"]}, format="json").status_code == 201
    bogus = client.post(ENDPOINTS, {"url": url, "event_types": ["nope.nope"]}, format="json")
    assert bogus.status_code == 400


def test_only_webhooks_scope_manages_endpoints(receiver):
    client, _ = key_client(make_user("Marketer"), ["outreach:write"])
    response = client.post(ENDPOINTS, {"url": receiver.url_for("/hook"), "event_types": ["message.sent"]})
    assert response.status_code == 403


# --- signing and delivery ---------------------------------------------------------------------------
def test_delivery_is_signed_per_standard_webhooks(receiver, django_capture_on_commit_callbacks):
    endpoint, secret = _endpoint(receiver, ["contact.erased"])
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_emit(event_type="contact.erased", data={"contact_id": 7})
    [(headers, body)] = receiver.received
    assert json.loads(body)["type"] == "contact.erased" and json.loads(body)["data"] == {"contact_id": 7}
    assert headers["Webhook-Signature"] == reference_signature(
        secret, headers["Webhook-Id"], headers["Webhook-Timestamp"], body
    )
    assert abs(int(headers["Webhook-Timestamp"]) - timezone.now().timestamp()) < 60
    Webhook(secret).verify(body, headers)  # the maintained package agrees
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("7", "8"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"x" * 24).decode()).verify(body, headers)
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_failing_endpoint_is_retried_with_backoff_then_recovered_by_replay(receiver):
    endpoint, secret = _endpoint(receiver, ["contact.erased"])
    receiver.status = 500
    [delivery] = webhook_event_emit(event_type="contact.erased", data={"contact_id": 1})
    now = timezone.now()
    assert webhook_deliver(delivery_id=delivery.pk, now=now) == "retry"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == now + timedelta(seconds=RETRY_DELAYS[0])
    # not due yet: nothing is sent; due: sent again, each wait longer than the last
    assert webhook_deliveries_due(now=now + timedelta(seconds=1)) == {}
    waits, moment = [], now
    for _ in RETRY_DELAYS:
        delivery.refresh_from_db()
        waits.append((delivery.next_attempt_at - moment).total_seconds())
        moment = delivery.next_attempt_at
        webhook_deliveries_due(now=moment)
    assert waits == sorted(waits) and waits[0] == 5
    assert 23 * 3600 <= sum(RETRY_DELAYS) <= 25 * 3600  # retried for about a day
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == len(RETRY_DELAYS) + 1
    assert len(receiver.received) == len(RETRY_DELAYS) + 1
    assert delivery.attempt_log.count() == len(RETRY_DELAYS) + 1
    # the receiver is fixed; an operator replays: same webhook-id, same body, verified
    receiver.status = 200
    endpoint.refresh_from_db()
    endpoint.is_active = True  # (the disable rule needs 24 h of failure by default: still active)
    webhook_delivery_replay(delivery=delivery, actor=make_user("Admin"))
    webhook_deliveries_due()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    headers, body = receiver.received[-1]
    assert headers["Webhook-Id"] == receiver.received[0][0]["Webhook-Id"] == delivery.event_id
    Webhook(secret).verify(body, headers)


def test_endpoint_failing_repeatedly_is_disabled_and_admins_are_told(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOKS_DISABLE_AFTER_HOURS = 0
    endpoint, _ = _endpoint(receiver, ["contact.erased"])
    receiver.status = 503
    told = []

    def notice(sender, endpoint, reason, **kwargs):
        told.append((endpoint.pk, reason))

    webhook_endpoint_disabled.connect(notice)
    try:
        deliveries = [webhook_event_emit(event_type="contact.erased", data={"contact_id": i})[0] for i in range(4)]
        with django_capture_on_commit_callbacks(execute=True):
            for delivery in deliveries[:3]:
                webhook_deliver(delivery_id=delivery.pk)
    finally:
        webhook_endpoint_disabled.disconnect(notice)
    endpoint.refresh_from_db()
    assert told == [(endpoint.pk, endpoint.disabled_reason)]
    notice = Notification.objects.get(kind=NoticeKind.WEBHOOK_ENDPOINT_DISABLED)
    assert endpoint.url in notice.title and notice.body == endpoint.disabled_reason
    assert not endpoint.is_active and "3 failed attempts" in endpoint.disabled_reason
    assert AuditEvent.objects.filter(action="webhooks.endpoint.disabled", target_id=str(endpoint.pk)).exists()
    assert WebhookDelivery.objects.get(pk=deliveries[3].pk).status == DeliveryStatus.FAILED
    assert webhook_deliver(delivery_id=deliveries[3].pk) == "skipped"
    assert webhook_event_emit(event_type="contact.erased", data={"contact_id": 9}) == []
    with pytest.raises(Exception, match="Enable the endpoint"):
        webhook_delivery_replay(delivery=deliveries[0], actor=make_user("Admin"))


def test_admin_replays_and_enables(receiver, admin_client):
    endpoint, _ = _endpoint(receiver, ["contact.erased"])
    receiver.status = 500
    [delivery] = webhook_event_emit(event_type="contact.erased", data={"contact_id": 3})
    webhook_deliver(delivery_id=delivery.pk)
    page = admin_client.get(f"/admin/webhooks_out/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and b"HTTP 500" in page.content
    receiver.status = 200
    admin_client.post("/admin/webhooks_out/webhookdelivery/", {"action": "replay", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    webhook_deliveries_due()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert admin_client.get("/admin/webhooks_out/webhookendpoint/").status_code == 200


def test_resolved_address_is_checked_again_at_delivery(receiver, settings):
    endpoint, _ = _endpoint(receiver, ["contact.erased"])
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # e.g. DNS now points the name at a private address
    [delivery] = webhook_event_emit(event_type="contact.erased", data={"contact_id": 4})
    assert webhook_deliver(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("refused:") and receiver.received == []


def test_admin_form_refuses_private_urls(admin_client):
    response = admin_client.post(
        "/admin/webhooks_out/webhookendpoint/add/",
        {"url": "http://169.254.169.254/", "event_types": '["message.sent"]', "secret": "whsec_x", "is_active": "on"},
    )
    assert response.status_code == 200 and b"link-local" in response.content
    assert not WebhookEndpoint.objects.exists()


# --- scopes and personal data --------------------------------------------------------------------------
def test_personal_data_only_for_endpoints_that_may_read_contacts(receiver, django_capture_on_commit_callbacks):
    _endpoint(receiver, ["message.received"], scopes=("inbox:read",))
    _endpoint(receiver, ["message.received"], scopes=("inbox:read", "contacts:read"))
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_emit(
            event_type="message.received",
            data={"inbound_id": 1, "channel": "sms"},
            personal={"sender": "+15005550006", "text": "my card number is 4111"},
        )
    bodies = sorted((json.loads(body)["data"] for _, body in receiver.received), key=len)
    assert bodies[0] == {"inbound_id": 1, "channel": "sms"}
    assert bodies[1]["text"] == "my card number is 4111" and bodies[1]["sender"] == "+15005550006"


def test_revoked_key_stops_its_endpoints(receiver):
    endpoint, _ = _endpoint(receiver, ["contact.erased"])
    from madansara.services import api_key_revoke

    api_key_revoke(key=endpoint.api_key)
    assert webhook_event_emit(event_type="contact.erased", data={"contact_id": 5}) == []


def test_endpoint_without_key_follows_its_owners_role(allow_local, httpserver):
    agent = make_user("Agent")
    endpoint = webhook_endpoint_create(url=httpserver.url_for("/hook"), event_types=["draft.created"], owner=agent)
    assert endpoint.allows("inbox") and not endpoint.allows("abtesting")
    with pytest.raises(Exception, match="abtesting:read"):
        webhook_endpoint_create(url=httpserver.url_for("/hook"), event_types=["experiment.concluded"], owner=agent)


@pytest.mark.django_db
def test_an_event_nobody_subscribes_to_costs_no_query_and_a_new_endpoint_gets_the_next_one(
    django_assert_num_queries,
):
    # given an event type no endpoint subscribes to, asked once (the answer is kept a few seconds)
    assert webhook_event_emit(event_type="message.sent", data={"message_id": "m0"}) == []
    # then asking again (one per message sent) reads nothing
    with django_assert_num_queries(0):
        assert webhook_event_emit(event_type="message.sent", data={"message_id": "m1"}) == []
    # and an endpoint saved meanwhile gets the very next event
    WebhookEndpoint.objects.create(
        url="https://hooks.example.com/x", event_types=["message.sent"], owner=make_user("Admin")
    )
    assert len(webhook_event_emit(event_type="message.sent", data={"message_id": "m2"})) == 1
