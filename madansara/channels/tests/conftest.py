"""Fixtures of the channel-layer tests: contacts, messages, signing keys and fake servers' settings."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from madansara.channels.models import Message, MessageStatus
from madansara.contacts.services import contact_get_or_create_by_identity


@pytest.fixture
def make_contact(db):
    def make(channel="email", value="ada@example.com", **defaults):
        contact, identity, _ = contact_get_or_create_by_identity(channel=channel, value=value, defaults=defaults)
        return contact, identity

    return make


@pytest.fixture
def make_message(db, make_contact):
    def make(channel="email", to="ada@example.com", **fields):
        contact, _ = make_contact(channel, to)
        fields.setdefault("text", "Hello")
        return Message.objects.create(channel=channel, contact=contact, to=to, **fields)

    return make


@pytest.fixture
def sent_message(make_message):
    """An email already sent through SendGrid (what a webhook event refers to)."""
    from django.utils import timezone

    def make(provider="sendgrid", provider_message_id="sgid-1", channel="email", to="ada@example.com", **fields):
        return make_message(
            channel=channel,
            to=to,
            provider=provider,
            provider_message_id=provider_message_id,
            status=MessageStatus.SENT,
            sent_at=timezone.now(),
            **fields,
        )

    return make


@pytest.fixture
def memory_rate_limits(settings):
    """Provider rate limits in-process, generous enough never to interfere."""
    from madansara.channels import ratelimit

    settings.CHANNEL_RATE_LIMIT_BACKEND = "memory"
    ratelimit._memory.clear()
    yield
    ratelimit._memory.clear()


class SendGridSigner:
    """Signs Event Webhook bodies like SendGrid: ECDSA P-256 over timestamp + body."""

    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict:
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.private_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE": base64.b64encode(signature).decode(),
            "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP": timestamp,
        }


@pytest.fixture(scope="session")
def sendgrid_signer():
    return SendGridSigner()


@pytest.fixture
def webhook_secrets(settings, sendgrid_signer):
    settings.SENDGRID_EVENT_PUBLIC_KEY = sendgrid_signer.public_key
    settings.SENDGRID_INBOUND_SECRET = "inbound-secret-123"
    settings.TWILIO_AUTH_TOKEN = "twilio-token"
    settings.META_APP_SECRET = "meta-secret"
    settings.META_VERIFY_TOKEN = "meta-verify"
    settings.X_CONSUMER_SECRET = "x-secret"
    settings.LINKEDIN_CLIENT_SECRET = "li-secret"
    return settings


def hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def hmac_b64(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def as_json(data) -> bytes:
    return json.dumps(data).encode()


def wait_for_requests(server, count: int, timeout: float = 3.0) -> None:
    """Let a deliberately slow fake-server handler finish, so its log entry stays in its own test."""
    deadline = time.monotonic() + timeout
    while len(server.log) < count and time.monotonic() < deadline:
        time.sleep(0.02)
