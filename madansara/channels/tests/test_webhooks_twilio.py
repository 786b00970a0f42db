"""Twilio inbound messages and status callbacks, signed with X-Twilio-Signature."""

from datetime import timedelta

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from madansara.channels.models import InboundMessage, MessageEvent, MessageStatus, WebhookEvent
from madansara.contacts.models import ContactConsent, ContactIdentity

pytestmark = pytest.mark.django_db
MESSAGES = "/webhooks/twilio/messages"
STATUS = "/webhooks/twilio/status"


def signed_post(client, path, params, *, url=None, token="twilio-token", **headers):
    url = url or f"http://testserver{path}"
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(path, data=params, HTTP_X_TWILIO_SIGNATURE=signature, **headers)


def inbound(body="Hello", sid="SM1", sender="+14155550100", **extra):
    return {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body, "NumMedia": "0", **extra}


def test_inbound_sms_becomes_an_inbound_message_and_opens_the_window(
    client, webhook_secrets, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(client, MESSAGES, inbound())

    assert response.status_code == 200 and b"<Response>" in response.content
    message = InboundMessage.objects.get()
    assert (message.channel, message.sender, message.text, message.external_id) == (
        "sms",
        "+14155550100",
        "Hello",
        "SM1",
    )
    assert ContactIdentity.objects.get(channel="sms", value="+14155550100").last_inbound_at is not None


def test_inbound_whatsapp_with_media_is_normalised(client, webhook_secrets, django_capture_on_commit_callbacks):
    params = inbound(
        sender="whatsapp:+14155550101",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/media/ME1",
        MediaContentType0="image/jpeg",
        ProfileName="Ada",
    )
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, MESSAGES, params)

    message = InboundMessage.objects.get()
    assert (message.channel, message.sender) == ("whatsapp", "+14155550101")
    assert message.attachments == [{"url": "https://api.twilio.com/media/ME1", "content_type": "image/jpeg"}]
    assert message.contact.name == "Ada"


@pytest.mark.parametrize(
    ("word", "status"), [("STOP", "unsubscribed"), ("stop ", "unsubscribed"), ("START", "opted_in")]
)
def test_stop_and_start_keywords_update_consent(
    client, webhook_secrets, django_capture_on_commit_callbacks, word, status
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, MESSAGES, inbound(body=word))

    consent = ContactConsent.objects.get(channel="sms")
    assert consent.status == status and consent.source == f"sms:{word.strip().upper()}"


def test_help_keyword_is_stored_but_changes_no_consent(client, webhook_secrets, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, MESSAGES, inbound(body="HELP"))

    assert InboundMessage.objects.get().text == "HELP"
    assert ContactConsent.objects.count() == 0


def test_stop_then_start_restores_consent(client, webhook_secrets, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, MESSAGES, inbound(body="STOP", sid="SM1"))
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, MESSAGES, inbound(body="Start", sid="SM2"))

    assert ContactConsent.objects.get(channel="sms").status == "opted_in"


@pytest.mark.parametrize("case", ["wrong", "missing", "other_token", "tampered_param"])
def test_unverifiable_requests_get_403_and_leave_no_row(client, webhook_secrets, case):
    params = inbound()
    if case == "wrong":
        response = client.post(MESSAGES, data=params, HTTP_X_TWILIO_SIGNATURE="bm90IGEgc2lnbmF0dXJl")
    elif case == "missing":
        response = client.post(MESSAGES, data=params)
    elif case == "other_token":
        response = signed_post(client, MESSAGES, params, token="someone-else")
    else:
        signature = RequestValidator("twilio-token").compute_signature(f"http://testserver{MESSAGES}", params)
        response = client.post(MESSAGES, data={**params, "Body": "forged"}, HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403
    assert WebhookEvent.objects.count() == 0 and InboundMessage.objects.count() == 0


def test_signed_but_malformed_gets_400(client, webhook_secrets):
    response = signed_post(client, MESSAGES, {"Body": "no sid"})

    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_replayed_delivery_is_stored_and_processed_once(client, webhook_secrets, django_capture_on_commit_callbacks):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert signed_post(client, MESSAGES, inbound(body="STOP")).status_code == 200

    assert WebhookEvent.objects.count() == 1
    assert InboundMessage.objects.count() == 1
    assert ContactConsent.objects.get().contact.consent_events.count() == 1


def test_forwarded_headers_are_used_only_when_trusted(client, webhook_secrets, settings):
    public = f"https://public.example.com{MESSAGES}"
    forwarded = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "public.example.com"}

    settings.WEBHOOK_TRUST_FORWARDED_HEADERS = False
    assert signed_post(client, MESSAGES, inbound(sid="SM7"), url=public, **forwarded).status_code == 403

    settings.WEBHOOK_TRUST_FORWARDED_HEADERS = True
    assert signed_post(client, MESSAGES, inbound(sid="SM7"), url=public, **forwarded).status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_reply_to_a_recent_sms_marks_it_replied(
    client, webhook_secrets, sent_message, django_capture_on_commit_callbacks
):
    message = sent_message(provider="twilio", provider_message_id="SMout", channel="sms", to="+14155550100")
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, MESSAGES, inbound(body="Yes!"))

    message.refresh_from_db()
    assert message.status == MessageStatus.REPLIED
    assert InboundMessage.objects.get().in_reply_to_message == message


def test_status_callbacks_move_the_timeline(client, webhook_secrets, sent_message, django_capture_on_commit_callbacks):
    message = sent_message(provider="twilio", provider_message_id="SMout", channel="whatsapp", to="+14155550100")
    for status in ("sent", "delivered", "read", "delivered"):
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_post(client, STATUS, {"MessageSid": "SMout", "MessageStatus": status})
        assert response.status_code == 204

    message.refresh_from_db()
    assert message.status == MessageStatus.OPENED
    assert list(message.events.values_list("kind", flat=True)) == ["sent", "delivered", "opened"]


def test_failed_status_with_21610_unsubscribes_the_contact(
    client, webhook_secrets, sent_message, django_capture_on_commit_callbacks
):
    message = sent_message(provider="twilio", provider_message_id="SMout", channel="sms", to="+14155550100")
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, STATUS, {"MessageSid": "SMout", "MessageStatus": "undelivered", "ErrorCode": "21610"})

    message.refresh_from_db()
    assert (message.status, message.failure_code) == (MessageStatus.FAILED, "21610")
    assert ContactConsent.objects.get(contact=message.contact).status == "unsubscribed"
    assert MessageEvent.objects.filter(message=message, kind="failed").count() == 1


def test_window_reopens_only_forward_in_time(client, webhook_secrets, make_contact, django_capture_on_commit_callbacks):
    _, identity = make_contact("sms", "+14155550100")
    later = timezone.now() + timedelta(hours=1)
    ContactIdentity.objects.filter(pk=identity.pk).update(last_inbound_at=later)

    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, MESSAGES, inbound())

    identity.refresh_from_db()
    assert identity.last_inbound_at == later


def test_a_signature_over_the_public_base_url_is_accepted(client, webhook_secrets, settings):
    settings.PUBLIC_BASE_URL = "https://app.example.com"
    settings.WEBHOOK_TRUST_FORWARDED_HEADERS = False

    response = signed_post(client, MESSAGES, inbound(sid="SM8"), url=f"https://app.example.com{MESSAGES}")

    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1
