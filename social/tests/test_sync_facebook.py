"""Facebook Page sync against a fake Graph API: paged posts, reactions, comments, page insights, deleted posts."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug import Response

from social.models import PlatformInsight, SocialAccount, SocialComment, SocialEngagement, SocialPost, SyncStatus
from social.services.sync import account_sync
from social.tests.helpers import graph_error

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC).replace(microsecond=0)


def ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S+0000")


@pytest.fixture
def page(graph):
    return SocialAccount.objects.create(platform="facebook", name="Page", external_id="PAGE", access_token="page-token")


def serve(graph, *, deleted=()):
    posts = [
        {"id": f"PAGE_{i}", "message": f"Post {i}", "created_time": ts(NOW - timedelta(days=i)),
         "permalink_url": f"https://fb.com/PAGE_{i}", "shares": {"count": i},
         "reactions": {"summary": {"total_count": 10 * i}}, "comments": {"summary": {"total_count": 1}}}
        for i in (1, 2, 3)
    ]  # fmt: skip

    def posts_handler(request):
        if request.args.get("after") == "n2":
            body = {"data": posts[2:], "paging": {}}
        else:
            body = {"data": posts[:2], "paging": {"next": graph.url_for("/v21.0/PAGE/posts") + "?after=n2"}}
        return Response(json.dumps(body), content_type="application/json")

    graph.expect_request("/v21.0/PAGE/posts").respond_with_handler(posts_handler)
    for post in posts:
        pid = post["id"]
        if pid in deleted:
            graph.expect_request(f"/v21.0/{pid}/insights").respond_with_json(
                graph_error(100, "Object does not exist", subcode=33), status=400
            )
            continue
        graph.expect_request(f"/v21.0/{pid}/insights").respond_with_json(
            {"data": [{"name": "post_impressions", "values": [{"value": 300}]},
                      {"name": "post_impressions_unique", "values": [{"value": 250}]}]}
        )  # fmt: skip
        graph.expect_request(f"/v21.0/{pid}/reactions").respond_with_json(
            {"data": [{"id": "fb-user-9", "name": "Carla", "type": "LOVE"}], "paging": {}}
        )
        graph.expect_request(f"/v21.0/{pid}/comments").respond_with_json(
            {"data": [{"id": f"{pid}_c1", "message": "Nice!", "created_time": ts(NOW),
                       "from": {"id": "fb-user-9", "name": "Carla"}}], "paging": {}}
        )  # fmt: skip
    day = NOW.date()
    graph.expect_request("/v21.0/PAGE/insights").respond_with_json(
        {"data": [{"name": name, "period": "day", "values": [{"value": value, "end_time": f"{day}T08:00:00+0000"}]}
                  for name, value in (("page_impressions_unique", 900), ("page_impressions", 1300),
                                      ("page_fans", 2500), ("page_post_engagements", 45))]}
    )  # fmt: skip


def test_facebook_page_sync(page, graph):
    serve(graph)
    run = account_sync(account=page)
    assert run.status == SyncStatus.OK, run.error
    assert SocialPost.objects.filter(account=page).count() == 3
    post = SocialPost.objects.get(external_id="PAGE_2")
    assert (post.likes, post.shares, post.impressions, post.reach) == (20, 2, 300, 250)
    carla = SocialComment.objects.get(external_id="PAGE_1_c1").contact
    assert carla.identities.get(channel="facebook").value == "fb-user-9"
    assert SocialEngagement.objects.filter(kind="like", contact=carla).count() == 3
    insight = PlatformInsight.objects.get(account=page)
    assert (insight.reach, insight.impressions, insight.followers, insight.engagements) == (900, 1300, 2500, 45)
    assert insight.engagement_rate == 0.05


def test_facebook_deleted_post(page, graph):
    serve(graph, deleted=("PAGE_3",))
    run = account_sync(account=page)
    assert run.deleted_posts == 1 and SocialPost.objects.get(external_id="PAGE_3").is_deleted
