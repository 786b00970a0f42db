"""LinkedIn sync against a fake versioned REST API: start/count paging, 429 Retry-After, deleted posts."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug import Response

from madansara.channels.providers.linkedin import PAGE_SIZE
from social.models import PlatformInsight, SocialAccount, SocialComment, SocialPost, SyncStatus
from social.services.sync import account_sync

pytestmark = pytest.mark.django_db
ORG = "urn:li:organization:5515715"
NOW_MS = int(datetime.now(UTC).timestamp() * 1000)


def post(i):
    return {"id": f"urn:li:share:{i}", "commentary": f"Post {i}", "createdAt": NOW_MS - i * 3_600_000,
            "publishedAt": NOW_MS - i * 3_600_000, "lifecycleState": "PUBLISHED", "author": ORG}  # fmt: skip


@pytest.fixture
def linkedin(settings, httpserver):
    settings.LINKEDIN_API_URL = httpserver.url_for("/rest")
    return SocialAccount.objects.create(platform="linkedin", name="Brand Li", external_id=ORG, access_token="li-tok")


def serve(httpserver, *, deleted=()):
    posts = [post(i) for i in range(1, PAGE_SIZE + 3)]  # more than one page

    def posts_handler(request):
        assert request.headers["LinkedIn-Version"] and request.headers["X-Restli-Protocol-Version"] == "2.0.0"
        start, count = int(request.args["start"]), int(request.args["count"])
        body = {
            "elements": posts[start : start + count],
            "paging": {"start": start, "count": count, "total": len(posts)},
        }
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/rest/posts").respond_with_handler(posts_handler)

    def stats_handler(request):
        if "timeIntervals.timeGranularityType" in request.args:
            day_ms = NOW_MS - NOW_MS % 86_400_000
            body = {
                "elements": [
                    {
                        "timeRange": {"start": day_ms, "end": day_ms + 86_400_000},
                        "totalShareStatistics": {
                            "impressionCount": 900,
                            "uniqueImpressionsCount": 700,
                            "likeCount": 20,
                            "commentCount": 3,
                            "shareCount": 2,
                        },
                    }
                ]
            }
        else:
            body = {
                "elements": [
                    {
                        "totalShareStatistics": {
                            "impressionCount": 100,
                            "uniqueImpressionsCount": 80,
                            "likeCount": 9,
                            "commentCount": 1,
                            "shareCount": 1,
                        }
                    }
                ]
            }
        return Response(json.dumps(body), content_type="application/json")  # fmt: skip

    httpserver.expect_request("/rest/organizationalEntityShareStatistics").respond_with_handler(stats_handler)

    def comments_handler(request):
        urn = request.path.split("/")[3]
        if urn in deleted:
            return Response(
                json.dumps({"status": 404, "message": "Not found"}), status=404, content_type="application/json"
            )
        body = {"elements": [{"id": "1", "commentUrn": f"urn:li:comment:({urn},1)", "actor": "urn:li:person:abc",
                              "message": {"text": "Congrats!"}, "created": {"time": NOW_MS}}],
                "paging": {"start": 0, "count": 50, "total": 1}}  # fmt: skip
        return Response(json.dumps(body), content_type="application/json")

    import re

    httpserver.expect_request(re.compile(r"^/rest/socialActions/.+/comments$")).respond_with_handler(comments_handler)
    httpserver.expect_request(re.compile(r"^/rest/networkSizes/.+$")).respond_with_json({"firstDegreeSize": 4321})


def test_linkedin_sync_pages_through_start_count(linkedin, httpserver):
    serve(httpserver)
    run = account_sync(account=linkedin)
    assert run.status == SyncStatus.OK, run.error
    assert SocialPost.objects.count() == PAGE_SIZE + 2
    post1 = SocialPost.objects.get(external_id="urn:li:share:1")
    assert (post1.likes, post1.reach, post1.impressions) == (9, 80, 100)
    assert SocialComment.objects.filter(post=post1).get().author_id == "urn:li:person:abc"
    insight = PlatformInsight.objects.get(account=linkedin)
    assert (insight.impressions, insight.reach, insight.engagements, insight.followers) == (900, 700, 25, 4321)


def test_linkedin_deleted_post_is_marked(linkedin, httpserver):
    serve(httpserver, deleted=("urn%3Ali%3Ashare%3A2", "urn:li:share:2"))
    run = account_sync(account=linkedin)
    assert run.status == SyncStatus.OK
    assert SocialPost.objects.get(external_id="urn:li:share:2").is_deleted


def test_linkedin_429_pauses_the_account(linkedin, httpserver):
    httpserver.expect_request("/rest/posts").respond_with_json(
        {"status": 429, "message": "Resource level throttle limit"}, status=429, headers={"Retry-After": "30"}
    )
    run = account_sync(account=linkedin)
    assert run.status == SyncStatus.RATE_LIMITED
    linkedin.refresh_from_db()
    assert linkedin.retry_after_until > datetime.now(UTC) + timedelta(seconds=20)
