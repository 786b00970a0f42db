"""Drafts: channel rules, bulk approval of low-risk intents, approval rights in the admin."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Conversation, DraftStatus, ReplyDraft
from inbox.services.conversations import conversation_ingest
from inbox.services.drafts import DraftError, draft_send, drafts_bulk_approve
from madansara.models import AuditEvent

pytestmark = pytest.mark.django_db


def draft_for(make_inbound, *, text="hi", low_risk=False, **kw):
    inbound = make_inbound(text="question?", **kw)
    conversation = conversation_ingest(inbound=inbound, classify=False)
    return ReplyDraft.objects.create(
        conversation=conversation, inbound=inbound, source="local", text=text, low_risk=low_risk
    )


def test_whatsapp_outside_24h_needs_an_approved_template(make_inbound, user_in_role):
    draft = draft_for(make_inbound, channel="whatsapp", sender="+50937000010")
    Conversation.objects.filter(pk=draft.conversation_id).update(last_inbound_at=timezone.now() - timedelta(hours=30))
    draft.refresh_from_db()
    with pytest.raises(DraftError, match="24 h window"):
        draft_send(draft=draft, actor=user_in_role("Agent"))
    draft.whatsapp_template_name = "HX123"
    draft.save()
    sent = draft_send(draft=draft, actor=user_in_role("Agent"))
    assert sent.message.template_name == "HX123"


def test_edit_then_send_keeps_the_original_in_the_audit(make_inbound, user_in_role):
    agent = user_in_role("Agent")
    draft = draft_send(draft=draft_for(make_inbound, text="Original"), actor=agent, text="Edited by me")
    assert draft.edited and draft.message.text.startswith("Edited by me\n\nOn ")
    event = AuditEvent.objects.get(action="inbox.draft.edit_send")
    assert event.data["original"] == "Original" and event.data["sent"] == "Edited by me" and event.actor == agent


def test_users_without_the_permission_cannot_send(make_inbound, user_in_role):
    with pytest.raises(PermissionError):
        draft_send(draft=draft_for(make_inbound), actor=user_in_role("Analyst"))


def test_bulk_approve_sends_only_low_risk_and_never_linkedin(make_inbound, user_in_role):
    safe = draft_for(make_inbound, low_risk=True, sender="a@example.com")
    risky = draft_for(make_inbound, low_risk=False, sender="b@example.com")
    linkedin = draft_for(make_inbound, low_risk=True, channel="linkedin", sender="urn-li-9")
    sent, skipped = drafts_bulk_approve(drafts=ReplyDraft.objects.all(), actor=user_in_role("Agent"))
    assert sent == 1 and len(skipped) == 2
    statuses = {d.pk: d.status for d in ReplyDraft.objects.all()}
    assert statuses == {safe.pk: DraftStatus.SENT, risky.pk: DraftStatus.PENDING, linkedin.pk: DraftStatus.PENDING}


def test_linkedin_reply_goes_out_only_when_a_human_approves(make_inbound, user_in_role):
    draft = draft_send(
        draft=draft_for(make_inbound, channel="linkedin", sender="urn-li-7"), actor=user_in_role("Agent")
    )
    assert draft.message.human_approved and draft.message.status == "sent"


def test_admin_queue_offers_approval_only_to_approvers(client, make_inbound, user_in_role):
    draft_for(make_inbound)
    client.force_login(user_in_role("Analyst"))
    page = client.get("/admin/inbox/replydraft/")
    assert page.status_code == 200 and "approve_selected" not in page.content.decode()
    client.force_login(user_in_role("Agent"))
    assert "approve_selected" in client.get("/admin/inbox/replydraft/").content.decode()


def test_reject_needs_a_reason_and_is_audited(make_inbound, user_in_role, client):
    draft = draft_for(make_inbound)
    client.force_login(user_in_role("Agent"))
    url = f"/admin/inbox/replydraft/{draft.pk}/review/"
    version = ReplyDraft.objects.get(pk=draft.pk).version_token()
    client.post(url, {"text": draft.text, "reason": "", "_reject": "Reject", "version": version})
    draft.refresh_from_db()
    assert draft.status == DraftStatus.PENDING
    client.post(url, {"text": draft.text, "reason": "Too pushy", "_reject": "Reject", "version": version})
    draft.refresh_from_db()
    assert draft.status == DraftStatus.REJECTED and draft.rejection_reason == "Too pushy"
    assert AuditEvent.objects.filter(action="inbox.draft.reject").exists()


def test_response_templates_are_validated_when_saved():
    from django.core.exceptions import ValidationError

    from inbox.models import ResponseTemplate

    ResponseTemplate(name="ok", channel="sms", body="Hi {{ contact.first_name }}, {{ agent.name }} here").full_clean()
    with pytest.raises(ValidationError, match="unknown variable 'order.total'"):
        ResponseTemplate(name="bad", channel="sms", body="Your total is {{ order.total }}").full_clean()
    with pytest.raises(ValidationError, match="syntax error on line 1"):
        ResponseTemplate(name="broken", body="Hi {{ contact.first_name ").full_clean()


def test_admin_lists_breached_conversations(client, make_inbound, user_in_role):
    from inbox.models import Conversation

    conversation = conversation_ingest(inbound=make_inbound(subject="late"), classify=False)
    Conversation.objects.filter(pk=conversation.pk).update(first_response_due=timezone.now() - timedelta(minutes=5))
    conversation_ingest(inbound=make_inbound(sender="other@example.com", subject="fine"), classify=False)
    client.force_login(user_in_role("Agent"))
    page = client.get("/admin/inbox/conversation/?sla=breached").content.decode()
    assert "late" in page and ">fine<" not in page


def test_a_reply_refused_transiently_is_retried_by_the_one_send_task_until_it_gives_up(
    make_inbound, user_in_role, monkeypatch
):
    from madansara.channels.models import AttemptOutcome, MessageStatus
    from madansara.channels.tasks import message_send_task

    # given a reply whose provider keeps answering "try again later", and a send task on its last retry
    monkeypatch.setattr(message_send_task, "max_retries", 0)
    draft = draft_for(make_inbound, sender="fail-transient@example.com")
    # when an agent sends it
    sent = draft_send(draft=draft, actor=user_in_role("Agent"))
    # then channels' send task retried the same message, then failed it for good: never left queued
    message = sent.message
    message.refresh_from_db()
    assert (message.status, message.failure_code) == (MessageStatus.FAILED, "retries_exhausted")
    assert list(message.attempts.values_list("outcome", flat=True)) == [AttemptOutcome.TRANSIENT] * 2
    assert ReplyDraft.objects.get(pk=draft.pk).message_id == message.pk
