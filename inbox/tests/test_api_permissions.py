"""API: agents approve drafts; analysts and marketers only read; list queries do not grow."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.models import DraftStatus, ReplyDraft
from inbox.services.conversations import conversation_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(make_inbound):
    inbound = make_inbound(text="Do you ship to Canada?", subject="Shipping")
    conversation = conversation_ingest(inbound=inbound, classify=False)
    return ReplyDraft.objects.create(
        conversation=conversation, inbound=inbound, source="local", text="Yes, we do.", intent="question"
    )


@pytest.mark.parametrize(("role", "status"), [("Agent", 200), ("Analyst", 403), ("Marketer", 403)])
def test_only_agents_may_approve(client, user_in_role, draft, role, status):
    client.force_login(user_in_role(role))
    response = client.post(f"/api/v1/inbox/drafts/{draft.pk}/approve")
    assert response.status_code == status
    draft.refresh_from_db()
    assert (draft.status == DraftStatus.SENT) == (status == 200)
    if status == 403:
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("role", ["Agent", "Analyst", "Marketer"])
def test_every_role_may_read_conversations(client, user_in_role, draft, role):
    client.force_login(user_in_role(role))
    body = client.get("/api/v1/inbox/conversations?status=open&channel=email").json()
    assert body["count"] == 1 and body["results"][0]["subject"] == "Shipping"


def test_edit_then_send_and_reject_with_reason(client, user_in_role, draft, make_inbound):
    client.force_login(user_in_role("Agent"))
    sent = client.post(
        f"/api/v1/inbox/drafts/{draft.pk}/edit", {"text": "Yes! 5 days."}, content_type="application/json"
    )
    assert sent.status_code == 200 and sent.json()["sent_text"] == "Yes! 5 days."
    again = client.post(f"/api/v1/inbox/drafts/{draft.pk}/approve")
    assert again.status_code == 409
    other = make_inbound(text="hmm", subject="x")
    conversation = conversation_ingest(inbound=other, classify=False)
    second = ReplyDraft.objects.create(conversation=conversation, inbound=other, source="local", text="?")
    assert (
        client.post(f"/api/v1/inbox/drafts/{second.pk}/reject", {}, content_type="application/json").status_code == 400
    )
    rejected = client.post(
        f"/api/v1/inbox/drafts/{second.pk}/reject", {"reason": "wrong tone"}, content_type="application/json"
    )
    assert rejected.json()["rejection_reason"] == "wrong tone"


def test_conversation_detail_status_notes_and_search(client, user_in_role, draft):
    client.force_login(user_in_role("Agent"))
    pk = draft.conversation_id
    assert (
        client.post(
            f"/api/v1/inbox/conversations/{pk}/notes", {"text": "VIP"}, content_type="application/json"
        ).status_code
        == 201
    )
    snoozed = client.post(
        f"/api/v1/inbox/conversations/{pk}/status", {"status": "snoozed"}, content_type="application/json"
    )
    assert snoozed.status_code == 400
    assert (
        client.post(
            f"/api/v1/inbox/conversations/{pk}/status", {"status": "resolved"}, content_type="application/json"
        ).json()["status"]
        == "resolved"
    )
    detail = client.get(f"/api/v1/inbox/conversations/{pk}").json()
    assert detail["notes"][0]["text"] == "VIP" and detail["messages"][0]["text"] == "Do you ship to Canada?"
    labelled = client.post(
        f"/api/v1/inbox/conversations/{pk}/labels", {"labels": ["VIP", "shipping"]}, content_type="application/json"
    )
    assert labelled.json()["labels"] == ["shipping", "vip"]
    assert client.get("/api/v1/inbox/conversations?label=vip").json()["count"] == 1
    assert client.get("/api/v1/inbox/conversations?search=canada").json()["count"] == 1
    assert client.get("/api/v1/inbox/conversations?search=nothing-like-it").json()["count"] == 0


def test_list_query_count_does_not_grow_with_page_size(client, user_in_role, make_inbound):
    client.force_login(user_in_role("Agent"))
    for i in range(12):
        conversation_ingest(inbound=make_inbound(sender=f"c{i}@example.com", subject=f"s{i}"), classify=False)

    def queries(size):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/v1/inbox/conversations?page_size={size}").status_code == 200
        return len(ctx)

    assert queries(2) == queries(12)
