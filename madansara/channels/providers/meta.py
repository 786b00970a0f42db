"""Meta: Facebook Messenger and Instagram DMs through the Graph Send API, and Instagram accounts
and Facebook Pages (posts, comments, mentions, insights, public replies, hiding) through the
Graph API. One error classification for both; HTTP through providers.http.

Windows are checked in rules.window_error; outside 24 h a human-approved reply goes out with
the HUMAN_AGENT tag (7 days). A `comment_id` in the context makes it a private reply to that
comment (Instagram/Facebook allow one per comment, within 7 days).
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings

from madansara.channels import rules
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
from madansara.channels.providers.http import http_request, retry_after_seconds
from madansara.channels.providers.pages import PagesClient

RATE_LIMIT_CODES = {4, 17, 32, 613, 80001, 80002, 80006}
AUTH_CODES = {102, 190}
PAGE_LIMIT = 50
# An application-level limit of the Graph API (not a 429 with Retry-After) clears within the hour.
PAGES_RATE_LIMIT_WAIT = 3600.0
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
        return SendResult(provider_message_id=data.get("message_id", ""), status=MessageStatus.SENT, raw=data)


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


def parse_time(value: str) -> datetime:
    """Graph timestamps look like 2026-11-24T08:00:00+0000."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)


class GraphPages(PagesClient):
    """An Instagram account or a Facebook Page through the Graph API (cursor pagination)."""

    def check(self, response) -> dict:
        """The JSON body, or the Graph error classified."""
        body = response.json() if response.content else {}
        error = body.get("error") if isinstance(body, dict) else None
        if response.status_code < 400 and not error:
            return body
        error = error or {}
        code, subcode = error.get("code"), error.get("error_subcode")
        message = error.get("message", f"HTTP {response.status_code}")
        if code in RATE_LIMIT_CODES:
            raise ProviderError(message, permanent=False, code=str(code), retry_after=PAGES_RATE_LIMIT_WAIT)
        if response.status_code == 404 or (code == 100 and subcode == 33):
            raise ProviderError(message, permanent=True, code="gone", gone=True)
        if code in AUTH_CODES:
            raise ProviderError(message, permanent=True, code="auth")
        raise ProviderError(message, permanent=True, code=str(code or response.status_code))

    def paged(self, path: str, params: dict) -> Iterator[dict]:
        """Every item of a Graph edge, following paging.next."""
        url, query, seen = path, {**params, "limit": PAGE_LIMIT}, set()
        while url and url not in seen:  # a repeated cursor would loop forever
            seen.add(url)
            body = self.check(self.request("GET", url, params=query))
            yield from body.get("data", [])
            url, query = (body.get("paging") or {}).get("next"), None

    def reply_to_comment(self, *, comment_external_id: str, post_external_id: str, text: str) -> str:
        edge = "replies" if self.platform == "instagram" else "comments"
        body = self.check(self.request("POST", f"{comment_external_id}/{edge}", data={"message": text}))
        return str(body["id"])


class InstagramPages(GraphPages):
    platform = "instagram"

    def iter_posts(self, *, since):
        fields = "id,caption,media_type,permalink,timestamp,like_count,comments_count"
        for item in self.paged(f"{self.account.external_id}/media", {"fields": fields}):
            published = parse_time(item["timestamp"])
            if since and published < since:
                return  # newest first: the rest was synced before
            yield PostData(
                external_id=item["id"],
                published_at=published,
                text=item.get("caption", ""),
                url=item.get("permalink", ""),
                media_type=item.get("media_type", ""),
                metrics={"likes": item.get("like_count", 0), "comments_count": item.get("comments_count", 0)},
            )

    def post_metrics(self, *, post_external_id):
        body = self.check(
            self.request("GET", f"{post_external_id}/insights", params={"metric": "reach,impressions,saved,shares"})
        )
        names = {"reach": "reach", "impressions": "impressions", "saved": "saves", "shares": "shares"}
        return {names[m["name"]]: m["values"][0]["value"] for m in body.get("data", []) if m["name"] in names}

    def iter_comments(self, *, post_external_id):
        fields = "id,text,timestamp,username,from,parent_id"
        for item in self.paged(f"{post_external_id}/comments", {"fields": fields}):
            author = item.get("from") or {}
            yield CommentData(
                external_id=item["id"],
                text=item.get("text", ""),
                author_id=str(author.get("id", "")),
                author_handle=item.get("username") or author.get("username", ""),
                commented_at=parse_time(item["timestamp"]),
                post_external_id=post_external_id,
                parent_external_id=item.get("parent_id", ""),
                kind="reply" if item.get("parent_id") else "comment",
            )

    def iter_mentions(self, *, cursor):
        since = parse_time(cursor) if cursor else None
        fields = "id,caption,username,timestamp"
        for item in self.paged(f"{self.account.external_id}/tags", {"fields": fields}):
            at = parse_time(item["timestamp"])
            if since and at <= since:
                return
            yield CommentData(
                external_id=item["id"],
                text=item.get("caption", ""),
                author_id=item.get("username", ""),
                author_handle=item.get("username", ""),
                commented_at=at,
                kind="mention",
            )

    def insights(self, *, since: date, until: date):
        params = {
            "metric": "reach,impressions,follower_count",
            "period": "day",
            "since": int(datetime.combine(since, time(), UTC).timestamp()),
            "until": int(datetime.combine(until + timedelta(days=1), time(), UTC).timestamp()),
        }
        body = self.check(self.request("GET", f"{self.account.external_id}/insights", params=params))
        days: dict[date, InsightData] = {}
        field_of = {"reach": "reach", "impressions": "impressions", "follower_count": "followers"}
        for metric in body.get("data", []):
            for value in metric.get("values", []):
                # end_time is the end of the day measured
                day = (parse_time(value["end_time"]) - timedelta(seconds=1)).date()
                row = days.setdefault(day, InsightData(day=day))
                setattr(row, field_of[metric["name"]], int(value.get("value") or 0))
        return sorted(days.values(), key=lambda row: row.day)

    def hide_comment(self, *, comment_external_id):
        self.check(self.request("POST", comment_external_id, data={"hide": "true"}))


