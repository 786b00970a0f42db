"""What the sync and async clients share: request building, the retry rule, Retry-After, errors."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from typing import Any

import httpx

RETRY_STATUSES = {429, 502, 503, 504}
IDEMPOTENT_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
USER_AGENT = "madansara-client/0.1"


class MadanSaraError(Exception):
    """An API error: the HTTP status and the API's error body ({"error": {code, message, details}})."""

    def __init__(self, status_code: int, code: str, message: str, details: Any = None, request_id: str = ""):
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.request_id = request_id

    @classmethod
    def from_response(cls, response: httpx.Response) -> MadanSaraError:
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        return cls(
            response.status_code,
            error.get("code") or "http_error",
            error.get("message") or response.reason_phrase,
            error.get("details"),
            response.headers.get("X-Request-ID", ""),
        )


def retry_after_seconds(response: httpx.Response | None, *, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: Retry-After as seconds or as an HTTP date."""
    if response is None:
        return None
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class RetryPolicy:
    """Retry 429 always (not processed), 502/503/504 and network errors when the request is safe
    to repeat (idempotent method or an Idempotency-Key); wait Retry-After, else backoff with jitter."""

    def __init__(self, max_retries: int = 3, backoff: float = 0.5, max_wait: float = 60.0):
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait

    def should_retry(self, attempt: int, method: str, headers: Mapping[str, str], response, error) -> bool:
        if attempt >= self.max_retries:
            return False
        repeatable = method.upper() in IDEMPOTENT_METHODS or "Idempotency-Key" in headers
        if response is not None:
            if response.status_code == 429:
                return True
            return response.status_code in RETRY_STATUSES and repeatable
        return error is not None and repeatable

    def wait(self, attempt: int, response) -> float:
        asked = retry_after_seconds(response)
        if asked is not None:
            return min(asked, self.max_wait)
        ceiling = self.backoff * (2**attempt)
        return min(random.uniform(ceiling / 2, ceiling), self.max_wait)


def build_headers(api_key: str, idempotency_key: str | None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json", "User-Agent": USER_AGENT}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return headers


def clean(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if v is not None}
