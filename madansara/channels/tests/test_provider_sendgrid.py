"""SendGrid v3 through the real `sendgrid` SDK against a local fake API on 127.0.0.1."""

import json
import time

import pytest
from werkzeug import Response

from madansara.channels.models import AttemptOutcome, MessageStatus
from madansara.channels.providers.sendgrid import SendGridProvider
from madansara.channels.services import message_send
from madansara.channels.tests.conftest import wait_for_requests

pytestmark = pytest.mark.django_db


@pytest.fixture
def sendgrid(settings, httpserver, memory_rate_limits):
    settings.SENDGRID_API_KEY = "SG.test-key"
    settings.SENDGRID_API_HOST = httpserver.url_for("").rstrip("/")
    settings.CHANNEL_HTTP_TIMEOUT = 0.2
    settings.EMAIL_REPLY_DOMAIN = "reply.example.com"
    return httpserver


def test_success_sends_html_text_threading_and_unsubscribe_headers(sendgrid, make_message):
    # given a queued email answering an earlier message
    message = make_message(
        subject="Hi",
        text="Plain",
        html="<p>Rich</p>",
        reply_to="team@example.com",
        categories=["welcome"],
        headers={"In-Reply-To": "<a@b>", "References": "<a@b>"},
    )
    sendgrid.expect_request("/v3/mail/send", method="POST").respond_with_data(
        "", status=202, headers={"X-Message-Id": "sg-abc"}
    )

    # when it is sent
    attempt = message_send(message=message, provider=SendGridProvider())

    # then SendGrid got one well-formed mail and the message is sent with its provider id
    body = json.loads(sendgrid.log[0][0].get_data())
    assert sendgrid.log[0][0].headers["Authorization"] == "Bearer SG.test-key"
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["reply_to"]["email"] == "team@example.com"
    assert body["custom_args"] == {"ms_message_id": str(message.pk)}
    assert body["categories"] == ["welcome"]
    headers = body["headers"]
    assert headers["Message-ID"] == f"<{message.pk}@reply.example.com>"
    assert headers["In-Reply-To"] == "<a@b>" and headers["References"] == "<a@b>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"/o/unsubscribe/{message.pk}" in headers["List-Unsubscribe"]
    message.refresh_from_db()
    assert attempt.outcome == AttemptOutcome.SUCCESS
    assert (message.status, message.provider, message.provider_message_id) == (MessageStatus.SENT, "sendgrid", "sg-abc")


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_client_errors_are_permanent(sendgrid, make_message, status):
    message = make_message(subject="Hi")
    sendgrid.expect_request("/v3/mail/send").respond_with_json(
        {"errors": [{"message": "The to email does not contain a valid address.", "field": "to"}]}, status=status
    )

    attempt = message_send(message=message, provider=SendGridProvider())

    message.refresh_from_db()
    assert attempt.outcome == AttemptOutcome.PERMANENT
    assert attempt.error_code == str(status)
    assert "valid address" in attempt.error_message
    assert message.status == MessageStatus.FAILED


def test_429_is_transient_with_retry_after_and_blocks_the_account(sendgrid, make_message):
    message = make_message(subject="Hi")
    sendgrid.expect_request("/v3/mail/send").respond_with_json(
        {"errors": [{"message": "too many requests"}]}, status=429, headers={"Retry-After": "30"}
    )

    attempt = message_send(message=message, provider=SendGridProvider())

    message.refresh_from_db()
    assert (attempt.outcome, attempt.error_code, attempt.retry_after) == (AttemptOutcome.TRANSIENT, "429", 30.0)
    assert message.status == MessageStatus.QUEUED
    # and the next send on the same account waits instead of calling SendGrid
    second = make_message(to="bob@example.com", subject="Hi")
    blocked = message_send(message=second, provider=SendGridProvider())
    assert blocked.error_code == "rate_limited" and blocked.retry_after > 25
    assert len(sendgrid.log) == 1


def test_5xx_is_transient(sendgrid, make_message):
    message = make_message(subject="Hi")
    sendgrid.expect_request("/v3/mail/send").respond_with_data("oops", status=503)

    attempt = message_send(message=message, provider=SendGridProvider())

    assert (attempt.outcome, attempt.error_code) == (AttemptOutcome.TRANSIENT, "503")


def test_timeout_is_transient(sendgrid, make_message):
    message = make_message(subject="Hi")

    def slow(request):
        time.sleep(0.4)
        return Response("", status=202)

    sendgrid.expect_request("/v3/mail/send").respond_with_handler(slow)

    attempt = message_send(message=message, provider=SendGridProvider())

    assert attempt.outcome == AttemptOutcome.TRANSIENT
    assert attempt.error_code in ("timeout", "network")
    wait_for_requests(sendgrid, 1)
