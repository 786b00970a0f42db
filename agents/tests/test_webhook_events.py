"""Each domain's happenings reach subscribed webhook endpoints as the documented event types."""

import json
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from werkzeug import Response

from abtesting.services import abtest_create, abtest_start, abtest_stop
from conversion.services.conversions import conversion_record
from inbox.models import Conversation, ReplyDraft
from inbox.services.assignment import conversation_assign
from inbox.services.drafts import draft_send
from madansara.channels.models import Message, MessageEventKind
from madansara.channels.services import message_event_record
from madansara.channels.simulate import sandbox_simulate
from madansara.models import ActionPolicy, PolicyAction, PolicyTier
from madansara.tests.factories import key_client, make_contact, make_user
from madansara.webhooks_out.models import EventType, WebhookDelivery
from outreach.models import OutboxMessage
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import campaign
from outreach.tests.campaign_helpers import contact as campaign_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def received(httpserver, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    events = []

    def handle(request):
        events.append(json.loads(request.get_data(as_text=True)))
        return Response("", status=204)

    httpserver.expect_request("/hook").respond_with_handler(handle)
    httpserver.events = events
    return httpserver


def _subscribe(receiver, scopes, events=tuple(EventType.values)):
    client, _ = key_client(make_user("Admin"), [*scopes, "webhooks:write"])
    response = client.post(
        "/api/v1/webhooks/endpoints",
        {"url": receiver.url_for("/hook"), "event_types": list(events)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return client


def test_every_event_type_is_emitted_by_its_domain(received, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    ActionPolicy.objects.create(action=PolicyAction.SEND_MESSAGE, tier=PolicyTier.AUTO)
    _subscribe(received, ["*:read"])
    admin = make_user("Admin")
    contact = make_contact(identities={"email": "ana@example.com"}, consents={"email": "opted_in"})
    with django_capture_on_commit_callbacks(execute=True):
        sender, _ = key_client(make_user("Marketer"), ["outreach:write"])
        sent = sender.post("/api/v1/outreach/send", {"contact": contact.pk, "text": "Hi Ana"}, format="json").json()
    message = Message.objects.get(pk=sent["message"])
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_simulate(message=message, event="delivered")
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_simulate(message=message, event="reply", text="Can you tell me the price?")
    draft = ReplyDraft.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        draft_send(draft=draft, actor=admin)
        conversation_assign(conversation=Conversation.objects.get(), assignee=admin, actor=admin)
    failing = Message.objects.create(channel="email", contact=contact, to="ana@example.com", source="test")
    with django_capture_on_commit_callbacks(execute=True):
        Message.objects.filter(pk=failing.pk).update(provider="sandbox")
        sandbox_simulate(message=failing, event="bounce")
    with django_capture_on_commit_callbacks(execute=True):
        conversion_record(
            external_id="order-1", type="purchase", value="20", contact_id=contact.pk, occurred_at=timezone.now()
        )
    test = abtest_create(
        key="cta", name="cta", primary_metric="signup",
        variants=[{"key": "control", "is_control": True, "weight": 1}, {"key": "v1", "weight": 1}],
    )  # fmt: skip
    abtest_start(test=test)
    with django_capture_on_commit_callbacks(execute=True):
        abtest_stop(test=test, actor=admin, reason="enough data")
    with django_capture_on_commit_callbacks(execute=True):
        eraser, _ = key_client(admin, ["contacts:write"])
        assert eraser.delete(f"/api/v1/contacts/{contact.pk}").status_code == 204

    by_type = {}
    for event in received.events:
        by_type.setdefault(event["type"], []).append(event["data"])
    assert set(by_type) == set(EventType.values)
    assert by_type["message.sent"][0]["message_id"] == str(message.pk)
    assert by_type["message.sent"][0]["to"] == "ana@example.com"  # contacts:read covers personal data
    assert by_type["message.delivered"][0]["message_id"] == str(message.pk)
    assert by_type["message.received"][0]["text"] == "Can you tell me the price?"
    assert by_type["draft.created"][0]["draft_id"] == draft.pk
    assert by_type["draft.approved"][0] == by_type["draft.approved"][0] | {"draft_id": draft.pk, "auto": False}
    assert by_type["conversation.assigned"][0]["assignee_id"] == admin.pk
    assert by_type["message.failed"][0]["message_id"] == str(failing.pk)
    assert (
        by_type["conversion.recorded"][0] | {"type": "purchase", "value": "20.00"} == by_type["conversion.recorded"][0]
    )
    assert by_type["experiment.concluded"][0]["experiment_id"] == test.pk
    assert by_type["contact.erased"] == [{"contact_id": contact.pk}]


def test_without_contacts_scope_events_carry_ids_not_personal_data(received, django_capture_on_commit_callbacks):
    _subscribe(received, ["inbox:read", "channels:read"], events=["message.received", "message.delivered"])
    contact = make_contact(identities={"email": "bo@example.com"}, consents={"email": "opted_in"})
    message = Message.objects.create(
        channel="email", contact=contact, to="bo@example.com", source="test", provider="sandbox"
    )
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_simulate(message=message, event="reply", text="My secret")
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_simulate(message=message, event="delivered")
    kinds = {event["type"]: event["data"] for event in received.events}
    assert "message.received" in kinds and "message.delivered" in kinds
    payloads = json.dumps(received.events)
    assert "My secret" not in payloads and "bo@example.com" not in payloads


def test_every_sent_message_emits_exactly_one_message_sent_event(received):
    # given an endpoint subscribed to message.sent and three campaign rows due now
    _subscribe(received, ["*:read"], events=["message.sent"])
    people = [campaign_contact() for _ in range(3)]
    now = timezone.now()
    campaign_plan(campaign=campaign(contacts=people), now=now)
    OutboxMessage.objects.update(due_at=now)
    # when the dispatcher sends them as one batch (on PostgreSQL: the one-statement fast path)
    assert outbox_dispatch(now=now) == {"sent": 3}
    # then each message has exactly one message.sent delivery
    messages = sorted(str(pk) for pk in Message.objects.values_list("pk", flat=True))
    assert _sent_events() == messages
    # and the provider reporting them "sent" / "processed" again by webhook adds none
    for message in Message.objects.all():
        message_event_record(message=message, kind=MessageEventKind.SENT, provider_event_id=f"sg-{message.pk}")
    assert _sent_events() == messages


def _sent_events() -> list[str]:
    deliveries = WebhookDelivery.objects.filter(event_type="message.sent")
    return sorted(json.loads(delivery.body)["data"]["message_id"] for delivery in deliveries)
