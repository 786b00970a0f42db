"""The social API: scopes, write-only tokens, lists without N+1, funnels with steps and stats."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from madansara.contacts.models import Contact
from madansara.tests.factories import key_client, make_user
from social.models import PlatformInsight, SocialAccount, SocialAdvocate, SocialComment, SocialPost

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer_client():
    client, _ = key_client(make_user("Marketer"), ["social:write"])
    return client


def test_access_token_is_write_only(marketer_client):
    response = marketer_client.post(
        "/api/v1/social/accounts",
        {"platform": "instagram", "name": "IG", "external_id": "ig-9", "access_token": "secret-token-123"},
    )
    assert response.status_code == 201, response.content
    assert "access_token" not in response.json() and response.json()["has_own_token"] is True
    assert SocialAccount.objects.get(external_id="ig-9").access_token == "secret-token-123"
    listing = marketer_client.get("/api/v1/social/accounts")
    assert "secret-token-123" not in listing.content.decode()


def test_key_without_social_scope_is_refused():
    client, _ = key_client(make_user("Marketer"), ["outreach:read"])
    response = client.get("/api/v1/social/posts")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_posts_list_with_metrics_has_constant_queries(marketer_client):
    account = SocialAccount.objects.create(platform="instagram", name="IG", external_id="ig-1")
    for i in range(3):
        SocialPost.objects.create(
            account=account, external_id=f"p{i}", published_at=timezone.now(), likes=10, reach=100
        )
    marketer_client.get("/api/v1/social/posts")  # warm-up: the key's last_used_at update
    with CaptureQueriesContext(connection) as few:
        marketer_client.get("/api/v1/social/posts?platform=instagram")
    for i in range(3, 12):
        SocialPost.objects.create(
            account=account, external_id=f"p{i}", published_at=timezone.now(), likes=10, reach=100
        )
    with CaptureQueriesContext(connection) as many:
        response = marketer_client.get("/api/v1/social/posts?platform=instagram")
    body = response.json()
    assert body["count"] == 12
    assert body["results"][0]["engagement_rate"] == 0.1 and body["results"][0]["platform"] == "instagram"
    assert len(many.captured_queries) == len(few.captured_queries)


def test_comments_filter_by_handling_state(marketer_client):
    account = SocialAccount.objects.create(platform="instagram", name="IG", external_id="ig-1")
    SocialComment.objects.create(account=account, external_id="a", status="pending_approval", draft_text="Hi")
    SocialComment.objects.create(account=account, external_id="b", status="replied")
    body = marketer_client.get("/api/v1/social/comments?status=pending_approval").json()
    assert [c["external_id"] for c in body["results"]] == ["a"]
    assert body["results"][0]["draft_text"] == "Hi"


def test_funnel_create_with_steps_and_validation(marketer_client):
    account = SocialAccount.objects.create(platform="instagram", name="IG", external_id="ig-1")
    payload = {
        "account": account.pk,
        "name": "Guide",
        "trigger": "comment_keyword",
        "keywords": ["guide"],
        "steps": [
            {"position": 0, "action": "ask_email", "text": "Your email?"},
            {"position": 1, "action": "send_link", "text": "{{ link }}", "link": "https://ms.example/g"},
        ],
    }
    response = marketer_client.post("/api/v1/social/funnels", payload, format="json")
    assert response.status_code == 201, response.content
    body = marketer_client.get(f"/api/v1/social/funnels/{response.json()['id']}").json()
    assert [s["action"] for s in body["steps"]] == ["ask_email", "send_link"]
    assert body["triggered"] == 0
    bad = marketer_client.post("/api/v1/social/funnels", payload | {"keywords": []}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "validation_error"


def test_advocates_review_list_and_enrol(marketer_client):
    contact = Contact.objects.create(name="Fan")
    advocate = SocialAdvocate.objects.create(contact=contact, score=30, tier="advocate")
    SocialAdvocate.objects.create(contact=Contact.objects.create(name="Small"), score=9, tier="rising")
    body = marketer_client.get("/api/v1/social/advocates?tier=advocate").json()
    assert [a["contact_name"] for a in body["results"]] == ["Fan"]
    response = marketer_client.post(f"/api/v1/social/advocates/{advocate.pk}/enrol", {"tag": "vip-advocates"})
    assert response.status_code == 200
    assert response.json()["review_status"] == "enrolled"
    assert contact.tags.filter(name="vip-advocates").exists()


def test_insights_over_time(marketer_client):
    account = SocialAccount.objects.create(platform="instagram", name="IG", external_id="ig-1")
    today = timezone.now().date()
    for offset in range(3):
        PlatformInsight.objects.create(
            account=account, day=today - timezone.timedelta(days=offset),
            reach=1000, impressions=1500, followers=500 + offset, engagements=50,
        )  # fmt: skip
    body = marketer_client.get(
        f"/api/v1/social/insights?account={account.pk}&since={today - timezone.timedelta(days=1)}"
    ).json()
    assert [row["day"] for row in body["results"]] == [str(today - timezone.timedelta(days=1)), str(today)]
    assert body["results"][0]["engagement_rate"] == 0.05
