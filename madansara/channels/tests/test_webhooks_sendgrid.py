"""SendGrid Event Webhook (ECDSA-signed) and Inbound Parse (secret URL)."""

import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from madansara.channels.models import InboundMessage, Message, MessageEvent, MessageStatus, WebhookEvent, WebhookStatus
from madansara.channels.signals import inbound_received, message_event
from madansara.contacts.models import ContactConsent, ContactIdentity

pytestmark = pytest.mark.django_db
URL = "/webhooks/sendgrid/events"


def events_for(message, *kinds, prefix="ev"):
    return [
        {
            "email": message.to,
            "timestamp": 1764070000 + i,
            "event": kind,
            "sg_event_id": f"{prefix}-{i}",
            "sg_message_id": f"{message.provider_message_id}.filter0001",
            "ms_message_id": str(message.pk),
            **({"type": "bounce", "reason": "550 mailbox unavailable"} if kind == "bounce" else {}),
        }
        for i, kind in enumerate(kinds)
    ]


def post_signed(client, signer, body: bytes, **overrides):
    headers = {**signer.headers(body), **overrides}
    return client.post(URL, data=body, content_type="application/json", **headers)


def test_valid_batch_is_stored_acknowledged_and_processed(
    client, webhook_secrets, sendgrid_signer, sent_message, django_capture_on_commit_callbacks
):
    # given a sent email and a signed batch of its delivery and engagement events
    message = sent_message()
    body = json.dumps(events_for(message, "processed", "delivered", "open", "click")).encode()
    received = []
    message_event.connect(lambda sender, **kw: received.append(kw["event"].kind), weak=False, dispatch_uid="t1")

    # when SendGrid posts it
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, sendgrid_signer, body)
    message_event.disconnect(dispatch_uid="t1")

    # then it is acknowledged, stored verified, processed, and the timeline moved forward
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.provider, event.kind, event.verification, event.status) == (
        "sendgrid",
        "events",
        "ecdsa-p256",
        WebhookStatus.PROCESSED,
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.CLICKED
    assert message.delivered_at and message.opened_at and message.clicked_at
    assert sorted(message.events.values_list("kind", flat=True)) == ["clicked", "delivered", "opened", "sent"]
    assert sorted(received) == ["clicked", "delivered", "opened", "sent"]


@pytest.mark.parametrize(
    "tamper",
    ["wrong_signature", "missing_signature", "expired", "future", "other_key"],
)
def test_unverifiable_requests_get_403_and_leave_no_row(client, webhook_secrets, sendgrid_signer, sent_message, tamper):
    from madansara.channels.tests.conftest import SendGridSigner

    body = json.dumps(events_for(sent_message(), "delivered")).encode()
    headers = sendgrid_signer.headers(body)
    if tamper == "wrong_signature":
        headers = sendgrid_signer.headers(body + b" ")
        headers["HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP"] = sendgrid_signer.headers(body)[
            "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP"
        ]
    elif tamper == "missing_signature":
        headers.pop("HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE")
    elif tamper == "expired":
        headers = sendgrid_signer.headers(body, timestamp=int(time.time()) - 3600)
    elif tamper == "future":
        headers = sendgrid_signer.headers(body, timestamp=int(time.time()) + 3600)
    else:
        headers = SendGridSigner().headers(body)

    response = client.post(URL, data=body, content_type="application/json", **headers)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert WebhookEvent.objects.count() == 0 and MessageEvent.objects.count() == 0


def test_unconfigured_public_key_refuses_everything(client, settings, sendgrid_signer):
    settings.SENDGRID_EVENT_PUBLIC_KEY = ""
    body = b"[]"

    assert post_signed(client, sendgrid_signer, body).status_code == 403
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("body", [b"not json", b'{"event": "open"}', b"[1, 2]"])
def test_signed_but_malformed_body_gets_400_and_no_row(client, webhook_secrets, sendgrid_signer, body):
    response = post_signed(client, sendgrid_signer, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_body"
    assert WebhookEvent.objects.count() == 0


def test_the_same_batch_twice_changes_nothing(
    client, webhook_secrets, sendgrid_signer, sent_message, django_capture_on_commit_callbacks
):
    message = sent_message()
    body = json.dumps(events_for(message, "delivered", "open")).encode()
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, sendgrid_signer, body).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, sendgrid_signer, body).status_code == 200

    assert WebhookEvent.objects.count() == 1
    assert MessageEvent.objects.filter(message=message).count() == 2


def test_events_repeated_in_a_new_batch_are_deduplicated_by_sg_event_id(
    client, webhook_secrets, sendgrid_signer, sent_message, django_capture_on_commit_callbacks
):
    message = sent_message()
    first = events_for(message, "delivered", "open")
    second = [*first, *events_for(message, "click", prefix="later")]
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, sendgrid_signer, json.dumps(first).encode())
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, sendgrid_signer, json.dumps(second).encode())

    assert WebhookEvent.objects.count() == 2
    assert sorted(message.events.values_list("kind", flat=True)) == ["clicked", "delivered", "opened"]


