"""Email through SendGrid v3 (official `sendgrid` SDK)."""

import json
import socket
import urllib.error

from django.conf import settings
from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Category, Content, CustomArg, From, Header, Mail, ReplyTo, To

from madansara.channels.base import OutboundPayload, Provider, ProviderError, SendResult
from madansara.channels.email_ids import email_message_id
from madansara.channels.models import MessageStatus
from madansara.channels.providers.http import retry_after_seconds

THREADING_HEADERS = ("In-Reply-To", "References")
MESSAGE_ID_ARG = "ms_message_id"  # custom_args key: comes back on every Event Webhook event


def list_unsubscribe_headers(message_id: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe headers for an outbound message."""
    url = f"{settings.PUBLIC_BASE_URL}/o/unsubscribe/{message_id}"
    mailto = f"mailto:unsubscribe@{settings.EMAIL_REPLY_DOMAIN}?subject=unsubscribe-{message_id}"
    return {"List-Unsubscribe": f"<{url}>, <{mailto}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


class SendGridProvider(Provider):
    name = "sendgrid"
    channels = ("email",)
    rate_per_second = 100.0
    burst = 100

    def __init__(self, channel: str = "email"):
        self.channel = channel

    @classmethod
    def is_configured(cls) -> bool:
        return bool(settings.SENDGRID_API_KEY)

    def build_mail(self, payload: OutboundPayload) -> Mail:
        mail = Mail(
            from_email=From(settings.EMAIL_FROM_ADDRESS, settings.EMAIL_FROM_NAME),
            to_emails=To(payload.to),
            subject=payload.subject or "(no subject)",
        )
        if payload.text:
            mail.add_content(Content("text/plain", payload.text))
        if payload.html:
            mail.add_content(Content("text/html", payload.html))
        if payload.reply_to:
            mail.reply_to = ReplyTo(payload.reply_to)
        headers = {**list_unsubscribe_headers(payload.message_id), "Message-ID": email_message_id(payload.message_id)}
        headers.update({k: v for k, v in payload.headers.items() if v})
        for key, value in headers.items():
            mail.add_header(Header(key, str(value)))
        mail.add_custom_arg(CustomArg(MESSAGE_ID_ARG, payload.message_id))
        for category in payload.categories[:10]:  # SendGrid accepts at most 10
            mail.add_category(Category(category))
        return mail

    def send(self, payload: OutboundPayload) -> SendResult:
        client = SendGridAPIClient(settings.SENDGRID_API_KEY, host=settings.SENDGRID_API_HOST)
        client.client.timeout = settings.CHANNEL_HTTP_TIMEOUT
        try:
            response = client.send(self.build_mail(payload))
        except http_errors.HTTPError as exc:
            raise self._classify(exc) from exc
        except TimeoutError as exc:
            raise ProviderError("SendGrid timeout", permanent=False, code="timeout") from exc
        except urllib.error.URLError as exc:
            transient = isinstance(exc.reason, (TimeoutError, socket.timeout, OSError))
            raise ProviderError(f"SendGrid unreachable: {exc.reason}", permanent=not transient, code="network") from exc
        provider_id = response.headers.get("X-Message-Id") or f"sg-{payload.message_id}"
        return SendResult(provider_message_id=provider_id, status=MessageStatus.QUEUED)

    @staticmethod
    def _classify(exc) -> ProviderError:
        status = int(exc.status_code)
        try:
            errors = json.loads(exc.body or b"{}").get("errors") or []
            detail = "; ".join(e.get("message", "") for e in errors if isinstance(e, dict)) or str(exc.reason)
        except (ValueError, AttributeError):
            detail = str(exc.reason)
        retry_after = retry_after_seconds(exc.headers.get("Retry-After")) if exc.headers else None
        transient = status == 429 or status >= 500
        return ProviderError(
            f"SendGrid {status}: {detail}"[:500], permanent=not transient, code=str(status), retry_after=retry_after
        )
