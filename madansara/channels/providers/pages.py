"""The base of a social account's API client; each platform's lives in its provider's module."""

from collections.abc import Iterator
from datetime import date, datetime

from madansara.channels.base import CommentData, EngagerData, InsightData, PostData, ProviderError
from madansara.channels.providers.http import HttpClient


class PagesClient:
    """A social account's API (one subclass per platform, in its provider's module). `account` is
    anything with pk, external_id and handle (social's SocialAccount); errors are ProviderErrors."""

    platform = "base"
    can_hide = True

    def __init__(self, account, *, token: str, base_url: str):
        self.account = account
        self.token = token
        self.http = HttpClient(base_url=base_url, headers=self.default_headers(), rate_limit_default=60.0)

    def default_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, url: str, **kwargs):
        return self.http.request(method, url, **kwargs)

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
        raise ProviderError(f"{self.platform} cannot hide comments", permanent=True, code="unsupported")
