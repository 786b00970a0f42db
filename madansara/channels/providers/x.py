"""X (Twitter) DMs through API v2 `dm_conversations` (httpx).

Rate limits: a per-app bucket and a per-sending-user bucket (ratelimit.py), plus the
x-rate-limit-reset header of a 429, which blocks the bucket for every worker.
"""

import time

from django.conf import settings

from madansara.channels.base import OutboundPayload, Provider, ProviderError, SendResult
from madansara.channels.providers._http import http_request, retry_after_seconds, status_error


class XProvider(Provider):
    name = "x"
    channels = ("x",)
    # POST /2/dm_conversations: 15 requests / 15 min per user, 1440 / 24 h per app.
    rate_per_second = 15 / 900
    burst = 15

    def __init__(self, channel: str = "x"):
        self.channel = channel

    @classmethod
    def is_configured(cls) -> bool:
        return bool(settings.X_BEARER_TOKEN)

    def rate_limit_keys(self, payload: OutboundPayload) -> list[str]:
        return ["x:app", f"x:user:{settings.X_SENDER_USER_ID or 'default'}"]

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {settings.X_BEARER_TOKEN}"}

    def _raise_for(self, response) -> None:
        if response.status_code < 400:
            return
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        reset = response.headers.get("x-rate-limit-reset")
        if retry_after is None and reset and reset.isdigit():
            retry_after = max(0.0, int(reset) - time.time())
        try:
            data = response.json()
            detail = data.get("detail") or data.get("title") or ""
        except ValueError:
            detail = response.text[:200]
        raise status_error(response.status_code, f"X {response.status_code}: {detail}", retry_after=retry_after)

    def participant_id(self, to: str) -> str:
        """X user id of a recipient given as id or handle."""
        if to.isdigit():
            return to
        response = http_request("GET", f"{settings.X_API_URL}/users/by/username/{to}", headers=self._headers())
        self._raise_for(response)
        user_id = (response.json().get("data") or {}).get("id")
        if not user_id:
            raise ProviderError(f"X user @{to} not found", permanent=True, code="not_found", identity_invalid=True)
        return user_id

    def send(self, payload: OutboundPayload) -> SendResult:
        participant = self.participant_id(payload.to)
        body: dict = {"text": payload.text}
        if payload.context.get("media_id"):
            body["attachments"] = [{"media_id": payload.context["media_id"]}]
        response = http_request(
            "POST",
            f"{settings.X_API_URL}/dm_conversations/with/{participant}/messages",
            json=body,
            headers=self._headers(),
        )
        self._raise_for(response)
        data = response.json().get("data") or {}
        return SendResult(provider_message_id=data.get("dm_event_id", ""), status="sent", raw=data)
