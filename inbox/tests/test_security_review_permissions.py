"""#22 hole 3, replayed: read-only roles must not decide drafts or reassign conversations in the
admin. Before the fix the review view checked only the view permission, so an analyst's POST
rejected a draft and reassigned its conversation."""

import pytest
from django.contrib import admin

from inbox.models import DraftStatus, ReplyDraft
from inbox.services.conversations import conversation_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(make_inbound):
    inbound = make_inbound(text="Where is my order?")
    conversation = conversation_ingest(inbound=inbound, classify=False)
    made = ReplyDraft.objects.create(conversation=conversation, inbound=inbound, source="local", text="On its way.")
    return ReplyDraft.objects.select_related("conversation").get(pk=made.pk)


@pytest.mark.parametrize("role", ["Analyst", "Marketer"])
def test_a_read_only_role_cannot_reject_a_draft(client, draft, user_in_role, role):
    client.force_login(user_in_role(role))
    url = f"/admin/inbox/replydraft/{draft.pk}/review/"
    assert client.get(url).status_code == 200  # they may look

    response = client.post(url, {"_reject": "Reject", "reason": "I say so", "version": draft.version_token()})

    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == DraftStatus.PENDING and draft.rejection_reason == ""


@pytest.mark.parametrize("role", ["Analyst", "Marketer"])
def test_a_read_only_role_cannot_reassign_a_conversation(client, draft, user_in_role, role):
    agent = user_in_role("Agent")
    client.force_login(user_in_role(role))

    response = client.post(f"/admin/inbox/replydraft/{draft.pk}/review/", {"_reassign": "1", "assignee": agent.pk})

    assert response.status_code == 403
    draft.conversation.refresh_from_db()
    assert draft.conversation.assignee_id is None


@pytest.mark.parametrize("role", ["Analyst", "Marketer"])
def test_a_read_only_role_cannot_send_or_regenerate(client, draft, user_in_role, role):
    client.force_login(user_in_role(role))
    url = f"/admin/inbox/replydraft/{draft.pk}/review/"
    for button in ("_send", "_regenerate"):
        response = client.post(url, {button: "1", "text": "mine", "instruction": "x", "version": draft.version_token()})
        assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == DraftStatus.PENDING and ReplyDraft.objects.count() == 1


def test_a_read_only_role_cannot_run_conversation_actions(client, draft, user_in_role):
    client.force_login(user_in_role("Analyst"))
    response = client.post(
        "/admin/inbox/conversation/",
        {"action": "resolve", "_selected_action": [draft.conversation_id], "index": 0},
    )
    assert response.status_code in (200, 302)
    draft.conversation.refresh_from_db()
    assert draft.conversation.status == "open"


def test_the_agent_still_decides(client, draft, user_in_role):
    client.force_login(user_in_role("Agent"))
    response = client.post(
        f"/admin/inbox/replydraft/{draft.pk}/review/",
        {"_reject": "Reject", "reason": "Wrong order number", "version": draft.version_token()},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == DraftStatus.REJECTED


def test_no_admin_action_is_offered_to_a_view_only_role(rf, user_in_role):
    """Every admin action on the site declares the permission it needs: an analyst, who may only
    look (and manage their own API keys), is offered none."""
    analyst = user_in_role("Analyst")
    offered = {}
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label == "madansara":
            continue
        request = rf.get("/admin/")
        request.user = analyst
        if not model_admin.has_view_or_change_permission(request):
            continue  # the whole page is refused (403)
        names = list(model_admin.get_actions(request))
        if names:
            offered[model._meta.label] = names
    assert offered == {}
