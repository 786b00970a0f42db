"""X (Twitter) API v2: DMs through `dm_conversations`, and an account's posts, replies, mentions,
engagers and insights, public replies and hidden replies (XPages). HTTP through providers.http.

Rate limits: a per-app bucket and a per-sending-user bucket (ratelimit.py), plus the
x-rate-limit-reset header of a 429, which blocks the bucket for every worker.
"""

from collections import defaultdict
from datetime import UTC, datetime

from django.conf import settings

from madansara.channels.base import (
    CommentData,
    EngagerData,
    InsightData,
    OutboundPayload,
    PostData,
    Provider,
    ProviderError,
    SendResult,
)
from madansara.channels.models import MessageStatus
from madansara.channels.providers.http import http_request, retry_after_from, status_error
from madansara.channels.providers.pages import PagesClient


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
        retry_after = retry_after_from(response.headers)
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
        return SendResult(provider_message_id=data.get("dm_event_id", ""), status=MessageStatus.SENT, raw=data)


NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
TWEET_FIELDS = "created_at,public_metrics,conversation_id,in_reply_to_user_id,author_id"
USER_FIELDS = "username,public_metrics"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class XPages(PagesClient):
    """An X account: timelines with next_token/since_id, conversation search, hide replies."""

    platform = "x"

    def check(self, response) -> dict:
        body = response.json() if response.content else {}
        if response.status_code in (401, 403):
            raise ProviderError(body.get("detail") or body.get("title") or "Forbidden", permanent=True, code="auth")
        if response.status_code == 404:
            raise ProviderError(body.get("detail", "Not found"), permanent=True, code="gone", gone=True)
        if response.status_code >= 400:
            raise ProviderError(body.get("detail", f"HTTP {response.status_code}"), permanent=True, code="bad_request")
        errors = body.get("errors") or []
        if "data" not in body and any(e.get("type") == NOT_FOUND for e in errors):
            raise ProviderError(errors[0].get("detail", "Not found"), permanent=True, code="gone", gone=True)
        return body

    def paged(self, path: str, params: dict):
        """(items, users by id) of each page, following meta.next_token."""
        token, seen = None, set()
        while True:
            query = dict(params, **({"pagination_token": token} if token else {}))
            body = self.check(self.request("GET", path, params=query))
            users = {u["id"]: u for u in (body.get("includes") or {}).get("users", [])}
            yield body.get("data", []), users
            token = (body.get("meta") or {}).get("next_token")
            if not token or token in seen:
                return
            seen.add(token)

    def iter_posts(self, *, since):
        params = {"max_results": 100, "tweet.fields": TWEET_FIELDS, "exclude": "replies,retweets"}
        if since:
            params["start_time"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        for page, _ in self.paged(f"users/{self.account.external_id}/tweets", params):
            for item in page:
                metrics = item.get("public_metrics") or {}
                yield PostData(
                    external_id=item["id"],
                    published_at=parse_time(item["created_at"]),
                    text=item.get("text", ""),
                    url=f"https://x.com/{self.account.handle or 'i'}/status/{item['id']}",
                    metrics={
                        "likes": metrics.get("like_count", 0),
                        "comments_count": metrics.get("reply_count", 0),
                        "shares": metrics.get("retweet_count", 0) + metrics.get("quote_count", 0),
                        "saves": metrics.get("bookmark_count", 0),
                        "impressions": metrics.get("impression_count", 0),
                    },
                )

    def post_metrics(self, *, post_external_id):
        body = self.check(self.request("GET", f"tweets/{post_external_id}", params={"tweet.fields": "public_metrics"}))
        metrics = (body.get("data") or {}).get("public_metrics") or {}
        return {
            "likes": metrics.get("like_count", 0),
            "comments_count": metrics.get("reply_count", 0),
            "shares": metrics.get("retweet_count", 0) + metrics.get("quote_count", 0),
            "saves": metrics.get("bookmark_count", 0),
            "impressions": metrics.get("impression_count", 0),
        }

    def iter_engagers(self, *, post_external_id):
        params = {"max_results": 100, "user.fields": USER_FIELDS}
        for kind, edge in (("like", "liking_users"), ("share", "retweeted_by")):
            for page, _ in self.paged(f"tweets/{post_external_id}/{edge}", params):
                for user in page:
                    yield EngagerData(
                        kind=kind,
                        author_id=user["id"],
                        author_handle=user.get("username", ""),
                        author_followers=(user.get("public_metrics") or {}).get("followers_count", 0),
                    )

    def _comment(self, item: dict, users: dict, kind: str, post_external_id: str = "") -> CommentData:
        user = users.get(item.get("author_id"), {})
        return CommentData(
            external_id=item["id"],
            text=item.get("text", ""),
            author_id=item.get("author_id", ""),
            author_handle=user.get("username", ""),
            author_followers=(user.get("public_metrics") or {}).get("followers_count", 0),
            commented_at=parse_time(item["created_at"]),
            post_external_id=post_external_id or item.get("conversation_id", ""),
            kind=kind,
        )

    def iter_comments(self, *, post_external_id):
        params = {
            "query": f"conversation_id:{post_external_id} is:reply",
            "max_results": 100,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        for page, users in self.paged("tweets/search/recent", params):
            for item in page:
                if item.get("author_id") != self.account.external_id:
                    yield self._comment(item, users, "comment", post_external_id)

    def iter_mentions(self, *, cursor):
        params = {
            "max_results": 100,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        if cursor:
            params["since_id"] = cursor
        for page, users in self.paged(f"users/{self.account.external_id}/mentions", params):
            for item in page:
                yield self._comment(item, users, "mention")

    def insights(self, *, since, until):
        body = self.check(self.request("GET", f"users/{self.account.external_id}", params={"user.fields": USER_FIELDS}))
        followers = ((body.get("data") or {}).get("public_metrics") or {}).get("followers_count", 0)
        days = defaultdict(lambda: [0, 0])  # impressions, engagements of the day's posts
        start = datetime.combine(since, datetime.min.time(), UTC)
        for post in self.iter_posts(since=start):
            day = post.published_at.date()
            if day > until:
                continue
            m = post.metrics
            days[day][0] += m.get("impressions", 0)
            days[day][1] += m.get("likes", 0) + m.get("comments_count", 0) + m.get("shares", 0)
        rows = [InsightData(day=d, impressions=v[0], reach=v[0], engagements=v[1]) for d, v in sorted(days.items())]
        if not rows or rows[-1].day != until:
            rows.append(InsightData(day=until))
        rows[-1].followers = followers
        return rows

    def reply_to_comment(self, *, comment_external_id, post_external_id, text):
        body = self.check(
            self.request("POST", "tweets", json={"text": text, "reply": {"in_reply_to_tweet_id": comment_external_id}})
        )
        return str(body["data"]["id"])

    def hide_comment(self, *, comment_external_id):
        self.check(self.request("PUT", f"tweets/{comment_external_id}/hidden", json={"hidden": True}))
