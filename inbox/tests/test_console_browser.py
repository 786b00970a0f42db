"""The review console in real headless Chromium: log in, open the queue, approve, see it sent."""

import shutil

import pytest

from inbox.models import DraftStatus, ReplyDraft
from inbox.services.conversations import conversation_ingest

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium"),
]


def approve_in_browser(*, base_url: str, draft_pk: int) -> dict:
    """Drive Chromium through the console; no ORM calls in here (Playwright runs an event loop)."""
    from playwright.sync_api import sync_playwright

    seen = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-background-networking"]
        )
        page = browser.new_page()
        page.goto(f"{base_url}/admin/login/?next=/admin/inbox/replydraft/")
        page.fill("#id_username", "agent")
        page.fill("#id_password", "pw-123456")
        page.click("input[type=submit]")
        page.wait_for_selector(f"text=Review #{draft_pk}")
        seen["queue"] = page.content()
        page.click(f"text=Review #{draft_pk}")
        page.wait_for_selector("#draft")
        seen["message"] = page.inner_text("#message")
        seen["draft"] = page.input_value("#draft-text")
        page.click("input[name=_approve]")
        page.wait_for_selector("text=Reply sent")
        seen["after"] = page.content()
        browser.close()
    return seen


@pytest.mark.django_db(transaction=True)
def test_agent_approves_a_draft_and_sees_it_sent(live_server, make_inbound, django_user_model):
    from django.contrib.auth.models import Group

    from madansara.roles import sync_roles

    # Given an agent and a pending draft answering a customer's question
    sync_roles()
    agent = django_user_model.objects.create_user(username="agent", password="pw-123456", is_staff=True)
    agent.groups.add(Group.objects.get(name="Agent"))
    inbound = make_inbound(text="Do you ship to Canada?", subject="Shipping")
    conversation = conversation_ingest(inbound=inbound, classify=False)
    draft = ReplyDraft.objects.create(
        conversation=conversation, inbound=inbound, source="local", text="Yes, we ship to Canada.", intent="question"
    )

    # When the agent logs in, opens the review queue and approves the draft
    seen = approve_in_browser(base_url=live_server.url, draft_pk=draft.pk)

    # Then the queue showed the message, the review page showed it beside the draft, and it was sent
    assert "Do you ship to Canada?" in seen["queue"]
    assert "Do you ship to Canada?" in seen["message"]
    assert seen["draft"] == "Yes, we ship to Canada."
    assert "Reply sent" in seen["after"]
    draft.refresh_from_db()
    assert draft.status == DraftStatus.SENT and draft.decided_by == agent
    assert draft.message.status == "sent"
