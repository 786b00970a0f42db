"""A signed Meta webhook, end to end: comment → rule → draft → approval → public reply, and → funnel private reply."""

import hashlib
import hmac
import json

import pytest
from django.utils import timezone

from madansara.channels.models import Message, MessageStatus
from madansara.tests.factories import make_user
from social.models import CommentRule, CommentStatus, FunnelStep, SocialComment, SocialEngagementFunnel, SocialPost
from social.services.comments import comment_reply_approve

pytestmark = pytest.mark.django_db


def signed_comment(client, *, comment_id: str, text: str, media_id: str = "m-1"):
    payload = {
        "object": "instagram",
        "entry": [{
            "id": "17841400000",
            "time": 1764070000,
            "changes": [{"field": "comments", "value": {
                "id": comment_id, "text": text, "from": {"id": "1789", "username": "rose.boutique"},
                "media": {"id": media_id, "media_product_type": "FEED"},
            }}],
        }],
    }  # fmt: skip
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(b"meta-secret", body, hashlib.sha256).hexdigest()
    return client.post("/webhooks/meta", data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)


@pytest.fixture
def meta_secret(settings):
    settings.META_APP_SECRET = "meta-secret"
    settings.META_PAGE_ACCESS_TOKEN = ""  # DMs go through the channel layer's sandbox provider


def test_signed_comment_is_drafted_approved_and_answered(
    client, instagram, graph, meta_secret, django_capture_on_commit_callbacks
):
    SocialPost.objects.create(account=instagram, external_id="m-1", published_at=timezone.now())
    CommentRule.objects.create(
        account=instagram, name="Price", keywords=["price"], reply_template="DM sent, @{{ author }}!"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_comment(client, comment_id="17900001", text="What's the price?").status_code == 200
    comment = SocialComment.objects.get(external_id="17900001")
    assert comment.status == CommentStatus.PENDING_APPROVAL
    assert comment.post.external_id == "m-1" and comment.author_id == "1789"
    assert comment.draft_text == "DM sent, @rose.boutique!"
    graph.expect_request("/v21.0/17900001/replies", method="POST").respond_with_json({"id": "17900002"})
    with django_capture_on_commit_callbacks(execute=True):
        comment_reply_approve(comment=comment, actor=make_user("Agent"))
    comment.refresh_from_db()
    assert comment.status == CommentStatus.REPLIED and comment.reply_external_id == "17900002"


def test_bad_signature_stores_nothing(client, instagram, meta_secret):
    body = b'{"object": "instagram", "entry": []}'
    response = client.post(
        "/webhooks/meta", data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256="sha256=00"
    )
    assert response.status_code in (401, 403)
    assert not SocialComment.objects.exists()


def test_signed_keyword_comment_gets_one_private_reply(
    client, instagram, meta_secret, django_capture_on_commit_callbacks
):
    funnel = SocialEngagementFunnel.objects.create(account=instagram, name="Guide", keywords=["guide"])
    FunnelStep.objects.create(funnel=funnel, position=0, action="send_dm", text="Here is the guide!")
    with django_capture_on_commit_callbacks(execute=True):
        signed_comment(client, comment_id="17900010", text="GUIDE")
    dm = Message.objects.get(context__comment_id="17900010")
    assert dm.status == MessageStatus.SENT and dm.to == "1789" and dm.channel == "instagram"
    # the same webhook delivered again changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        signed_comment(client, comment_id="17900010", text="GUIDE")
    assert Message.objects.filter(context__comment_id="17900010").count() == 1
