"""Public replies and hiding on X and LinkedIn (wire formats), and the beat declarations."""

import json

import pytest

from social.models import CommentStatus, SocialAccount, SocialComment, SocialPost
from social.services.comments import comment_hide, comment_reply_send

pytestmark = pytest.mark.django_db


def test_x_reply_and_hide_wire_format(settings, httpserver):
    settings.X_API_URL = httpserver.url_for("/2")
    account = SocialAccount.objects.create(platform="x", name="X", external_id="42", access_token="x-tok")
    comment = SocialComment.objects.create(account=account, external_id="2001", status="approved", draft_text="Thanks!")
    httpserver.expect_request("/2/tweets", method="POST").respond_with_json(
        {"data": {"id": "5001", "text": "Thanks!"}}, status=201
    )
    httpserver.expect_request("/2/tweets/2002/hidden", method="PUT").respond_with_json({"data": {"hidden": True}})
    comment_reply_send(comment=comment)
    comment.refresh_from_db()
    assert comment.status == CommentStatus.REPLIED and comment.reply_external_id == "5001"
    sent = json.loads(httpserver.log[0][0].data)
    assert sent == {"text": "Thanks!", "reply": {"in_reply_to_tweet_id": "2001"}}
    assert httpserver.log[0][0].headers["Authorization"] == "Bearer x-tok"
    spam = SocialComment.objects.create(account=account, external_id="2002")
    comment_hide(comment=spam)
    spam.refresh_from_db()
    assert spam.status == CommentStatus.HIDDEN
    assert json.loads(httpserver.log[1][0].data) == {"hidden": True}


def test_linkedin_reply_is_a_nested_comment_and_hiding_is_unsupported(settings, httpserver):
    settings.LINKEDIN_API_URL = httpserver.url_for("/rest")
    org = "urn:li:organization:1"
    account = SocialAccount.objects.create(platform="linkedin", name="Li", external_id=org, access_token="li")
    from django.utils import timezone

    post = SocialPost.objects.create(account=account, external_id="urn:li:share:9", published_at=timezone.now())
    comment = SocialComment.objects.create(
        account=account,
        post=post,
        external_id="urn:li:comment:(urn:li:share:9,1)",
        status="approved",
        draft_text="Merci",
    )
    httpserver.expect_request("/rest/socialActions/urn:li:share:9/comments", method="POST").respond_with_json(
        {}, status=201, headers={"x-restli-id": "urn:li:comment:(urn:li:share:9,2)"}
    )
    comment_reply_send(comment=comment)
    comment.refresh_from_db()
    assert comment.reply_external_id == "urn:li:comment:(urn:li:share:9,2)"
    body = json.loads(httpserver.log[0][0].data)
    assert (
        body["actor"] == org and body["parentComment"] == comment.external_id and body["message"] == {"text": "Merci"}
    )
    spam = SocialComment.objects.create(account=account, external_id="urn:li:comment:(x,3)")
    attempt = comment_hide(comment=spam)
    assert attempt.outcome == "permanent" and attempt.error_code == "unsupported"


def test_beat_jobs_point_at_real_tasks():
    from celery import current_app

    import social.tasks  # noqa: F401
    from madansara.celery import app  # noqa: F401  (registers the tasks)
    from social.schedules import SCHEDULES

    for name, schedule in SCHEDULES.items():
        assert schedule.task in current_app.tasks, name


def test_scheduled_score_task_runs(db):
    from social.tasks import scores_recompute_task

    assert scores_recompute_task.delay().get() == {"scores": 0, "upserted": 0, "demoted": 0}
