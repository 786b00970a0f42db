"""Webhook comment → classification → rule → draft → approval → public reply, on a fake Graph API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from madansara.channels.retry import SEND
from madansara.tests.factories import key_client, make_user
from social.models import CommentRule, CommentStatus, SocialComment, SocialPost
from social.services.comments import comment_replies_flush, comment_reply_send
from social.tests.helpers import deliver_inbound, graph_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(instagram):
    return SocialPost.objects.create(
        account=instagram, external_id="m1", published_at=timezone.now(), url="https://ig/p/m1"
    )


@pytest.fixture
def reply_rule(instagram):
    return CommentRule.objects.create(
        account=instagram,
        name="Shipping questions",
        keywords=["ship"],
        action="reply",
        reply_template="Hi @{{ author }}, yes we ship everywhere in Haiti! Details: {{ post_url }}",
        use_ai_draft=True,
    )


def comment_in(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        deliver_inbound(**kwargs)
    return SocialComment.objects.get(external_id=kwargs["external_id"])


def test_comment_draft_waits_for_approval_then_replies_publicly(
    instagram, post, reply_rule, graph, django_capture_on_commit_callbacks
):
    # given a keyword rule that replies, and no LLM configured (template fallback)
    # when a comment arrives through the channel layer's webhook hand-off
    comment = comment_in(
        django_capture_on_commit_callbacks, text="Do you ship to Jacmel?", external_id="c-100", post_id="m1"
    )
    # then it is classified, matched, drafted and waits for a human
    assert comment.status == CommentStatus.PENDING_APPROVAL
    assert comment.rule == reply_rule and comment.post == post
    assert comment.draft_text == "Hi @rose.boutique, yes we ship everywhere in Haiti! Details: https://ig/p/m1"
    assert comment.draft_source == "template"
    assert not graph.log  # nothing was published
    # when an agent approves it (with an edit) through the API
    graph.expect_request("/v21.0/c-100/replies", method="POST").respond_with_json({"id": "r-900"})
    agent = make_user("Agent")
    client, _ = key_client(agent, ["social:write"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/social/comments/{comment.pk}/approve", {"text": "Yes! We ship to Jacmel."})
    assert response.status_code == 200, response.content
    # then the reply is published on the platform and recorded
    comment.refresh_from_db()
    assert comment.status == CommentStatus.REPLIED
    assert comment.reply_external_id == "r-900" and comment.approved_by == agent
    request, _ = graph.log[-1]
    assert request.form["message"] == "Yes! We ship to Jacmel."
    assert request.headers["Authorization"] == "Bearer ig-token"
    attempt = comment.attempts.get()
    assert (attempt.operation, attempt.outcome, attempt.provider) == ("comment_reply", "success", "instagram")
    assert (attempt.reference, attempt.provider_message_id, attempt.message_id) == ("c-100", "r-900", None)


def test_complaint_always_goes_to_a_human_even_with_auto_send(
    instagram, post, reply_rule, graph, django_capture_on_commit_callbacks
):
    # given an account and rule that allow auto-send
    instagram.auto_send_allowed = True
    instagram.save()
    reply_rule.auto_send = True
    reply_rule.save()
    # when an angry comment matching the rule arrives
    comment = comment_in(
        django_capture_on_commit_callbacks,
        text="You never ship anything, my order never arrived. Terrible!",
        external_id="c-101",
    )
    # then it is flagged for a human, nothing is published
    assert comment.sentiment == "negative"
    assert comment.status == CommentStatus.NEEDS_HUMAN
    assert not graph.log


def test_auto_send_where_policy_allows_and_rate_limit_spaces_replies(
    instagram, post, reply_rule, graph, django_capture_on_commit_callbacks
):
    # given auto-send allowed by the account policy and the rule, at most one reply per 60 s
    instagram.auto_send_allowed = True
    instagram.min_seconds_between_replies = 60
    instagram.save()
    reply_rule.auto_send = True
    reply_rule.use_ai_draft = False
    reply_rule.save()
    graph.expect_request("/v21.0/c-1/replies", method="POST").respond_with_json({"id": "r-1"})
    graph.expect_request("/v21.0/c-2/replies", method="POST").respond_with_json({"id": "r-2"})
    # when two friendly comments arrive in a row
    first = comment_in(django_capture_on_commit_callbacks, text="Do you ship to Cayes?", external_id="c-1", sender="a1")
    second = comment_in(django_capture_on_commit_callbacks, text="Do you ship abroad?", external_id="c-2", sender="a2")
    # then the first is answered at once, the second waits for the account's next free slot
    assert first.status == CommentStatus.REPLIED
    assert second.status == CommentStatus.APPROVED
    assert comment_replies_flush() == 0
    # when the gap has passed, the beat job sends it
    SocialComment.objects.filter(pk=first.pk).update(replied_at=timezone.now() - timedelta(seconds=61))
    assert comment_replies_flush() == 1
    second.refresh_from_db()
    assert second.status == CommentStatus.REPLIED


def test_hourly_budget_caps_replies(instagram, post, graph):
    instagram.max_replies_per_hour = 1
    instagram.min_seconds_between_replies = 0
    instagram.save()
    now = timezone.now()
    SocialComment.objects.create(
        account=instagram, external_id="old", status="replied", replied_at=now - timedelta(minutes=30)
    )
    waiting = SocialComment.objects.create(account=instagram, external_id="new", status="approved", draft_text="Hi")
    assert comment_replies_flush() == 0
    waiting.refresh_from_db()
    assert waiting.status == CommentStatus.APPROVED
    assert not graph.log


def test_spam_is_hidden_by_rule(instagram, post, graph, django_capture_on_commit_callbacks):
    CommentRule.objects.create(account=instagram, name="Spam", intent="spam", action="hide", priority=1)
    graph.expect_request("/v21.0/c-spam", method="POST").respond_with_json({"success": True})
    comment = comment_in(
        django_capture_on_commit_callbacks,
        text="Free followers! check my profile http://spam.example",
        external_id="c-spam",
    )
    assert comment.status == CommentStatus.HIDDEN and comment.hidden_at
    request, _ = graph.log[-1]
    assert request.form["hide"] == "true"


def test_route_to_inbox_rule(instagram, post, graph, django_capture_on_commit_callbacks):
    CommentRule.objects.create(account=instagram, name="Wholesale", keywords=["wholesale"], action="route_inbox")
    comment = comment_in(django_capture_on_commit_callbacks, text="Wholesale prices please", external_id="c-w")
    assert comment.status == CommentStatus.ROUTED


def test_rate_limited_reply_stays_approved_and_pauses_the_account(instagram, post, graph):
    comment = SocialComment.objects.create(
        account=instagram, post=post, external_id="c-429", status="pending_approval", draft_text="Thanks!"
    )
    graph.expect_request("/v21.0/c-429/replies", method="POST").respond_with_json(
        graph_error(4, "Application request limit reached"), status=429, headers={"Retry-After": "90"}
    )
    from social.services.comments import comment_reply_approve

    marketer = make_user("Marketer")
    comment_reply_approve(comment=comment, actor=marketer)
    from social.services.comments import comment_reply_send

    attempt = comment_reply_send(comment=comment)
    comment.refresh_from_db()
    instagram.refresh_from_db()
    assert attempt.outcome == "transient"
    assert comment.status == CommentStatus.APPROVED
    assert instagram.is_rate_limited()


def test_a_transient_reply_failure_waits_the_send_policy_then_gives_up_at_its_attempts(instagram, post, graph):
    # given an approved reply and a platform that keeps answering 503
    comment = SocialComment.objects.create(
        account=instagram, post=post, external_id="c-503", status="approved", draft_text="Thanks!",
        approved_at=timezone.now(),
    )  # fmt: skip
    graph.expect_request("/v21.0/c-503/replies", method="POST").respond_with_data("down", status=503)
    # when the reply is sent
    before = timezone.now()
    attempt = comment_reply_send(comment=comment)
    comment.refresh_from_db()
    # then it waits the send policy's first delay, approved
    assert attempt.outcome == "transient" and comment.status == CommentStatus.APPROVED
    assert before + timedelta(seconds=SEND.base / 2) <= comment.retry_at
    assert comment.retry_at <= timezone.now() + timedelta(seconds=SEND.base)
    # and the beat's flush does not call the platform again before it is due
    assert comment_replies_flush() == 0
    assert len(graph.log) == 1
    # when each retry comes due, the flush retries it until the policy is used up
    for _ in range(SEND.max_attempts + 2):
        SocialComment.objects.filter(pk=comment.pk).update(retry_at=timezone.now() - timedelta(seconds=1))
        comment_replies_flush()
    comment.refresh_from_db()
    # then it failed after exactly the policy's attempts, each recorded
    assert len(graph.log) == SEND.max_attempts
    assert comment.status == CommentStatus.FAILED and "Too many transient errors" in comment.last_error
    assert list(comment.attempts.values_list("outcome", flat=True)) == ["transient"] * SEND.max_attempts


def test_reply_to_deleted_comment_fails_permanently(instagram, post, graph):
    comment = SocialComment.objects.create(
        account=instagram, post=post, external_id="c-gone", status="approved", draft_text="Hi"
    )
    graph.expect_request("/v21.0/c-gone/replies", method="POST").respond_with_json(
        graph_error(100, "Object does not exist", subcode=33), status=400
    )
    from social.services.comments import comment_reply_send

    comment_reply_send(comment=comment)
    comment.refresh_from_db()
    assert comment.status == CommentStatus.FAILED
    assert "deleted" in comment.last_error


def test_approval_needs_the_approve_permission(instagram, post):
    comment = SocialComment.objects.create(
        account=instagram, external_id="c-x", status="pending_approval", draft_text="Hi"
    )
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(make_user("Analyst"))
    assert client.post(f"/api/v1/social/comments/{comment.pk}/approve", {}).status_code == 403
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PENDING_APPROVAL


def test_approving_a_replied_comment_is_a_conflict(instagram, post):
    comment = SocialComment.objects.create(account=instagram, external_id="c-y", status="replied", draft_text="Hi")
    client, _ = key_client(make_user("Agent"), ["social:write"])
    response = client.post(f"/api/v1/social/comments/{comment.pk}/approve", {})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_ai_draft_through_the_llm_adapter(
    instagram, post, reply_rule, settings, httpserver, django_capture_on_commit_callbacks
):
    # given an Anthropic Messages API faked locally
    settings.ANTHROPIC_API_KEY = "sk-test"
    settings.ANTHROPIC_BASE_URL = httpserver.url_for("/anthropic")
    httpserver.expect_request("/anthropic/v1/messages", method="POST").respond_with_json(
        {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "comment_reply",
                         "input": {"reply": "We do! Free shipping to Jacmel this week."}}],
            "stop_reason": "tool_use", "stop_sequence": None, "usage": {"input_tokens": 50, "output_tokens": 12},
        }
    )  # fmt: skip
    # when a matching comment arrives
    comment = comment_in(django_capture_on_commit_callbacks, text="Do you ship to Jacmel?", external_id="c-ai")
    # then the AI draft waits for approval (never auto-sent by default)
    assert comment.draft_source == "ai"
    assert comment.draft_text == "We do! Free shipping to Jacmel this week."
    assert comment.status == CommentStatus.PENDING_APPROVAL


def test_llm_failure_falls_back_to_the_template(
    instagram, post, reply_rule, settings, httpserver, django_capture_on_commit_callbacks
):
    settings.ANTHROPIC_API_KEY = "sk-test"
    settings.ANTHROPIC_BASE_URL = httpserver.url_for("/anthropic")
    httpserver.expect_request("/anthropic/v1/messages").respond_with_json(
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, status=529
    )
    comment = comment_in(django_capture_on_commit_callbacks, text="Do you ship to Jacmel?", external_id="c-ai2")
    assert comment.draft_source == "template"
    assert comment.status == CommentStatus.PENDING_APPROVAL


def test_duplicate_webhook_creates_one_comment(instagram, post, django_capture_on_commit_callbacks):
    comment_in(django_capture_on_commit_callbacks, text="Nice", external_id="c-dup")
    from madansara.channels.models import InboundMessage
    from social.services.comments import comment_ingest_inbound

    comment_ingest_inbound(inbound=InboundMessage.objects.get(external_id="c-dup"))
    assert SocialComment.objects.filter(external_id="c-dup").count() == 1
    from social.models import SocialEngagement

    assert SocialEngagement.objects.filter(external_id="c-dup").count() == 1
