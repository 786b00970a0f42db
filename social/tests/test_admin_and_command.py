"""Admin pages (charts rendered server-side) and the sync_social command on the sandbox platform."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from madansara.channels.models import DeliveryAttempt
from social.models import PlatformInsight, SocialAccount, SocialComment, SocialPost

pytestmark = pytest.mark.django_db


def test_sync_social_backfills_the_sandbox_with_progress(sandbox_account, django_capture_on_commit_callbacks):
    out = StringIO()
    since = (timezone.now() - timedelta(days=20)).strftime("%Y-%m-%d")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sync_social", "--platform", "sandbox", "--since", since, stdout=out)
    text = out.getvalue()
    assert "posts synced" in text and "ok: 6 posts" in text
    assert SocialPost.objects.filter(account=sandbox_account).count() == 6
    assert SocialComment.objects.filter(account=sandbox_account).count() >= 6
    assert PlatformInsight.objects.filter(account=sandbox_account).count() >= 20
    sandbox_account.refresh_from_db()
    assert sandbox_account.posts_synced_until is not None and sandbox_account.followers > 0


def test_zero_config_sync_creates_the_sandbox_account(db, django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sync_social", stdout=out)
    assert "created the sandbox account" in out.getvalue()
    assert SocialPost.objects.filter(account__platform="sandbox").exists()


def test_sync_social_rejects_a_bad_date(sandbox_account):
    with pytest.raises(CommandError, match="--since"):
        call_command("sync_social", "--since", "yesterday", stdout=StringIO())


def test_account_without_a_token_uses_the_sandbox(db, django_capture_on_commit_callbacks):
    account = SocialAccount.objects.create(platform="instagram", name="No token", external_id="ig-x")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sync_social", "--account", str(account.pk), stdout=StringIO())
    assert SocialPost.objects.filter(account=account).exists()


def test_admin_pages_render_with_an_inline_svg_chart(admin_client, sandbox_account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sync_social", stdout=StringIO())
    for model in ("socialaccount", "socialpost", "socialcomment", "socialengagement", "platforminsight",
                  "socialengagementfunnel", "funnelrun", "socialadvocate", "commentrule", "engagementweight",
                  "socialsyncrun", "privatereply"):  # fmt: skip
        assert admin_client.get(f"/admin/social/{model}/").status_code == 200, model
    page = admin_client.get(f"/admin/social/socialaccount/{sandbox_account.pk}/change/").content.decode()
    assert "<svg" in page and "<polyline" in page
    assert "cdn" not in page.lower()


def test_admin_never_shows_the_token_back(admin_client):
    account = SocialAccount.objects.create(platform="x", name="X", external_id="x-1", access_token="very-secret-token")
    page = admin_client.get(f"/admin/social/socialaccount/{account.pk}/change/").content.decode()
    assert "very-secret-token" not in page
    # saving the form with the token left blank keeps it
    data = {
        "platform": "x", "name": "X renamed", "external_id": "x-1", "handle": "", "access_token": "",
        "is_active": "on", "max_replies_per_hour": 20, "min_seconds_between_replies": 45, "mentions_cursor": "",
    }  # fmt: skip
    response = admin_client.post(f"/admin/social/socialaccount/{account.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    account.refresh_from_db()
    assert account.name == "X renamed" and account.access_token == "very-secret-token"


def test_a_comments_admin_page_lists_its_platform_calls_and_attempts_filter_by_operation(admin_client, sandbox_account):
    # given two comments, one hidden after a failed try, and a message send
    spam = SocialComment.objects.create(account=sandbox_account, external_id="sp-1", text="buy followers")
    other = SocialComment.objects.create(account=sandbox_account, external_id="ok-1", text="nice")
    for comment, code in ((spam, "net_down"), (spam, ""), (other, "other_code")):
        DeliveryAttempt.objects.create(
            operation="comment_hide", target=comment, reference=comment.external_id, provider="sandbox",
            outcome="transient" if code else "success", error_code=code,
        )  # fmt: skip
    # when an admin opens the spam comment
    page = admin_client.get(reverse("admin:social_socialcomment_change", args=[spam.pk])).content.decode()
    # then its two calls are listed, not the other comment's
    assert "net_down" in page and "other_code" not in page
    assert page.count("Hide a comment") >= 2
    # and the attempts list filters by operation
    url = reverse("admin:channels_deliveryattempt_changelist")
    listed = admin_client.get(url, {"operation__exact": "comment_hide"})
    assert listed.status_code == 200 and len(listed.context["cl"].result_list) == 3
    assert not admin_client.get(url, {"operation__exact": "send"}).context["cl"].result_list
