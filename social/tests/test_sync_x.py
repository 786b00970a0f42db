"""X sync against a fake API v2: next_token pages, since_id mentions, 429 + x-rate-limit-reset, deleted posts."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from social.models import SocialAccount, SocialComment, SocialEngagement, SocialPost, SyncStatus
from social.services.sync import account_sync

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def tweet(i, hours):
    return {
        "id": str(1000 + i),
        "text": f"Tweet {i}",
        "created_at": iso(NOW - timedelta(hours=hours)),
        "author_id": "42",
        "public_metrics": {"retweet_count": i, "reply_count": 1, "like_count": 5 * i, "quote_count": 0,
                           "impression_count": 100 * i, "bookmark_count": 0},
    }  # fmt: skip


@pytest.fixture
def x_account(settings, httpserver):
    settings.X_API_URL = httpserver.url_for("/2")
    return SocialAccount.objects.create(
        platform="x", name="Brand X", external_id="42", handle="brand", access_token="x-tok"
    )


def serve(httpserver, *, deleted=()):
    def timeline(request):
        import json

        from werkzeug import Response

        if request.args.get("pagination_token") == "p2":
            body = {"data": [tweet(3, 30)], "meta": {"result_count": 1}}
        else:
            body = {"data": [tweet(1, 2), tweet(2, 5)], "meta": {"result_count": 2, "next_token": "p2"}}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/2/users/42/tweets").respond_with_handler(timeline)
    for i in (1, 2, 3):
        tid = str(1000 + i)
        if tid in deleted:
            httpserver.expect_request(f"/2/tweets/{tid}").respond_with_json(
                {"errors": [{"value": tid, "detail": f"Could not find tweet with id: [{tid}].", "title": "Not Found Error",
                             "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
            )  # fmt: skip
        else:
            httpserver.expect_request(f"/2/tweets/{tid}").respond_with_json({"data": tweet(i, 1)})
    import re

    httpserver.expect_request(re.compile(r"^/2/tweets/\d+/liking_users$")).respond_with_json(
        {"data": [{"id": "77", "username": "Jean_B", "public_metrics": {"followers_count": 900}}], "meta": {}}
    )
    httpserver.expect_request(re.compile(r"^/2/tweets/\d+/retweeted_by$")).respond_with_json(
        {"data": [{"id": "78", "username": "marie", "public_metrics": {"followers_count": 12000}}], "meta": {}}
    )
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        {
            "data": [{"id": "2001", "text": "Great thread", "author_id": "77", "created_at": iso(NOW),
                      "conversation_id": "1001"}],
            "includes": {"users": [{"id": "77", "username": "Jean_B", "public_metrics": {"followers_count": 900}}]},
            "meta": {"result_count": 1},
        }
    )  # fmt: skip
    httpserver.expect_request("/2/users/42/mentions").respond_with_json(
        {
            "data": [{"id": "3005", "text": "@brand love it", "author_id": "78", "created_at": iso(NOW)},
                     {"id": "3002", "text": "@brand hi", "author_id": "78", "created_at": iso(NOW)}],
            "includes": {"users": [{"id": "78", "username": "marie", "public_metrics": {"followers_count": 12000}}]},
            "meta": {"result_count": 2, "newest_id": "3005"},
        }
    )  # fmt: skip
    httpserver.expect_request("/2/users/42").respond_with_json(
        {"data": {"id": "42", "username": "brand", "public_metrics": {"followers_count": 3100}}}
    )


def test_x_sync_pages_mentions_and_followers(x_account, httpserver):
    serve(httpserver)
    run = account_sync(account=x_account)
    assert run.status == SyncStatus.OK, run.error
    # both timeline pages are stored
    assert set(SocialPost.objects.values_list("external_id", flat=True)) == {"1001", "1002", "1003"}
    # replies found by conversation search carry the author's handle and reach
    reply = SocialComment.objects.get(external_id="2001")
    assert reply.author_handle == "Jean_B" and reply.post.external_id == "1001"
    assert reply.contact.identities.get(channel="x").value == "jean_b"
    # likes and retweets become engagements of the people who made them, once per post and person
    share = SocialEngagement.objects.get(kind="share", post__external_id="1001")
    assert share.author_handle == "marie" and share.author_followers == 12000
    assert SocialEngagement.objects.filter(kind="like").count() == 3
    assert SocialEngagement.objects.filter(kind="like", contact=reply.contact).count() == 3
    account_sync(account=x_account)
    assert SocialEngagement.objects.filter(kind__in=["like", "share"]).count() == 6
    # mentions move the since_id cursor to the newest id
    x_account.refresh_from_db()
    assert x_account.mentions_cursor == "3005"
    assert x_account.followers == 3100


def test_x_mentions_use_since_id(x_account, httpserver):
    x_account.mentions_cursor = "3001"
    x_account.save()
    serve(httpserver)
    account_sync(account=x_account)
    mention_requests = [r for r, _ in httpserver.log if r.path == "/2/users/42/mentions"]
    assert mention_requests[0].args["since_id"] == "3001"


def test_x_deleted_post_is_marked(x_account, httpserver):
    serve(httpserver, deleted=("1002",))
    run = account_sync(account=x_account)
    assert run.deleted_posts == 1
    assert SocialPost.objects.get(external_id="1002").is_deleted


def test_x_429_uses_rate_limit_reset(x_account, httpserver):
    reset = int(time.time()) + 600
    httpserver.expect_request("/2/users/42/tweets").respond_with_json(
        {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        status=429,
        headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
    )
    run = account_sync(account=x_account)
    assert run.status == SyncStatus.RATE_LIMITED
    x_account.refresh_from_db()
    assert abs(x_account.retry_after_until.timestamp() - reset) < 5
