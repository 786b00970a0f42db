"""Signature checks, one per provider. Each returns True only for an authentic, fresh request."""

import base64
import hashlib
import hmac
import re
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator


def sendgrid_event_valid(*, body: bytes, signature: str, timestamp: str, now: float | None = None) -> bool:
    """ECDSA P-256 over timestamp + raw body (SENDGRID_EVENT_PUBLIC_KEY), timestamp not too old."""
    if not (settings.SENDGRID_EVENT_PUBLIC_KEY and signature and timestamp.isdigit()):
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > settings.WEBHOOK_MAX_AGE_SECONDS:
        return False
    try:
        key = EventWebhook().convert_public_key_to_ecdsa(settings.SENDGRID_EVENT_PUBLIC_KEY)
        key.verify(base64.b64decode(signature), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def twilio_valid(*, url: str, params: dict, signature: str) -> bool:
    """X-Twilio-Signature with the SDK's RequestValidator and TWILIO_AUTH_TOKEN."""
    if not (settings.TWILIO_AUTH_TOKEN and signature):
        return False
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, params, signature)


def _hmac_sha256(secret: str, data: bytes) -> bytes:
    return hmac.new(secret.encode(), data, hashlib.sha256).digest()


def meta_valid(*, body: bytes, signature: str) -> bool:
    """X-Hub-Signature-256: sha256=<hex HMAC-SHA256(raw body, META_APP_SECRET)>."""
    if not (settings.META_APP_SECRET and signature.startswith("sha256=")):
        return False
    expected = "sha256=" + _hmac_sha256(settings.META_APP_SECRET, body).hex()
    return hmac.compare_digest(expected, signature)


# Challenge tokens in their documented shapes only. Neither alphabet holds "{", which starts every
# body a signed POST may carry (see views._signed_json): a challenge answer can never sign a body.
X_CRC_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{1,256}")  # base64 / base64url text, as X sends
LINKEDIN_CHALLENGE_CODE = re.compile(  # "a randomly generated type-4 UUID string"
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE
)


def x_crc_token_valid(crc_token: str) -> bool:
    """A crc_token X could have sent: base64(url) text of at most 256 characters."""
    return X_CRC_TOKEN.fullmatch(crc_token) is not None


def linkedin_challenge_code_valid(challenge_code: str) -> bool:
    """A challengeCode LinkedIn could have sent: a version-4 UUID."""
    return LINKEDIN_CHALLENGE_CODE.fullmatch(challenge_code) is not None


def signed_body_shape_valid(body: bytes) -> bool:
    """Every signed JSON webhook body is an object: no challenge token can look like one."""
    return body.lstrip(b" \t\r\n")[:1] == b"{"


def x_crc_response(crc_token: str) -> str:
    """The CRC answer: sha256= + base64(HMAC-SHA256(X_CONSUMER_SECRET, crc_token))."""
    return "sha256=" + base64.b64encode(_hmac_sha256(settings.X_CONSUMER_SECRET, crc_token.encode())).decode()


def x_valid(*, body: bytes, signature: str) -> bool:
    """x-twitter-webhooks-signature: sha256= + base64(HMAC-SHA256(X_CONSUMER_SECRET, body))."""
    if not (settings.X_CONSUMER_SECRET and signature.startswith("sha256=")):
        return False
    expected = "sha256=" + base64.b64encode(_hmac_sha256(settings.X_CONSUMER_SECRET, body)).decode()
    return hmac.compare_digest(expected, signature)


def linkedin_challenge_response(challenge_code: str) -> str:
    """Hex HMAC-SHA256 of the challengeCode with LINKEDIN_CLIENT_SECRET."""
    return _hmac_sha256(settings.LINKEDIN_CLIENT_SECRET, challenge_code.encode()).hex()


def linkedin_valid(*, body: bytes, signature: str) -> bool:
    """X-LI-Signature: hex HMAC-SHA256 of the raw body (optionally prefixed 'hmacsha256=')."""
    if not (settings.LINKEDIN_CLIENT_SECRET and signature):
        return False
    signature = signature.removeprefix("hmacsha256=")
    expected = _hmac_sha256(settings.LINKEDIN_CLIENT_SECRET, body).hex()
    return hmac.compare_digest(expected, signature)


def secret_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of a shared secret (an unset secret never matches)."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
