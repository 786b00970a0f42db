"""Bulk actions on the review queue report every draft they skip and why (not "6 skipped")."""

import pytest
from django.contrib.messages import get_messages

from inbox.models import DraftStatus, ReplyDraft
from inbox.tests.test_drafts import draft_for

pytestmark = pytest.mark.django_db


def test_bulk_approve_reports_each_skipped_draft_with_its_reason(client, make_inbound, user_in_role):
    # given four selected drafts: one low-risk, one risky, one on LinkedIn and one already sent
    safe = draft_for(make_inbound, low_risk=True, sender="a@example.com")
    risky = draft_for(make_inbound, low_risk=False, sender="b@example.com")
    risky.intent = "complaint"
    risky.save()
    linkedin = draft_for(make_inbound, low_risk=True, channel="linkedin", sender="urn-li-9")
    done = draft_for(make_inbound, low_risk=True, sender="d@example.com")
    ReplyDraft.objects.filter(pk=done.pk).update(status=DraftStatus.SENT)
    client.force_login(user_in_role("Agent"))

    # when the agent runs "Bulk approve low-risk drafts" on them
    response = client.post(
        "/admin/inbox/replydraft/",
        {"action": "bulk_approve_low_risk", "_selected_action": [safe.pk, risky.pk, linkedin.pk, done.pk]},
    )

    # then one is sent and each of the three others is named with why it was skipped
    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"Skipped #{risky.pk}: intent 'complaint' is not low-risk, review it alone" in shown
    assert f"Skipped #{linkedin.pk}: LinkedIn replies need a human approval each" in shown
    assert f"#{done.pk} skipped: already sent." in shown
    assert "1 low-risk reply sent; 3 skipped." in shown
    assert ReplyDraft.objects.get(pk=safe.pk).status == DraftStatus.SENT
    assert ReplyDraft.objects.get(pk=risky.pk).status == DraftStatus.PENDING


def test_approve_selected_names_the_drafts_it_could_not_send(client, make_inbound, user_in_role):
    pending = draft_for(make_inbound, sender="a@example.com")
    rejected = draft_for(make_inbound, sender="b@example.com")
    ReplyDraft.objects.filter(pk=rejected.pk).update(status=DraftStatus.REJECTED)
    client.force_login(user_in_role("Agent"))

    response = client.post(
        "/admin/inbox/replydraft/", {"action": "approve_selected", "_selected_action": [pending.pk, rejected.pk]}
    )

    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"#{rejected.pk} skipped: already rejected." in shown and "1 reply sent." in shown
