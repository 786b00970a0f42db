"""One small transport per way of telling a person (as healthchecks does): `send()` returns or
raises TransportError(message, permanent=...)."""

import httpx
from django.conf import settings

from madansara.channels.models import AttemptOutcome
from madansara.channels.services import message_create, message_send
from madansara.choices import Channel


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.message, self.permanent, self.retry_after = message, permanent, retry_after


class EmailTransport:
    """Through the channel layer (SendGrid, or the sandbox provider without credentials)."""

    def send(self, *, address: str, subject: str, text: str) -> None:
        message = message_create(channel=Channel.EMAIL, to=address, source="notification", subject=subject, text=text)
        attempt = message_send(message=message)
        if attempt is None or attempt.outcome != AttemptOutcome.SUCCESS:
            error = attempt.error_message if attempt else "not sent"
            raise TransportError(
                error,
                permanent=bool(attempt and attempt.outcome == AttemptOutcome.PERMANENT),
                retry_after=attempt.retry_after if attempt else None,
            )


class SlackTransport:
    """A Slack-compatible incoming webhook: POST {"text": ...}; Slack answers 200 "ok"."""

    def send(self, *, address: str, subject: str, text: str) -> None:
        url = settings.NOTIFY_SLACK_WEBHOOK_URL
        if not url:
            raise TransportError("NOTIFY_SLACK_WEBHOOK_URL is not set", permanent=True)
        try:
            response = httpx.post(url, json={"text": f"*{subject}*\n{text}"}, timeout=settings.CHANNEL_HTTP_TIMEOUT)
        except httpx.HTTPError as exc:
            raise TransportError(f"{exc.__class__.__name__}: {exc}") from exc
        if response.status_code == 200:
            return
        # 400 invalid_payload, 403 action_prohibited, 404 no_service, 410 channel_is_archived are
        # for good; 429 and 5xx may pass.
        permanent = response.status_code < 500 and response.status_code != 429
        raise TransportError(
            f"Slack answered {response.status_code}: {response.text[:200]}",
            permanent=permanent,
            retry_after=_seconds(response.headers.get("Retry-After")),
        )


def _seconds(value: str | None) -> float | None:
    """A Retry-After in seconds (Slack sends whole seconds); None when absent or unreadable."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


TRANSPORTS = {"email": EmailTransport(), "slack": SlackTransport()}
