"""Instagram sync against a fake Graph API: pagination, rate limits, deleted posts, incremental cursors."""

from datetime import UTC, datetime, timedelta

import pytest
from werkzeug import Response

from social.models import PlatformInsight, SocialComment, SocialEngagement, SocialPost, SyncStatus
from social.services.sync import account_sync
from social.tests.helpers import graph_error

pytestmark = pytest.mark.django_db
IG = "17841400000"


def ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


NOW = datetime.now(UTC).replace(microsecond=0)
MEDIA = [
    {"id": f"m{i}", "caption": f"Post {i}", "media_type": "IMAGE", "permalink": f"https://instagram.com/p/m{i}",
     "timestamp": ts(NOW - timedelta(days=i, hours=1)), "like_count": 10 * i, "comments_count": i}
    for i in range(1, 5)
]  # fmt: skip


def json_response(body, status=200, headers=None):
    import json

    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def serve_media(graph, pages=2):
    """Two pages of media linked by paging.next, like the Graph API."""

    def handler(request):
        assert request.headers["Authorization"] == "Bearer ig-token"
        if request.args.get("after") == "c2":
            return json_response({"data": MEDIA[2:], "paging": {"cursors": {"before": "c2"}}})
        nxt = graph.url_for(f"/v21.0/{IG}/media") + "?after=c2&limit=50"
        return json_response({"data": MEDIA[:2], "paging": {"cursors": {"after": "c2"}, "next": nxt}})

    graph.expect_request(f"/v21.0/{IG}/media").respond_with_handler(handler)


def serve_rest(graph, deleted=("m4",)):
    for item in MEDIA:
        media_id = item["id"]
        if media_id in deleted:
            graph.expect_request(f"/v21.0/{media_id}/insights").respond_with_json(
                graph_error(100, "Unsupported get request. Object does not exist", subcode=33), status=400
            )
            continue
        graph.expect_request(f"/v21.0/{media_id}/insights").respond_with_json(
            {"data": [{"name": "reach", "period": "lifetime", "values": [{"value": 500}]},
                      {"name": "impressions", "period": "lifetime", "values": [{"value": 800}]},
                      {"name": "saved", "period": "lifetime", "values": [{"value": 7}]}]}
        )  # fmt: skip
        comments = [
            {"id": f"{media_id}-c{j}", "text": "Love it!", "timestamp": ts(NOW - timedelta(hours=j)),
             "username": f"fan{j}", "from": {"id": f"9{j}", "username": f"fan{j}"}}
            for j in range(2)
        ]  # fmt: skip
        graph.expect_request(f"/v21.0/{media_id}/comments").respond_with_json({"data": comments, "paging": {}})
    graph.expect_request(f"/v21.0/{IG}/tags").respond_with_json(
        {"data": [{"id": "t1", "caption": "Shopping @brand", "username": "lakay.style", "timestamp": ts(NOW)}]}
    )
    day = NOW.date()
    graph.expect_request(f"/v21.0/{IG}/insights").respond_with_json(
        {"data": [
            {"name": "reach", "period": "day", "values": [{"value": 1200, "end_time": f"{day}T08:00:00+0000"}]},
            {"name": "impressions", "period": "day", "values": [{"value": 2000, "end_time": f"{day}T08:00:00+0000"}]},
            {"name": "follower_count", "period": "day", "values": [{"value": 5400, "end_time": f"{day}T08:00:00+0000"}]},
        ]}
    )  # fmt: skip


def test_sync_follows_pages_and_stores_posts_comments_mentions_insights(instagram, graph):
    # given a Graph API with two pages of media, comments, a mention and daily insights
    serve_media(graph)
    serve_rest(graph, deleted=())
    # when the account syncs
    run = account_sync(account=instagram)
    # then every post of both pages is stored with its metrics
    assert run.status == SyncStatus.OK, run.error
    assert SocialPost.objects.filter(account=instagram).count() == 4
    post = SocialPost.objects.get(external_id="m2")
    assert (post.likes, post.comments_count, post.reach, post.impressions, post.saves) == (20, 2, 500, 800, 7)
    # and comments and the mention, deduplicated engagements linked to contacts by handle
    assert SocialComment.objects.filter(kind="comment").count() == 8
    assert SocialComment.objects.get(external_id="t1").kind == "mention"
    engagement = SocialEngagement.objects.get(external_id="m1-c0")
    # the IG-scoped user id, the same identity the channel layer's webhooks use
    assert engagement.contact.identities.get(channel="instagram").value == "90"
    assert engagement.contact.name == "fan0"
    assert engagement.post == SocialPost.objects.get(external_id="m1")
    # and the day's insights, followers on the account, and the incremental cursors
    insight = PlatformInsight.objects.get(account=instagram)
    assert (insight.reach, insight.impressions, insight.followers) == (1200, 2000, 5400)
    instagram.refresh_from_db()
    assert instagram.followers == 5400
    assert instagram.posts_synced_until == datetime.fromisoformat(MEDIA[0]["timestamp"].replace("+0000", "+00:00"))
    assert instagram.mentions_cursor == ts(NOW)


