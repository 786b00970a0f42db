"""Shared helpers for providers that speak plain HTTP (httpx) and for classifying errors."""

import time
from email.utils import parsedate_to_datetime

import httpx
from django.conf import settings

from madansara.channels.base import ProviderError


def retry_after_seconds(value) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), or None."""
    if value in (None, ""):
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        return max(0.0, parsedate_to_datetime(str(value)).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def status_error(status: int, message: str, *, code="", retry_after: float | None = None) -> ProviderError:
    """Default classification: 429, 408 and 5xx are transient; other 4xx are permanent."""
    transient = status == 429 or status == 408 or status >= 500
    return ProviderError(message[:500], permanent=not transient, code=code or str(status), retry_after=retry_after)


def http_request(method: str, url: str, **kwargs) -> httpx.Response:
    """One HTTP call; network failures and timeouts become transient ProviderErrors."""
    timeout = kwargs.pop("timeout", settings.CHANNEL_HTTP_TIMEOUT)
    try:
        return httpx.request(method, url, timeout=timeout, **kwargs)
    except httpx.TimeoutException as exc:
        raise ProviderError(f"Timeout: {exc.__class__.__name__}", permanent=False, code="timeout") from exc
    except httpx.HTTPError as exc:
        raise ProviderError(f"Network error: {exc.__class__.__name__}", permanent=False, code="network") from exc