class FacebookPages(GraphPages):
    platform = "facebook"

    def iter_posts(self, *, since):
        fields = (
            "id,message,created_time,permalink_url,shares,reactions.summary(total_count),comments.summary(total_count)"
        )
        params = {"fields": fields}
        if since:
            params["since"] = int(since.timestamp())
        for item in self.paged(f"{self.account.external_id}/posts", params):
            yield PostData(
                external_id=item["id"],
                published_at=parse_time(item["created_time"]),
                text=item.get("message", ""),
                url=item.get("permalink_url", ""),
                metrics={
                    "likes": ((item.get("reactions") or {}).get("summary") or {}).get("total_count", 0),
                    "comments_count": ((item.get("comments") or {}).get("summary") or {}).get("total_count", 0),
                    "shares": (item.get("shares") or {}).get("count", 0),
                },
            )

    def post_metrics(self, *, post_external_id):
        body = self.check(
            self.request(
                "GET", f"{post_external_id}/insights", params={"metric": "post_impressions,post_impressions_unique"}
            )
        )
        names = {"post_impressions": "impressions", "post_impressions_unique": "reach"}
        return {names[m["name"]]: m["values"][0]["value"] for m in body.get("data", []) if m["name"] in names}

    def iter_engagers(self, *, post_external_id):
        for item in self.paged(f"{post_external_id}/reactions", {"fields": "id,name,type"}):
            yield EngagerData(kind="like", author_id=str(item["id"]), author_handle=item.get("name", ""))

    def iter_comments(self, *, post_external_id):
        params = {"fields": "id,message,created_time,from,parent", "filter": "stream"}
        for item in self.paged(f"{post_external_id}/comments", params):
            author = item.get("from") or {}
            parent = (item.get("parent") or {}).get("id", "")
            yield CommentData(
                external_id=item["id"],
                text=item.get("message", ""),
                author_id=str(author.get("id", "")),
                author_handle=author.get("name", ""),
                commented_at=parse_time(item["created_time"]),
                post_external_id=post_external_id,
                parent_external_id=parent,
                kind="reply" if parent else "comment",
            )

    def insights(self, *, since, until):
        params = {
            "metric": "page_impressions_unique,page_impressions,page_fans,page_post_engagements",
            "period": "day",
            "since": since.isoformat(),
            "until": (until + timedelta(days=1)).isoformat(),
        }
        body = self.check(self.request("GET", f"{self.account.external_id}/insights", params=params))
        field_of = {
            "page_impressions_unique": "reach",
            "page_impressions": "impressions",
            "page_fans": "followers",
            "page_post_engagements": "engagements",
        }
        days: dict[date, InsightData] = {}
        for metric in body.get("data", []):
            for value in metric.get("values", []):
                day = (parse_time(value["end_time"]) - timedelta(seconds=1)).date()
                row = days.setdefault(day, InsightData(day=day))
                setattr(row, field_of[metric["name"]], int(value.get("value") or 0))
        return sorted(days.values(), key=lambda row: row.day)

    def hide_comment(self, *, comment_external_id):
        self.check(self.request("POST", comment_external_id, data={"is_hidden": "true"}))
