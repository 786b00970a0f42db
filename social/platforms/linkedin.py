"""LinkedIn organisation pages (Community Management API, versioned REST, start/count paging)."""

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote

from social.platforms.base import CommentData, InsightData, PlatformClient, PlatformError, PostData

API_VERSION = "202411"
PAGE_SIZE = 50


def from_ms(value) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


class LinkedInClient(PlatformClient):
    platform = "linkedin"
    can_hide = False

    def default_headers(self):
        return super().default_headers() | {"LinkedIn-Version": API_VERSION, "X-Restli-Protocol-Version": "2.0.0"}

    def check(self, response) -> dict:
        body = response.json() if response.content else {}
        if response.status_code == 404 or response.status_code == 410:
            raise PlatformError(body.get("message", "Not found"), permanent=True, code="gone", gone=True)
        if response.status_code in (401, 403):
            raise PlatformError(body.get("message", "Forbidden"), permanent=True, code="auth")
        if response.status_code >= 400:
            code = body.get("serviceErrorCode") or response.status_code
            raise PlatformError(body.get("message", f"HTTP {response.status_code}"), permanent=True, code=str(code))
        return body

    def paged(self, path: str, params: dict):
        start = 0
        while True:
            body = self.check(self.request("GET", path, params={**params, "start": start, "count": PAGE_SIZE}))
            elements = body.get("elements", [])
            yield from elements
            paging = body.get("paging") or {}
            start += len(elements)
            if not elements or ("total" in paging and start >= paging["total"]) or len(elements) < PAGE_SIZE:
                return

    def iter_posts(self, *, since):
        params = {"q": "author", "author": self.account.external_id, "sortBy": "CREATED"}
        for item in self.paged("posts", params):
            published = from_ms(item.get("publishedAt") or item["createdAt"])
            if since and published < since:
                return
            if item.get("lifecycleState") == "DELETED":
                continue
            yield PostData(
                external_id=item["id"],
                published_at=published,
                text=item.get("commentary", ""),
                url=f"https://www.linkedin.com/feed/update/{item['id']}",
            )

    def post_metrics(self, *, post_external_id):
        key = "ugcPosts" if ":ugcPost:" in post_external_id else "shares"
        params = {"q": "organizationalEntity", "organizationalEntity": self.account.external_id, key: post_external_id}
        body = self.check(self.request("GET", "organizationalEntityShareStatistics", params=params))
        stats = (body.get("elements") or [{}])[0].get("totalShareStatistics", {})
        return {
            "likes": stats.get("likeCount", 0),
            "comments_count": stats.get("commentCount", 0),
            "shares": stats.get("shareCount", 0),
            "impressions": stats.get("impressionCount", 0),
            "reach": stats.get("uniqueImpressionsCount", 0),
        }

    def iter_comments(self, *, post_external_id):
        for item in self.paged(f"socialActions/{quote(post_external_id, safe='')}/comments", {}):
            actor = item.get("actor", "")
            if actor == self.account.external_id:
                continue
            yield CommentData(
                external_id=item.get("commentUrn") or item.get("$URN") or str(item["id"]),
                text=(item.get("message") or {}).get("text", ""),
                author_id=actor,
                author_handle=actor.rsplit(":", 1)[-1],
                commented_at=from_ms((item.get("created") or {}).get("time", 0)),
                post_external_id=post_external_id,
                parent_external_id=item.get("parentComment", ""),
            )

    def insights(self, *, since: date, until: date):
        start = int(datetime.combine(since, time(), UTC).timestamp() * 1000)
        end = int(datetime.combine(until + timedelta(days=1), time(), UTC).timestamp() * 1000)
        params = {
            "q": "organizationalEntity",
            "organizationalEntity": self.account.external_id,
            "timeIntervals.timeGranularityType": "DAY",
            "timeIntervals.timeRange.start": start,
            "timeIntervals.timeRange.end": end,
        }
        body = self.check(self.request("GET", "organizationalEntityShareStatistics", params=params))
        rows = []
        for element in body.get("elements", []):
            stats = element.get("totalShareStatistics", {})
            rows.append(
                InsightData(
                    day=from_ms(element["timeRange"]["start"]).date(),
                    impressions=stats.get("impressionCount", 0),
                    reach=stats.get("uniqueImpressionsCount", 0),
                    engagements=stats.get("likeCount", 0) + stats.get("commentCount", 0) + stats.get("shareCount", 0),
                )
            )
        size = self.check(
            self.request(
                "GET",
                f"networkSizes/{quote(self.account.external_id, safe='')}",
                params={"edgeType": "COMPANY_FOLLOWED_BY_COMPANY"},
            )
        )
        rows.sort(key=lambda row: row.day)
        if not rows or rows[-1].day != until:
            rows.append(InsightData(day=until))
        rows[-1].followers = size.get("firstDegreeSize", 0)
        return rows

    def reply_to_comment(self, *, comment_external_id, post_external_id, text):
        payload = {
            "actor": self.account.external_id,
            "object": post_external_id,
            "message": {"text": text},
            "parentComment": comment_external_id,
        }
        response = self.request("POST", f"socialActions/{quote(post_external_id, safe='')}/comments", json=payload)
        body = self.check(response)
        return response.headers.get("x-restli-id") or str(body.get("commentUrn") or body.get("id", ""))
