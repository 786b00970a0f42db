"""X (Twitter) API v2: timelines with next_token/since_id, conversation search, hide replies."""

from collections import defaultdict
from datetime import UTC, datetime

from social.platforms.base import CommentData, EngagerData, InsightData, PlatformClient, PlatformError, PostData

NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
TWEET_FIELDS = "created_at,public_metrics,conversation_id,in_reply_to_user_id,author_id"
USER_FIELDS = "username,public_metrics"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class XClient(PlatformClient):
    platform = "x"

    def check(self, response) -> dict:
        body = response.json() if response.content else {}
        if response.status_code in (401, 403):
            raise PlatformError(body.get("detail") or body.get("title") or "Forbidden", permanent=True, code="auth")
        if response.status_code == 404:
            raise PlatformError(body.get("detail", "Not found"), permanent=True, code="gone", gone=True)
        if response.status_code >= 400:
            raise PlatformError(body.get("detail", f"HTTP {response.status_code}"), permanent=True, code="bad_request")
        errors = body.get("errors") or []
        if "data" not in body and any(e.get("type") == NOT_FOUND for e in errors):
            raise PlatformError(errors[0].get("detail", "Not found"), permanent=True, code="gone", gone=True)
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
