"""Email customer service end to end: SendGrid Inbound Parse → conversation → classification →
draft → approval → reply through the SendGrid SDK (fake API on 127.0.0.1) → timeline status."""

import json

import pytest

from inbox.models import Conversation, DraftStatus, ReplyDraft
from inbox.services.drafts import draft_send
from madansara.channels.models import Message
from madansara.channels.services import message_event_record
from madansara.models import AuditEvent

pytestmark = pytest.mark.django_db

RAW_HEADERS = (
    "Message-ID: <CAF-abc-123@mail.gmail.com>\r\nFrom: Ana Pierre <ana@example.com>\r\n"
    "Subject: Premium plan\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n"
)


@pytest.fixture
def sendgrid_api(settings, httpserver):
    settings.SENDGRID_API_KEY = "SG.test-key"
    settings.SENDGRID_API_HOST = httpserver.url_for("").rstrip("/")
    settings.SENDGRID_INBOUND_SECRET = "inbound-secret"
    settings.CHANNEL_PROVIDERS = ""
    httpserver.expect_request("/v3/mail/send", method="POST").respond_with_data(
        "", status=202, headers={"X-Message-Id": "sg-out-1"}
    )
    return httpserver


def test_email_from_sendgrid_inbound_to_threaded_reply(
    client, sendgrid_api, user_in_role, django_capture_on_commit_callbacks
):
    # Given a customer email posted by SendGrid Inbound Parse
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/webhooks/sendgrid/inbound/inbound-secret/",
            data={
                "from": "Ana Pierre <ana@example.com>",
                "to": "hello@madansara.local",
                "subject": "Premium plan",
                "text": "Hello, how much does the premium plan cost?",
                "headers": RAW_HEADERS,
                "envelope": json.dumps({"from": "ana@example.com", "to": ["hello@madansara.local"]}),
            },
        )
    assert response.status_code == 200
    # Then it is in a conversation, classified, with a pending draft
    conversation = Conversation.objects.get(participant="ana@example.com")
    draft = ReplyDraft.objects.get(conversation=conversation)
    assert draft.status == DraftStatus.PENDING and draft.intent == "pricing"

    # When an agent approves it
    agent = user_in_role("Agent")
    draft = draft_send(draft=draft, actor=agent)

    # Then SendGrid received a threaded reply with Re:, quoted history and our Reply-To
    assert draft.status == DraftStatus.SENT
    request = sendgrid_api.log[-1][0]
    mail = json.loads(request.get_data())
    assert mail["subject"] == "Re: Premium plan"
    assert mail["headers"]["In-Reply-To"] == "<CAF-abc-123@mail.gmail.com>"
    assert "<CAF-abc-123@mail.gmail.com>" in mail["headers"]["References"]
    assert mail["reply_to"]["email"] == conversation.reply_address
    text = next(c["value"] for c in mail["content"] if c["type"] == "text/plain")
    assert "> Hello, how much does the premium plan cost?" in text
    assert AuditEvent.objects.filter(action="inbox.draft.approve", actor=agent).exists()

    # And the delivery status reaches the timeline
    message = Message.objects.get(pk=draft.message_id)
    message_event_record(message=message, kind="delivered", provider_event_id="sg-evt-1")
    entry = conversation.entries.get(direction="out")
    assert entry.outbound.status == "delivered"

    # And the customer's answer to our reply threads back into the same conversation
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/webhooks/sendgrid/inbound/inbound-secret/",
            data={
                "from": "ana@example.com",
                "to": conversation.reply_address,
                "subject": "Re: Premium plan",
                "text": "Thanks, I'll take it!\n\nOn Wed, Madan Sara wrote:\n> Our premium plan...",
                "headers": f"Message-ID: <CAF-def-456@mail.gmail.com>\r\nIn-Reply-To: <{message.pk}@reply.madansara.local>\r\n",
                "envelope": "{}",
            },
        )
    assert Conversation.objects.count() == 1
    assert conversation.entries.count() == 3
