"""The one HTTP wrapper of the provider layer (httpx), its timeouts from settings, and the
classification of HTTP failures into ProviderErrors.

Every provider module that speaks plain HTTP goes through `http_request` (one call) or
`HttpClient` (a session with a base URL and headers, for paged reads); network failures and
timeouts become transient errors, 429 a rate limit with its retry-after.
"""

import time
from email.utils import parsedate_to_datetime

import httpx
from django.conf import settings

from madansara.channels.base import ProviderError


def timeout() -> httpx.Timeout:
    """CHANNEL_HTTP_TIMEOUT for reads and writes, CHANNEL_HTTP_CONNECT_TIMEOUT to connect."""
    return httpx.Timeout(settings.CHANNEL_HTTP_TIMEOUT, connect=settings.CHANNEL_HTTP_CONNECT_TIMEOUT)


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


def retry_after_from(headers, *, default: float | None = None) -> float | None:
    """Retry-After, else X's x-rate-limit-reset (epoch seconds), else `default`."""
    retry_after = retry_after_seconds(headers.get("Retry-After"))
    reset = headers.get("x-rate-limit-reset")
    if retry_after is None and reset and reset.isdigit():
        retry_after = max(1.0, int(reset) - time.time())
    return default if retry_after is None else retry_after


def status_error(status: int, message: str, *, code="", retry_after: float | None = None) -> ProviderError:
    """Default classification: 429, 408 and 5xx are transient; other 4xx are permanent."""
    transient = status == 429 or status == 408 or status >= 500
    return ProviderError(message[:500], permanent=not transient, code=code or str(status), retry_after=retry_after)


def _network_error(exc: httpx.HTTPError) -> ProviderError:
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError(f"Timeout: {exc.__class__.__name__}", permanent=False, code="timeout")
    return ProviderError(f"Network error: {exc.__class__.__name__}", permanent=False, code="network")


def http_request(method: str, url: str, **kwargs) -> httpx.Response:
    """One HTTP call; network failures and timeouts become transient ProviderErrors."""
    kwargs.setdefault("timeout", timeout())
    try:
        return httpx.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise _network_error(exc) from exc


class HttpClient:
    """A session against one API: base URL, headers, settings' timeouts. 429 and 5xx answers
    raise transient ProviderErrors (429 with its retry-after); other answers are returned for
    the provider to read or classify."""

    def __init__(self, *, base_url: str, headers: dict, rate_limit_default: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.rate_limit_default = rate_limit_default
        self.http = httpx.Client(timeout=timeout(), headers=headers)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        if not url.startswith("http"):
            url = f"{self.base_url}/{url.lstrip('/')}"
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise _network_error(exc) from exc
        if response.status_code == 429:
            retry_after = retry_after_from(response.headers, default=self.rate_limit_default)
            raise ProviderError("Rate limited by the platform", permanent=False, code="429", retry_after=retry_after)
        if response.status_code >= 500:
            raise ProviderError(
                f"Platform error {response.status_code}", permanent=False, code=str(response.status_code)
            )
        return response
