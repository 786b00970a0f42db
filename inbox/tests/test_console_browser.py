"""The review desk in real headless Chromium, as agents use it: what is sent is what the
reviewer saw (edits included), a stale page is refused, and the keyboard alone clears a queue."""

import shutil
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group

from inbox.models import DraftStatus, ReplyDraft
from inbox.services.conversations import conversation_ingest
from madansara.roles import sync_roles

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def agents(django_user_model):
    sync_roles()
    made = []
    for name in ("agent", "agent2"):
        user = django_user_model.objects.create_user(username=name, password="pw-123456", is_staff=True)
        user.groups.add(Group.objects.get(name="Agent"))
        made.append(user)
    return made


@pytest.fixture
def pending_draft(make_inbound):
    def make(text="Do you ship to Canada?", reply="Yes, we ship to Canada.", sender="ana@example.com"):
        inbound = make_inbound(text=text, subject="Shipping", sender=sender)
        conversation = conversation_ingest(inbound=inbound, classify=False)
        return ReplyDraft.objects.create(
            conversation=conversation, inbound=inbound, source="local", text=reply, intent="question"
        )

    return make


@contextmanager
def chromium(base_url):
    """Chromium with `login(username)` giving a logged-in page at the review queue. Playwright
    runs an event loop: make ORM calls before entering or after leaving, never inside."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-background-networking"]
        )

        def login(username):
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto(f"{base_url}/admin/login/?next=/admin/inbox/replydraft/")
            page.fill("#id_username", username)
            page.fill("#id_password", "pw-123456")
            page.click("input[type=submit]")
            page.wait_for_selector("#result_list, .paginator")
            return page

        yield login
        browser.close()


def test_edit_then_the_primary_button_sends_the_edit(live_server, agents, pending_draft):
    # Given a pending draft in the queue
    draft = pending_draft()

    # When the agent opens it, edits the text and clicks the one primary button
    with chromium(live_server.url) as login:
        page = login("agent")
        queue = page.content()
        page.click("a.review-link")
        page.wait_for_selector("#draft-text")
        message = page.inner_text("#message")
        shown = page.input_value("#draft-text")
        page.fill("#draft-text", "Yes, we ship to Canada in 3 to 5 days.")
        page.click("#send-button")
        page.wait_for_selector("text=Reply #")
        after = page.content()

    # Then the queue and the page showed the message, and the edit (not the AI text) was sent
    assert "Do you ship to Canada?" in queue and "Do you ship to Canada?" in message
    assert shown == "Yes, we ship to Canada."
    assert "sent (edited)" in after
    draft.refresh_from_db()
    assert draft.status == DraftStatus.SENT and draft.decided_by == agents[0]
    assert draft.sent_text == "Yes, we ship to Canada in 3 to 5 days." and draft.edited
    assert draft.text == "Yes, we ship to Canada."  # the AI's text is kept for learning
    assert draft.message.text.startswith("Yes, we ship to Canada in 3 to 5 days.")


def test_a_second_agents_stale_page_is_refused(live_server, agents, pending_draft):
    # Given two agents with the same draft open
    draft = pending_draft()
    url = f"{live_server.url}/admin/inbox/replydraft/{draft.pk}/review/"
    with chromium(live_server.url) as login:
        first, second = login("agent"), login("agent2")
        first.goto(url)
        second.goto(url)

        # When the first sends, then the second (whose page is now stale) sends an edit
        first.click("#send-button")
        first.wait_for_selector("text=Reply #")
        second.fill("#draft-text", "A different answer")
        second.click("#send-button")
        second.wait_for_selector(".messagelist")
        refusal = second.inner_text(".messagelist")
        kept = second.input_value("#draft-text")

    # Then the second is refused with a clear message and only one reply went out
    assert "Nothing was sent" in refusal and "already sent by agent" in refusal
    assert kept == "A different answer"  # the second agent's work is not lost
    draft.refresh_from_db()
    assert draft.status == DraftStatus.SENT and draft.decided_by == agents[0]
    assert draft.sent_text == "Yes, we ship to Canada."
    assert draft.conversation.entries.filter(direction="out").count() == 1


def test_five_drafts_approved_with_the_keyboard_alone(live_server, agents, pending_draft):
    # Given five pending drafts from five people
    drafts = [pending_draft(text=f"Question {n}?", reply=f"Answer {n}.", sender=f"p{n}@example.com") for n in range(5)]

    # When the agent opens the queue and only presses keys: o (open), then a (send) five times
    with chromium(live_server.url) as login:
        page = login("agent")
        with page.expect_navigation():
            page.keyboard.press("o")
        for _ in range(5):
            page.wait_for_selector("#send-button")
            with page.expect_navigation():
                page.keyboard.press("a")
        page.wait_for_selector("#result_list, .paginator")
        final_url = page.url

    # Then all five were sent as drafted, and the desk came back to the (empty) queue
    assert final_url.rstrip("/").endswith("/admin/inbox/replydraft")
    for draft in drafts:
        draft.refresh_from_db()
        assert draft.status == DraftStatus.SENT and not draft.edited
