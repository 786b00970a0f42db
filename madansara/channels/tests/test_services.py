"""Services other apps call: batch event recording, inbound_record, email Message-IDs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from madansara.channels.email_ids import email_message_id, message_ids_in
from madansara.channels.inbound import inbound_record
from madansara.channels.models import MessageStatus
from madansara.channels.services import message_events_record_many
from madansara.channels.signals import inbound_received

pytestmark = pytest.mark.django_db


def batch(message, *items):
    return [
        {"message_id": message.pk, "kind": kind, "occurred_at": at, "provider_event_id": key} for kind, at, key in items
    ]


@pytest.mark.parametrize("leg", [pytest.param("postgres", marks=pytest.mark.postgres), "any"])
def test_batch_keeps_first_stamps_and_moves_status_forward_only(sent_message, leg):
    # given a message already opened
    now = timezone.now()
    message = sent_message()
    message.opened_at = now - timedelta(hours=1)
    message.status = MessageStatus.OPENED
    message.save()

    # when a batch brings a later open, two deliveries and a duplicate
    fresh = message_events_record_many(
        events=batch(
            message,
            ("opened", now, "e1"),
            ("delivered", now - timedelta(minutes=5), "e2"),
            ("delivered", now - timedelta(minutes=9), "e3"),
            ("delivered", now, "e3"),
        )
    )

    # then the first open stays, the earliest delivery is stamped, and the status does not go back
    message.refresh_from_db()
    assert len(fresh) == 3
    assert message.opened_at == now - timedelta(hours=1)
    assert message.delivered_at == now - timedelta(minutes=9)
    assert message.status == MessageStatus.OPENED
    # and replaying the batch records nothing
    assert message_events_record_many(events=batch(message, ("opened", now, "e1"))) == []


def test_batch_failure_wins_over_engagement(sent_message):
    message = sent_message()
    now = timezone.now()

    message_events_record_many(events=batch(message, ("clicked", now, "c1"), ("bounced", now, "b1")))

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.failed_at == now and message.clicked_at == now


def test_inbound_record_is_idempotent_and_hands_off_once(django_capture_on_commit_callbacks):
    handed = []
    inbound_received.connect(lambda sender, **kw: handed.append(kw["inbound"].pk), weak=False, dispatch_uid="svc")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first, created = inbound_record(channel="sms", external_id="SM1", sender="+14155550100", text="hi")
        with django_capture_on_commit_callbacks(execute=True):
            again, created_again = inbound_record(channel="sms", external_id="SM1", sender="+14155550100", text="hi")
    finally:
        inbound_received.disconnect(dispatch_uid="svc")

    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert handed == [first.pk]


def test_inbound_from_an_unparseable_sender_keeps_the_message_without_a_contact():
    inbound, _ = inbound_record(channel="email", external_id="<x@y>", sender="not an address", text="hi")

    assert inbound.contact is None and inbound.sender == "not an address"


def test_email_message_ids_round_trip(settings):
    settings.EMAIL_REPLY_DOMAIN = "reply.example.com"
    import uuid

    ours, other = uuid.uuid4(), uuid.uuid4()

    found = message_ids_in(f"<abc@gmail.com> {email_message_id(ours)}", f"<{other}@elsewhere.com>")

    assert found == [ours]
