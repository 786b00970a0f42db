"""The contract of a platform API client: typed records in, PlatformError out.

Errors are classified like channel providers: permanent (bad token, unsupported, gone) or
transient (429 with retry_after, 5xx, timeouts). `gone=True` means the object was deleted.
"""

import email.utils
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import httpx

DEFAULT_RETRY_AFTER = 60.0
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class PlatformError(Exception):
    def __init__(self, message: str, *, permanent: bool, code: str = "", retry_after: float | None = None, gone=False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = str(code)
        self.retry_after = retry_after
        self.gone = gone


@dataclass
class PostData:
    external_id: str
    published_at: datetime
    text: str = ""
    url: str = ""
    media_type: str = ""
    metrics: dict = field(default_factory=dict)  # likes, comments_count, shares, saves, impressions, reach


@dataclass
class CommentData:
    external_id: str
    text: str
    author_id: str
    author_handle: str
    commented_at: datetime
    post_external_id: str = ""
    parent_external_id: str = ""
    author_followers: int = 0
    kind: str = "comment"  # comment, reply or mention


@dataclass
class EngagerData:
    """A person who liked or shared a post (platforms that list them)."""

    kind: str  # like or share
    author_id: str
    author_handle: str
    author_followers: int = 0


@dataclass
class InsightData:
    day: date
    reach: int = 0
    impressions: int = 0
    followers: int = 0
    engagements: int = 0


def retry_after_seconds(response: httpx.Response) -> float:
    """Retry-After (seconds or HTTP date), or X's x-rate-limit-reset epoch, else a default."""
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value)
            return max(parsed.timestamp() - time.time(), 0.0)
    reset = response.headers.get("x-rate-limit-reset")
    if reset and reset.isdigit():
        return max(float(reset) - time.time(), 1.0)
    return DEFAULT_RETRY_AFTER


class PlatformClient:
    """One subclass per platform; `account` is a SocialAccount."""

    platform = "base"
    can_hide = True

    def __init__(self, account, *, token: str, base_url: str):
        self.account = account
        self.token = token
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(timeout=TIMEOUT, headers=self.default_headers())

    def default_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        """Send one request; network errors and 5xx become transient PlatformErrors."""
        if not url.startswith("http"):
            url = f"{self.base_url}/{url.lstrip('/')}"
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise PlatformError(f"{exc.__class__.__name__}: {exc}", permanent=False, code="network") from exc
        if response.status_code == 429:
            raise PlatformError(
                "Rate limited by the platform", permanent=False, code="429", retry_after=retry_after_seconds(response)
            )
        if response.status_code >= 500:
            raise PlatformError(
                f"Platform error {response.status_code}", permanent=False, code=str(response.status_code)
            )
        return response

    # --- reads (generators follow pagination) ---
    def iter_posts(self, *, since: datetime | None) -> Iterator[PostData]:
        raise NotImplementedError

    def iter_comments(self, *, post_external_id: str) -> Iterator[CommentData]:
        raise NotImplementedError

    def iter_mentions(self, *, cursor: str) -> Iterator[CommentData]:
        return iter(())

    def post_metrics(self, *, post_external_id: str) -> dict:
        return {}

    def iter_engagers(self, *, post_external_id: str) -> Iterator[EngagerData]:
        """People who liked/shared a post, where the platform lists them (X, Facebook)."""
        return iter(())

    def insights(self, *, since: date, until: date) -> list[InsightData]:
        return []

    # --- writes ---
    def reply_to_comment(self, *, comment_external_id: str, post_external_id: str, text: str) -> str:
        """Publish a public reply; returns its id."""
        raise NotImplementedError

    def hide_comment(self, *, comment_external_id: str) -> None:
        raise PlatformError(f"{self.platform} cannot hide comments", permanent=True, code="unsupported")
