"""SMS and WhatsApp through Twilio (official `twilio` SDK).

WhatsApp's 24-hour window is checked in rules.window_error before any call; outside it only an
approved template (ContentSid + ContentVariables) goes out.
"""

import json
from decimal import Decimal, InvalidOperation

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from madansara.channels.base import OutboundPayload, Provider, ProviderError, SendResult
from madansara.channels.models import MessageStatus
from madansara.channels.providers.http import retry_after_seconds

TWILIO_API = "https://api.twilio.com"
PERMANENT_CODES = {
    21211: "invalid_number",
    21214: "invalid_number",
    21408: "region_not_enabled",
    21610: "unsubscribed",
    21612: "unreachable",
    21614: "not_mobile",
    63016: "window_closed",
    63024: "invalid_recipient",
}
INVALID_IDENTITY_CODES = {21211, 21214, 21614, 63024}
TRANSIENT_CODES = {20429, 30001, 63018}


class _BaseUrlHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to TWILIO_API_BASE_URL (a regional edge or a local fake) and
    keeps the last response's headers (Retry-After)."""

    last_headers: dict = {}

    def request(self, method, url, *args, **kwargs):
        base = settings.TWILIO_API_BASE_URL.rstrip("/")
        if base and url.startswith(TWILIO_API):
            url = base + url[len(TWILIO_API) :]
        response = super().request(method, url, *args, **kwargs)
        self.last_headers = dict(response.headers or {})
        return response


def status_callback_url() -> str:
    return f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/status"


class TwilioSMSProvider(Provider):
    name = "twilio"
    channels = ("sms",)
    rate_per_second = 10.0
    burst = 10
    address_prefix = ""

    def __init__(self, channel: str = "sms"):
        self.channel = channel

    @classmethod
    def is_configured(cls) -> bool:
        return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and cls.sender())

    @classmethod
    def sender(cls) -> str:
        return settings.TWILIO_SMS_FROM

    def rate_limit_keys(self, payload: OutboundPayload) -> list[str]:
        return [f"twilio:{settings.TWILIO_ACCOUNT_SID}"]

    def params(self, payload: OutboundPayload) -> dict:
        params = {
            "to": self.address_prefix + payload.to,
            "from_": self.address_prefix + self.sender(),
            "status_callback": status_callback_url(),
        }
        if payload.template_name:
            params["content_sid"] = payload.template_name
            params["content_variables"] = json.dumps(payload.template_variables)
        else:
            params["body"] = payload.text
        if payload.media_urls:
            params["media_url"] = payload.media_urls
        return params

    def send(self, payload: OutboundPayload) -> SendResult:
        http_client = _BaseUrlHttpClient(timeout=settings.CHANNEL_HTTP_TIMEOUT)
        client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
        try:
            message = client.messages.create(**self.params(payload))
        except TwilioRestException as exc:
            raise classify(exc, retry_after_seconds(http_client.last_headers.get("Retry-After"))) from exc
        except requests.Timeout as exc:
            raise ProviderError("Twilio timeout", permanent=False, code="timeout") from exc
        except requests.RequestException as exc:
            raise ProviderError(
                f"Twilio unreachable: {exc.__class__.__name__}", permanent=False, code="network"
            ) from exc
        return SendResult(provider_message_id=message.sid, status=MessageStatus.QUEUED, cost=_price(message.price))


class TwilioWhatsAppProvider(TwilioSMSProvider):
    channels = ("whatsapp",)
    address_prefix = "whatsapp:"

    def __init__(self, channel: str = "whatsapp"):
        self.channel = channel

    @classmethod
    def sender(cls) -> str:
        return settings.TWILIO_WHATSAPP_FROM


def classify(exc: TwilioRestException, retry_after: float | None) -> ProviderError:
    """Twilio error code → permanent/transient, consent and identity side effects."""
    code = exc.code
    label = PERMANENT_CODES.get(code, "")
    message = f"Twilio {exc.status} {code}{' ' + label if label else ''}: {exc.msg}"[:500]
    if exc.status == 429 or exc.status >= 500 or code in TRANSIENT_CODES:
        return ProviderError(message, permanent=False, code=str(code or exc.status), retry_after=retry_after)
    return ProviderError(
        message,
        permanent=True,
        code=str(code or exc.status),
        consent_revoked=code == 21610,
        identity_invalid=code in INVALID_IDENTITY_CODES,
    )


def _price(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return abs(Decimal(str(value)))
    except InvalidOperation:
        return None