def test_sync_twice_is_idempotent(instagram, graph):
    serve_media(graph)
    serve_rest(graph, deleted=())
    account_sync(account=instagram)
    # when the same data is synced again
    run = account_sync(account=instagram)
    # then nothing is duplicated
    assert run.status == SyncStatus.OK
    assert SocialPost.objects.count() == 4
    assert SocialEngagement.objects.filter(kind="comment").count() == 8
    assert run.comments == 0


def test_deleted_post_is_marked_and_sync_goes_on(instagram, graph):
    # given a post the Graph API says no longer exists (code 100, subcode 33)
    serve_media(graph)
    serve_rest(graph, deleted=("m4",))
    # when syncing
    run = account_sync(account=instagram)
    # then it is marked deleted and the rest synced
    assert run.status == SyncStatus.OK
    assert run.deleted_posts == 1
    assert SocialPost.objects.get(external_id="m4").is_deleted
    assert not SocialPost.objects.get(external_id="m3").is_deleted
    assert SocialComment.objects.filter(post__external_id="m3").count() == 2


def test_rate_limit_stops_the_run_and_keeps_the_cursor(instagram, graph):
    # given the platform answers 429 with Retry-After
    graph.expect_request(f"/v21.0/{IG}/media").respond_with_json(
        graph_error(4, "Application request limit reached"), status=429, headers={"Retry-After": "120"}
    )
    before = datetime.now(UTC)
    # when syncing
    run = account_sync(account=instagram)
    # then the run is rate-limited, the account paused for Retry-After, the watermark untouched
    assert run.status == SyncStatus.RATE_LIMITED
    instagram.refresh_from_db()
    assert instagram.posts_synced_until is None
    assert before + timedelta(seconds=115) < instagram.retry_after_until < before + timedelta(seconds=130)
    from social.services.sync import accounts_due_for_sync

    assert instagram.pk not in accounts_due_for_sync()


def test_graph_rate_limit_error_code_in_a_400_is_transient(instagram, graph):
    # given Graph's "too many calls" error code 17 inside an HTTP 400
    graph.expect_request(f"/v21.0/{IG}/media").respond_with_json(
        graph_error(17, "User request limit reached"), status=400
    )
    run = account_sync(account=instagram)
    assert run.status == SyncStatus.RATE_LIMITED


def test_invalid_token_fails_the_run(instagram, graph):
    graph.expect_request(f"/v21.0/{IG}/media").respond_with_json(
        graph_error(190, "Invalid OAuth access token"), status=400
    )
    run = account_sync(account=instagram)
    assert run.status == SyncStatus.FAILED
    assert "190" not in run.error or "auth" in run.error


def test_incremental_sync_stops_at_the_watermark(instagram, graph):
    # given a previous complete sync up to the newest post
    instagram.posts_synced_until = datetime.fromisoformat(MEDIA[0]["timestamp"].replace("+0000", "+00:00"))
    instagram.save()
    calls = []

    def handler(request):
        calls.append(request.args.get("after"))
        nxt = graph.url_for(f"/v21.0/{IG}/media") + "?after=c2"
        return json_response({"data": [MEDIA[0], MEDIA[2]], "paging": {"next": nxt}})

    graph.expect_request(f"/v21.0/{IG}/media").respond_with_handler(handler)
    serve_rest(graph, deleted=())
    # when syncing again
    account_sync(account=instagram)
    # then the second page (older than the watermark minus a day of overlap) is never fetched
    assert calls == [None]
