"""SMS and WhatsApp through the real `twilio` SDK against a local fake Twilio API on 127.0.0.1."""

import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.utils import timezone
from werkzeug import Response

from madansara.channels.models import AttemptOutcome, MessageStatus
from madansara.channels.providers.twilio import TwilioSMSProvider, TwilioWhatsAppProvider
from madansara.channels.services import message_send
from madansara.channels.tests.conftest import wait_for_requests
from madansara.contacts.models import ContactConsent, ContactIdentity

pytestmark = pytest.mark.django_db
SID = "AC00000000000000000000000000000000"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"


@pytest.fixture
def twilio(settings, httpserver, memory_rate_limits):
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_API_BASE_URL = httpserver.url_for("").rstrip("/")
    settings.TWILIO_SMS_FROM = "+15005550006"
    settings.TWILIO_WHATSAPP_FROM = "+14155238886"
    settings.PUBLIC_BASE_URL = "https://app.example.com"
    settings.CHANNEL_HTTP_TIMEOUT = 0.2
    return httpserver


def created(sid="SM123", price=None):
    return {"sid": sid, "status": "queued", "price": price, "price_unit": "USD", "account_sid": SID}


def error(code, status, message="error"):
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def form(httpserver, index=0):
    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(httpserver.log[index][0].get_data(as_text=True)).items()}


def test_sms_success_sets_status_callback_and_provider_id(twilio, make_message):
    message = make_message(channel="sms", to="+14155550100", text="Hi there")
    twilio.expect_request(MESSAGES, method="POST").respond_with_json(created(price="-0.0079"), status=201)

    attempt = message_send(message=message, provider=TwilioSMSProvider())

    sent = form(twilio)
    assert sent == {
        "To": "+14155550100",
        "From": "+15005550006",
        "Body": "Hi there",
        "StatusCallback": "https://app.example.com/webhooks/twilio/status",
    }
    message.refresh_from_db()
    assert attempt.outcome == AttemptOutcome.SUCCESS
    assert (message.status, message.provider_message_id, str(message.cost)) == (MessageStatus.SENT, "SM123", "0.00790")


def test_whatsapp_free_text_inside_the_24h_window(twilio, make_message, make_contact):
    _, identity = make_contact("whatsapp", "+14155550101")
    ContactIdentity.objects.filter(pk=identity.pk).update(last_inbound_at=timezone.now() - timedelta(hours=23))
    message = make_message(channel="whatsapp", to="+14155550101", text="Sure!")
    twilio.expect_request(MESSAGES, method="POST").respond_with_json(created(), status=201)

    attempt = message_send(message=message, provider=TwilioWhatsAppProvider())

    assert attempt.outcome == AttemptOutcome.SUCCESS
    assert form(twilio)["To"] == "whatsapp:+14155550101"
    assert form(twilio)["From"] == "whatsapp:+14155238886"


def test_whatsapp_free_text_outside_the_window_is_refused_without_calling_twilio(twilio, make_message, make_contact):
    _, identity = make_contact("whatsapp", "+14155550102")
    ContactIdentity.objects.filter(pk=identity.pk).update(last_inbound_at=timezone.now() - timedelta(hours=25))
    message = make_message(channel="whatsapp", to="+14155550102", text="Hello again")

    attempt = message_send(message=message, provider=TwilioWhatsAppProvider())

    assert (attempt.outcome, attempt.error_code) == (AttemptOutcome.PERMANENT, "window_closed")
    assert twilio.log == []


def test_whatsapp_template_outside_the_window_uses_content_sid(twilio, make_message):
    message = make_message(
        channel="whatsapp", to="+14155550103", text="", template_name="HXabc", template_variables={"1": "Ada"}
    )
    twilio.expect_request(MESSAGES, method="POST").respond_with_json(created(), status=201)

    attempt = message_send(message=message, provider=TwilioWhatsAppProvider())

    sent = form(twilio)
    assert attempt.outcome == AttemptOutcome.SUCCESS
    assert sent["ContentSid"] == "HXabc" and sent["ContentVariables"] == '{"1": "Ada"}'
    assert "Body" not in sent


def test_63016_window_closed_from_twilio_is_permanent(twilio, make_message):
    message = make_message(channel="whatsapp", to="+14155550104", template_name="HXabc")
    twilio.expect_request(MESSAGES).respond_with_json(error(63016, 400, "Outside window"), status=400)

    attempt = message_send(message=message, provider=TwilioWhatsAppProvider())

    assert (attempt.outcome, attempt.error_code) == (AttemptOutcome.PERMANENT, "63016")


def test_21610_unsubscribed_recipient_updates_consent(twilio, make_message):
    message = make_message(channel="sms", to="+14155550105")
    twilio.expect_request(MESSAGES).respond_with_json(
        error(21610, 400, "Attempt to send to unsubscribed recipient"), status=400
    )

    attempt = message_send(message=message, provider=TwilioSMSProvider())

    assert attempt.outcome == AttemptOutcome.PERMANENT
    consent = ContactConsent.objects.get(contact=message.contact, channel="sms")
    assert consent.status == "unsubscribed" and consent.source == "twilio:21610"


def test_21211_invalid_number_flags_the_identity(twilio, make_message):
    message = make_message(channel="sms", to="+14155550106")
    twilio.expect_request(MESSAGES).respond_with_json(error(21211, 400, "Invalid 'To' Phone Number"), status=400)

    message_send(message=message, provider=TwilioSMSProvider())

    identity = ContactIdentity.objects.get(channel="sms", value="+14155550106")
    assert identity.is_valid is False
    # and the next message to it is refused before any call
    again = make_message(channel="sms", to="+14155550106")
    assert message_send(message=again, provider=TwilioSMSProvider()).error_code == "invalid_identity"
    assert len(twilio.log) == 1


def test_429_is_transient_with_retry_after(twilio, make_message):
    message = make_message(channel="sms", to="+14155550107")
    twilio.expect_request(MESSAGES).respond_with_json(
        error(20429, 429, "Too Many Requests"), status=429, headers={"Retry-After": "7"}
    )

    attempt = message_send(message=message, provider=TwilioSMSProvider())

    assert (attempt.outcome, attempt.retry_after) == (AttemptOutcome.TRANSIENT, 7.0)


def test_5xx_is_transient(twilio, make_message):
    message = make_message(channel="sms", to="+14155550108")
    twilio.expect_request(MESSAGES).respond_with_json(error(20500, 500, "Internal Server Error"), status=500)

    assert message_send(message=message, provider=TwilioSMSProvider()).outcome == AttemptOutcome.TRANSIENT


def test_timeout_is_transient(twilio, make_message):
    message = make_message(channel="sms", to="+14155550109")

    def slow(request):
        time.sleep(0.4)
        return Response("{}", status=201)

    twilio.expect_request(MESSAGES).respond_with_handler(slow)

    attempt = message_send(message=message, provider=TwilioSMSProvider())

    assert (attempt.outcome, attempt.error_code) == (AttemptOutcome.TRANSIENT, "timeout")
    wait_for_requests(twilio, 1)
