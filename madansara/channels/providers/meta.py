"""Facebook Messenger and Instagram DMs through the Meta Graph Send API (httpx).

Windows are checked in rules.window_error; outside 24 h a human-approved reply goes out with
the HUMAN_AGENT tag (7 days). A `comment_id` in the context makes it a private reply to that
comment (Instagram/Facebook allow one per comment, within 7 days).
"""

from django.conf import settings

from madansara.channels import rules
from madansara.channels.base import OutboundPayload, Provider, ProviderError, SendResult
from madansara.channels.providers._http import http_request, retry_after_seconds

RATE_LIMIT_CODES = {4, 17, 32, 613, 80006}
TRANSIENT_CODES = {1, 2, 1200} | RATE_LIMIT_CODES
WINDOW_SUBCODES = {2018278, 2534022}


class MessengerProvider(Provider):
    name = "meta"
    channels = ("facebook",)
    rate_per_second = 20.0
    burst = 20

    def __init__(self, channel: str = "facebook"):
        self.channel = channel

    @classmethod
    def is_configured(cls) -> bool:
        return bool(settings.META_PAGE_ACCESS_TOKEN)

    def rate_limit_keys(self, payload: OutboundPayload) -> list[str]:
        return [f"meta:{self.channel}"]

    def body(self, payload: OutboundPayload) -> dict:
        comment_id = payload.context.get("comment_id")
        recipient = {"comment_id": comment_id} if comment_id else {"id": payload.to}
        message: dict = {"text": payload.text}
        if payload.media_urls and not payload.text:
            message = {"attachment": {"type": "image", "payload": {"url": payload.media_urls[0]}}}
        body = {"recipient": recipient, "message": message, "messaging_type": "RESPONSE"}
        tag = None if comment_id else rules.meta_message_tag(payload)
        if tag:
            body.update(messaging_type="MESSAGE_TAG", tag=tag)
        return body

    def send(self, payload: OutboundPayload) -> SendResult:
        response = http_request(
            "POST",
            f"{settings.META_GRAPH_URL}/me/messages",
            json=self.body(payload),
            headers={"Authorization": f"Bearer {settings.META_PAGE_ACCESS_TOKEN}"},
        )
        data = _json(response)
        if response.status_code >= 400 or "error" in data:
            raise classify(response.status_code, data.get("error") or {}, response.headers)
        return SendResult(provider_message_id=data.get("message_id", ""), status="sent", raw=data)


class InstagramProvider(MessengerProvider):
    channels = ("instagram",)

    def __init__(self, channel: str = "instagram"):
        self.channel = channel


def classify(status: int, error: dict, headers) -> ProviderError:
    """Graph API error → permanent (policy, window, bad recipient) or transient (throttling, 5xx)."""
    code, subcode = error.get("code"), error.get("error_subcode")
    message = f"Meta {status} {code}/{subcode}: {error.get('message', '')}"[:500]
    if subcode in WINDOW_SUBCODES:
        return ProviderError(message, permanent=True, code="window_closed")
    if code in TRANSIENT_CODES or status == 429 or status >= 500 or error.get("is_transient"):
        retry_after = retry_after_seconds(headers.get("Retry-After"))
        if retry_after is None and code in RATE_LIMIT_CODES:
            retry_after = 60.0
        return ProviderError(message, permanent=False, code=str(code or status), retry_after=retry_after)
    return ProviderError(message, permanent=True, code=str(code or status), identity_invalid=code == 551)


def _json(response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
