"""The zero-config path: sandbox by default, its simulator, the registry and the send task."""

import pytest

from madansara.channels import registry
from madansara.channels.models import AttemptOutcome, InboundMessage, MessageStatus
from madansara.channels.services import message_send
from madansara.channels.simulate import sandbox_simulate
from madansara.channels.tasks import message_send_task

pytestmark = pytest.mark.django_db


def test_without_credentials_every_channel_uses_the_sandbox(settings):
    settings.SENDGRID_API_KEY = settings.TWILIO_ACCOUNT_SID = settings.META_PAGE_ACCESS_TOKEN = ""
    settings.X_BEARER_TOKEN = settings.LINKEDIN_ACCESS_TOKEN = ""

    providers = {row["channel"]: row["provider"] for row in registry.channel_status()}
    assert providers.pop("chat") == "chat"  # website chat needs no credentials: we are its provider
    assert set(providers.values()) == {"sandbox"}


def test_configured_credentials_make_a_channel_live(settings):
    settings.SENDGRID_API_KEY = "SG.x"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_SMS_FROM = "AC1", "tok", "+15005550006"

    status = {row["channel"]: row for row in registry.channel_status()}
    assert (status["email"]["provider"], status["email"]["live"]) == ("sendgrid", True)
    assert status["sms"]["provider"] == "twilio"
    assert status["whatsapp"]["provider"] == "sandbox"  # no WhatsApp sender configured


def test_sandbox_send_then_simulated_delivery_open_click(make_message):
    message = make_message(subject="Hi")
    message_send(message=message)
    for event in ("delivered", "open", "click"):
        sandbox_simulate(message=message, event=event)

    message.refresh_from_db()
    assert (message.provider, message.status) == ("sandbox", MessageStatus.CLICKED)
    assert list(message.events.values_list("kind", flat=True)) == ["sent", "delivered", "opened", "clicked"]


def test_simulated_email_reply_threads_back_to_the_message(make_message):
    message = make_message(subject="Offer")
    message_send(message=message)

    inbound = sandbox_simulate(message=message, event="reply", text="Interested")

    message.refresh_from_db()
    assert isinstance(inbound, InboundMessage)
    assert (inbound.in_reply_to_message, inbound.subject, inbound.text) == (message, "Re: Offer", "Interested")
    assert message.status == MessageStatus.REPLIED


def test_simulated_sms_reply_and_failure(make_message):
    replied = make_message(channel="sms", to="+14155550100")
    failed = make_message(channel="sms", to="+14155550101")
    message_send(message=replied)
    message_send(message=failed)

    sandbox_simulate(message=replied, event="reply")
    sandbox_simulate(message=failed, event="failure")

    replied.refresh_from_db()
    failed.refresh_from_db()
    assert (replied.status, failed.status) == (MessageStatus.REPLIED, MessageStatus.FAILED)


def test_real_provider_messages_cannot_be_simulated(sent_message):
    with pytest.raises(ValueError, match="sandbox"):
        sandbox_simulate(message=sent_message(), event="delivered")


def test_sandbox_applies_the_channel_rules_too(make_message):
    message = make_message(channel="linkedin", to="urn:li:person:1")

    attempt = message_send(message=message)

    assert (attempt.outcome, attempt.error_code) == (AttemptOutcome.PERMANENT, "approval_required")


def test_send_task_gives_up_after_its_retries(make_message, monkeypatch):
    message = make_message(to="fail-transient@example.com")
    monkeypatch.setattr(message_send_task, "max_retries", 0)

    message_send_task.apply(args=[str(message.pk)])

    message.refresh_from_db()
    assert (message.status, message.failure_code) == (MessageStatus.FAILED, "retries_exhausted")
    assert message.attempts.get().outcome == AttemptOutcome.TRANSIENT


def test_send_task_sends_a_queued_message_once(make_message):
    message = make_message()

    message_send_task.apply(args=[str(message.pk)])
    message_send_task.apply(args=[str(message.pk)])

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts.count() == 1
