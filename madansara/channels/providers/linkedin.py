"""LinkedIn: messages (partner-only API, one human-approved message at a time), and organisation
pages (LinkedInPages: posts, comments, statistics, public replies). HTTP through providers.http.

rules.window_error refuses any payload that is not human_approved, so the rest of the system
must treat LinkedIn as manual-approval-only (the sandbox applies the same rule).
"""

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote

from django.conf import settings

from madansara.channels.base import (
    CommentData,
    InsightData,
    OutboundPayload,
    PostData,
    Provider,
    ProviderError,
    SendResult,
)
from madansara.channels.models import MessageStatus
from madansara.channels.providers.http import http_request, retry_after_seconds, status_error
from madansara.channels.providers.pages import PagesClient

LINKEDIN_VERSION = "202411"


class LinkedInProvider(Provider):
    name = "linkedin"
    channels = ("linkedin",)
    rate_per_second = 1.0
    burst = 5
    manual_approval_only = True

    def __init__(self, channel: str = "linkedin"):
        self.channel = channel

    @classmethod
    def is_configured(cls) -> bool:
        return bool(settings.LINKEDIN_ACCESS_TOKEN)

    def send(self, payload: OutboundPayload) -> SendResult:
        if not payload.human_approved:
            raise ProviderError(
                "LinkedIn messages must be approved by a human", permanent=True, code="approval_required"
            )
        body = {
            "recipients": [payload.to],
            "subject": payload.subject,
            "body": payload.text,
            "messageType": "MEMBER_TO_MEMBER",
        }
        if payload.context.get("thread_id"):
            body["thread"] = payload.context["thread_id"]
        response = http_request(
            "POST",
            f"{settings.LINKEDIN_API_URL}/messages",
            json=body,
            headers={
                "Authorization": f"Bearer {settings.LINKEDIN_ACCESS_TOKEN}",
                "LinkedIn-Version": LINKEDIN_VERSION,
                "X-Restli-Protocol-Version": "2.0.0",
            },
        )
        if response.status_code >= 400:
            try:
                detail = response.json().get("message", "")
            except ValueError:
                detail = response.text[:200]
            raise status_error(
                response.status_code,
                f"LinkedIn {response.status_code}: {detail}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        provider_id = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id") or ""
        if not provider_id:
            try:
                provider_id = str(response.json().get("id", ""))
            except ValueError:
                provider_id = ""
        return SendResult(provider_message_id=provider_id or f"li-{payload.message_id}", status=MessageStatus.SENT)


PAGE_SIZE = 50


def from_ms(value) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


class LinkedInPages(PagesClient):
    """A LinkedIn organisation page (Community Management API, versioned REST, start/count paging)."""

    platform = "linkedin"
    can_hide = False

    def default_headers(self):
        return super().default_headers() | {"LinkedIn-Version": LINKEDIN_VERSION, "X-Restli-Protocol-Version": "2.0.0"}

    def check(self, response) -> dict:
        body = response.json() if response.content else {}
        if response.status_code == 404 or response.status_code == 410:
            raise ProviderError(body.get("message", "Not found"), permanent=True, code="gone", gone=True)
        if response.status_code in (401, 403):
            raise ProviderError(body.get("message", "Forbidden"), permanent=True, code="auth")
        if response.status_code >= 400:
            code = body.get("serviceErrorCode") or response.status_code
            raise ProviderError(body.get("message", f"HTTP {response.status_code}"), permanent=True, code=str(code))
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
