"""LinkedIn messages: partner-only API, one human-approved message at a time.

rules.window_error refuses any payload that is not human_approved, so the rest of the system
must treat LinkedIn as manual-approval-only (the sandbox applies the same rule).
"""

from django.conf import settings

from madansara.channels.base import OutboundPayload, Provider, ProviderError, SendResult
from madansara.channels.providers._http import http_request, retry_after_seconds, status_error

LINKEDIN_VERSION = "202411"


class LinkedInProvider(Provider):
    name = "linkedin"
    channels = ("linkedin",)
    rate_per_second = 1.0
    burst = 5
    manual_approval_only = True

    def __init__(self, channel: str = "linkedin"):
        self.channel = channel

    @classmethod
    def is_configured(cls) -> bool:
        return bool(settings.LINKEDIN_ACCESS_TOKEN)

    def send(self, payload: OutboundPayload) -> SendResult:
        if not payload.human_approved:
            raise ProviderError(
                "LinkedIn messages must be approved by a human", permanent=True, code="approval_required"
            )
        body = {
            "recipients": [payload.to],
            "subject": payload.subject,
            "body": payload.text,
            "messageType": "MEMBER_TO_MEMBER",
        }
        if payload.context.get("thread_id"):
            body["thread"] = payload.context["thread_id"]
        response = http_request(
            "POST",
            f"{settings.LINKEDIN_API_URL}/messages",
            json=body,
            headers={
                "Authorization": f"Bearer {settings.LINKEDIN_ACCESS_TOKEN}",
                "LinkedIn-Version": LINKEDIN_VERSION,
                "X-Restli-Protocol-Version": "2.0.0",
            },
        )
        if response.status_code >= 400:
            try:
                detail = response.json().get("message", "")
            except ValueError:
                detail = response.text[:200]
            raise status_error(
                response.status_code,
                f"LinkedIn {response.status_code}: {detail}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        provider_id = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id") or ""
        if not provider_id:
            try:
                provider_id = str(response.json().get("id", ""))
            except ValueError:
                provider_id = ""
        return SendResult(provider_message_id=provider_id or f"li-{payload.message_id}", status="sent")
