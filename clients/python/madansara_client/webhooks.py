"""Verify Madan Sara's outbound webhooks (the Standard Webhooks scheme), without dependencies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

DEFAULT_TOLERANCE = 300  # seconds either way: older deliveries are replays


class WebhookVerificationError(Exception):
    """The signature, the timestamp or a header is wrong: do not trust the body."""


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The `webhook-signature` value for a body: 'v1,' + base64(HMAC-SHA256(id.timestamp.body))."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    payload = body.encode() if isinstance(body, str) else bytes(body)
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + payload, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_webhook(
    *, secret: str, body: bytes | str, headers: Mapping[str, str], tolerance: int = DEFAULT_TOLERANCE, now=None
) -> dict[str, Any]:
    """The event ({"type", "timestamp", "data"}) if `body` was signed with `secret` within
    `tolerance` seconds; raises WebhookVerificationError otherwise. Pass the raw body."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lowered["webhook-id"]
        stamp = int(lowered["webhook-timestamp"])
        signatures = lowered["webhook-signature"].split()
    except (KeyError, ValueError) as exc:
        raise WebhookVerificationError("Missing or malformed webhook headers.") from exc
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        raise WebhookVerificationError("The timestamp is outside the tolerance (a replay or a wrong clock).")
    expected = sign(secret=secret, msg_id=msg_id, timestamp=stamp, body=body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookVerificationError("No matching signature.")
    return json.loads(body)