@pytest.mark.parametrize("kind", ["bounce", "spamreport", "unsubscribe", "group_unsubscribe"])
def test_bounce_spam_report_and_unsubscribe_revoke_email_consent(
    client, webhook_secrets, sendgrid_signer, sent_message, django_capture_on_commit_callbacks, kind
):
    message = sent_message()
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, sendgrid_signer, json.dumps(events_for(message, "delivered", kind)).encode())

    consent = ContactConsent.objects.get(contact=message.contact, channel="email")
    assert consent.status == "unsubscribed" and consent.source == f"sendgrid:{kind}"
    identity = ContactIdentity.objects.get(channel="email", value=message.to)
    assert identity.is_valid is (kind != "bounce")
    message.refresh_from_db()
    assert message.status == (MessageStatus.FAILED if kind == "bounce" else MessageStatus.DELIVERED)


def test_a_late_delivered_never_moves_a_clicked_message_back(
    client, webhook_secrets, sendgrid_signer, sent_message, django_capture_on_commit_callbacks
):
    message = sent_message()
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, sendgrid_signer, json.dumps(events_for(message, "click")).encode())
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, sendgrid_signer, json.dumps(events_for(message, "delivered", prefix="late")).encode())

    message.refresh_from_db()
    assert message.status == MessageStatus.CLICKED and message.delivered_at is not None


# --- Inbound Parse --------------------------------------------------------------------------

INBOUND = "/webhooks/sendgrid/inbound/inbound-secret-123/"


def inbound_fields(in_reply_to="", **extra):
    headers = "Message-ID: <reply-1@mail.example.org>\nSubject: Re: Hi\n"
    if in_reply_to:
        headers += f"In-Reply-To: {in_reply_to}\nReferences: <x@y> {in_reply_to}\n"
    return {
        "from": "Ada Lovelace <Ada@Example.com>",
        "to": "hello@madansara.local",
        "subject": "Re: Hi",
        "text": "Yes please",
        "html": '<p onclick="steal()">Yes <b>please</b><script>alert(1)</script></p>',
        "headers": headers,
        "envelope": json.dumps({"to": ["hello@madansara.local"], "from": "ada@example.com"}),
        **extra,
    }


def test_inbound_email_reply_is_threaded_sanitised_and_handed_off(
    client, webhook_secrets, sent_message, django_capture_on_commit_callbacks, settings, tmp_path
):
    # given an email we sent and a reply quoting its Message-ID
    settings.MEDIA_ROOT = tmp_path
    message = sent_message()
    handed = []
    inbound_received.connect(lambda sender, **kw: handed.append(kw["inbound"]), weak=False, dispatch_uid="t2")
    data = inbound_fields(
        in_reply_to=f"<{message.pk}@{settings.EMAIL_REPLY_DOMAIN}>",
        attachment1=SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain"),
        attachments="1",
    )

    # when Inbound Parse posts it
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INBOUND, data=data)
    inbound_received.disconnect(dispatch_uid="t2")

    # then a normalised inbound message exists, linked to our message and contact
    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert inbound.channel == "email" and inbound.sender == "ada@example.com"
    assert inbound.contact_id == message.contact_id
    assert inbound.in_reply_to_message_id == message.pk
    assert inbound.external_id == "<reply-1@mail.example.org>"
    assert "<script>" not in inbound.html and "onclick" not in inbound.html and "<b>please</b>" in inbound.html
    assert inbound.attachments[0]["filename"] == "notes.txt" and inbound.attachments[0]["size"] == 5
    assert inbound.raw_event.verification == "url-secret"
    assert handed == [inbound]
    message.refresh_from_db()
    assert message.status == MessageStatus.REPLIED
    assert ContactIdentity.objects.get(channel="email", value="ada@example.com").last_inbound_at is not None


def test_inbound_with_a_wrong_secret_gets_403_and_no_row(client, webhook_secrets):
    response = client.post("/webhooks/sendgrid/inbound/guess/", data=inbound_fields())

    assert response.status_code == 403
    assert WebhookEvent.objects.count() == 0


def test_inbound_malformed_gets_400(client, webhook_secrets):
    response = client.post(INBOUND, data={"subject": "no sender"})

    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_inbound_over_the_size_limit_gets_413(client, webhook_secrets, settings):
    settings.SENDGRID_INBOUND_MAX_BYTES = 1000

    response = client.post(INBOUND, data=inbound_fields(text="x" * 2000))

    assert response.status_code == 413
    assert WebhookEvent.objects.count() == 0


def test_inbound_delivered_twice_is_recorded_once(client, webhook_secrets, django_capture_on_commit_callbacks):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(INBOUND, data=inbound_fields()).status_code == 200

    assert WebhookEvent.objects.count() == 1
    assert InboundMessage.objects.count() == 1
    assert Message.objects.count() == 0
