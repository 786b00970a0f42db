"""The website chat in real headless Chromium: a visitor page (its own origin, the tracker loading
the widget) beside the agents' console. The visitor writes, the message appears in the console
without a reload, the agent approves the draft, the visitor sees the reply within 2 s; offline
capture; CSAT; presence and the refused second reply."""

import shutil
import threading
import time
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from inbox.models import DraftStatus, ReplyDraft
from madansara.channels.models import ChatThread, Message
from madansara.roles import sync_roles
from website.models import ChatWidget, Site

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium"),
    pytest.mark.django_db(transaction=True),
]

VISITOR_PAGE = """<!doctype html><html><head><title>Shop</title>
<script defer src="{api}/static/madansara.min.js" data-site="{key}" data-api="{api}" data-chat></script>
</head><body><h1>The shop</h1><p>Hand-made things.</p></body></html>"""


@contextmanager
def shop_server(tmp_path, html: str):
    """The customer's website: another origin (127.0.0.1:<port>) serving one page."""
    (tmp_path / "index.html").write_text(html)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture
def agents(django_user_model):
    sync_roles()
    made = []
    for name in ("agent", "agent2"):
        user = django_user_model.objects.create_user(username=name, password="pw-123456", is_staff=True)
        user.groups.add(Group.objects.get(name="Agent"))
        made.append(user)
    return made


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-background-networking"]
        )
        yield browser
        browser.close()


def console(browser, base_url, username, path="/admin/inbox/conversation/"):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base_url}/admin/login/?next={path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")
    page.wait_for_selector("#changelist, #thread")
    return page


def visitor(browser, shop_url, **context):
    page = browser.new_context(viewport={"width": 1000, "height": 760}, locale="en-US", **context).new_page()
    page.goto(shop_url)
    page.wait_for_selector("[data-ms-chat=launcher]:visible")
    return page


def visitor_writes(page, text):
    page.fill("[data-ms-chat=composer] textarea", text)
    page.click("[data-ms-chat=send]")
    page.wait_for_selector(f"li.visitor:not(.pending):has-text('{text}')")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def make_site(shop_url, **widget):
    site = Site.objects.create(name="Shop", domain="127.0.0.1", allowed_origins=[shop_url], respect_dnt=False)
    ChatWidget.objects.create(site=site, greeting="Hi! Ask us anything about our shop.", **widget)
    return site


def test_visitor_and_agent_side_by_side(live_server, agents, tmp_path):
    # Given a site with the chat, its page on another origin, and an agent on the conversation queue
    with shop_server(tmp_path, "") as shop_url:
        site = make_site(shop_url, primary_colour="#0f766e")
        (tmp_path / "index.html").write_text(VISITOR_PAGE.format(api=live_server.url, key=site.public_key))
        with chromium() as browser:
            agent = console(browser, live_server.url, "agent")
            agent.evaluate("window.notReloaded = true")
            shop = visitor(browser, shop_url)

            # When the visitor opens the widget and writes
            shop.click("[data-ms-chat=launcher]")
            shop.wait_for_selector("li.greeting:has-text('Ask us anything')")
            visitor_writes(shop, "Do you ship to Canada?")

            # Then the conversation appears in the agent's queue without a reload
            agent.wait_for_selector("#result_list td.field-channel:has-text('Website chat')", timeout=5000)
            assert agent.evaluate("window.notReloaded") is True
            shot(shop, "chat-widget-visitor")

            # When the agent opens it, the visitor writes again: it appears in the open conversation
            agent.click("#result_list th.field-id a")
            agent.wait_for_selector("#thread .in:has-text('Do you ship to Canada?')")
            conversation_url = agent.url
            agent.evaluate("window.notReloaded = true")
            visitor_writes(shop, "To Montreal, I mean.")
            agent.wait_for_selector("#thread .in:has-text('To Montreal, I mean.')", timeout=5000)
            agent.wait_for_selector("#pending-draft", timeout=5000)
            assert agent.evaluate("window.notReloaded") is True
            shot(agent, "chat-console-conversation")

            # When the agent approves the (edited) draft on the review page
            agent.click("#pending-draft")
            agent.wait_for_selector("#draft-text")
            agent.fill("#draft-text", "Yes, we ship to Montreal in 3 days.")
            agent.click("#send-button")
            sent_at = time.monotonic()

            # Then the visitor sees the reply within 2 seconds
            shop.wait_for_selector("li.agent:has-text('Yes, we ship to Montreal in 3 days.')", timeout=2000)
            latency = time.monotonic() - sent_at
            assert latency <= 2.0, latency
            shot(shop, "chat-widget-reply")

            # When the agent resolves the conversation, the visitor is asked for a rating, and gives it
            agent.goto(conversation_url)
            agent.click("input[name=_resolve]")
            shop.wait_for_selector("[data-ms-chat=csat] button[data-score='5']", timeout=5000)
            shot(shop, "chat-widget-csat")
            shop.fill("[data-ms-chat=csat] input[name=comment]", "Quick and clear")
            shop.click("[data-ms-chat=csat] button[data-score='5']")
            shop.wait_for_selector("[data-ms-chat=thanks]")

    thread = ChatThread.objects.get()
    assert (thread.csat_score, thread.csat_comment) == (5, "Quick and clear")
    draft = ReplyDraft.objects.get(status=DraftStatus.SENT)
    assert draft.sent_text == "Yes, we ship to Montreal in 3 days." and draft.decided_by == agents[0]
    assert Message.objects.get(channel="chat").status == "sent"


def test_offline_capture_sends_the_reply_by_email(live_server, agents, tmp_path):
    # Given a site whose chat is outside business hours
    closed = {str(day): [] for day in range(7)}
    with shop_server(tmp_path, "") as shop_url:
        site = make_site(shop_url, business_hours=closed, away_message="We are away. Leave your e-mail.")
        (tmp_path / "index.html").write_text(VISITOR_PAGE.format(api=live_server.url, key=site.public_key))
        with chromium() as browser:
            shop = visitor(browser, shop_url)
            shop.click("[data-ms-chat=launcher]")

            # When the visitor writes and leaves an e-mail in the away form
            shop.wait_for_selector("[data-ms-chat=away]:has-text('We are away')")
            assert shop.inner_text("[data-ms-chat=state]") == "Away"
            visitor_writes(shop, "Can I return a gift?")
            shop.fill("[data-ms-chat=away] input[type=email]", "ana@example.com")
            shop.click("[data-ms-chat=away] button")
            shop.wait_for_selector("li.system:has-text('ana@example.com')")
            shot(shop, "chat-widget-away")
            shop.close()  # and leaves

    # Then the agent's reply goes to that address by e-mail
    ChatThread.objects.update(last_seen_at=None)
    from inbox.services.drafts import draft_send

    draft_send(draft=ReplyDraft.objects.get(status=DraftStatus.PENDING), actor=agents[0], text="Yes, within 30 days.")
    emailed = Message.objects.get(channel="email")
    assert emailed.to == "ana@example.com" and emailed.text.startswith("Yes, within 30 days.")


def test_two_agents_see_each_other_and_the_second_reply_is_refused(live_server, agents, tmp_path):
    # Given a chat conversation open in two agents' consoles
    with shop_server(tmp_path, "") as shop_url:
        site = make_site(shop_url)
        (tmp_path / "index.html").write_text(VISITOR_PAGE.format(api=live_server.url, key=site.public_key))
        with chromium() as browser:
            shop = visitor(browser, shop_url)
            shop.click("[data-ms-chat=launcher]")
            visitor_writes(shop, "Is the blue vase in stock?")
            first = console(browser, live_server.url, "agent")
            first.wait_for_selector("#result_list th.field-id a")
            path = first.get_attribute("#result_list th.field-id a", "href")
            first.goto(live_server.url + path)
            second = console(browser, live_server.url, "agent2", path=path)

            # Then each sees that the other is on it (and typing)
            first.wait_for_selector("#live-notice:has-text('agent2 is viewing')", timeout=5000)
            first.fill("#reply-text", "Yes, ")
            first.type("#reply-text", "two left.")
            second.wait_for_selector("#live-notice:has-text('agent is replying')", timeout=5000)
            shop.wait_for_selector("[data-ms-chat=typing]:visible", timeout=5000)

            # When the first agent sends, the second is warned; their reply to the same message is refused
            second.fill("#reply-text", "Let me check for you.")
            first.click("#reply-button")
            shop.wait_for_selector("li.agent:has-text('Yes, two left.')", timeout=5000)
            second.wait_for_selector("#live-notice.live-warning", timeout=5000)
            shot(second, "chat-console-second-agent")
            second.click("#reply-button")
            second.wait_for_selector(".messagelist .error:has-text('Nothing was sent')")

    assert list(Message.objects.filter(channel="chat").values_list("text", flat=True)) == ["Yes, two left."]


def test_the_widgets_chat_events_reach_the_visitors_stream_for_funnels(live_server, tmp_path):
    """The chat's messages are funnel events: the widget tracks `$chat_message` through the tracker,
    under the same anonymous id the chat thread (and so its attribution touchpoint) carries."""
    from datetime import timedelta

    from django.utils import timezone

    from website.funnels import FunnelSpec, funnel_compute
    from website.models import WebsiteEvent

    desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
    with shop_server(tmp_path, "") as shop_url:
        site = make_site(shop_url)
        (tmp_path / "index.html").write_text(VISITOR_PAGE.format(api=live_server.url, key=site.public_key))
        with chromium() as browser:
            shop = visitor(browser, shop_url, user_agent=desktop)  # a person, not a headless bot
            shop.click("[data-ms-chat=launcher]")
            visitor_writes(shop, "Do you gift-wrap?")
            shop.evaluate("window.ms.flush()")
            shop.wait_for_timeout(1000)
    deadline = time.monotonic() + 10  # the ingest's group commit writes a moment later
    while not WebsiteEvent.objects.filter(name="$chat_message").exists() and time.monotonic() < deadline:
        time.sleep(0.2)

    thread = ChatThread.objects.get()
    assert thread.visitor_id
    assert set(WebsiteEvent.objects.filter(name="$chat_message").values_list("visitor_id", flat=True)) == {
        thread.visitor_id
    }
    now = timezone.now()
    spec = FunnelSpec(
        site_id=site.pk,
        steps=[{"event": "pageview"}, {"event": "$chat_message"}],
        mode="sequential",
        window=timedelta(days=1),
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=1),
    )
    assert [step["count"] for step in funnel_compute(spec).steps] == [1, 1]


def test_the_site_admin_configures_the_chat(live_server, django_user_model, tmp_path):
    # Given a site and an administrator
    site = Site.objects.create(name="Shop", domain="shop.example.com", allowed_origins=["https://shop.example.com"])
    django_user_model.objects.create_superuser(username="admin", password="pw-123456", email="a@example.com")

    # When they switch the chat on with a French greeting, hours and a pre-chat e-mail
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 1600}).new_page()
        page.goto(f"{live_server.url}/admin/login/?next=/admin/website/site/{site.pk}/change/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "pw-123456")
        page.click("input[type=submit]")
        page.click("#chat_widget-group a.add-row, #chat_widget-group .add-row a")
        page.fill("#id_chat_widget-0-greeting", "Hello! Questions about an order?")
        page.check("#chat_widget-group input[value=en]")
        page.check("#chat_widget-group input[value=fr]")
        page.check("#chat_widget-group input[name='chat_widget-0-prechat_fields'][value=email]")
        page.fill("#id_chat_widget-0-translations", '{"fr": {"greeting": "Bonjour ! Une question ?"}}')
        page.fill("#id_chat_widget-0-business_hours", '{"0": [["09:00", "17:00"]], "1": [["09:00", "25:00"]]}')
        page.click("input[name=_continue]")
        page.wait_for_selector(".errornote, .errorlist")
        assert "HH:MM" in page.inner_text("#chat_widget-group")  # 25:00 is refused, with the reason
        page.fill("#id_chat_widget-0-business_hours", '{"0": [["09:00", "17:00"]], "1": [["09:00", "17:00"]]}')
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")
        shot(page, "chat-admin-config")

    # Then the widget is configured, and the snippet asks the tracker for the chat
    widget = ChatWidget.objects.get(site=site)
    assert widget.languages == ["en", "fr"] and widget.prechat_fields == ["email"]
    assert widget.translations["fr"]["greeting"].startswith("Bonjour")
    from website.ingest.endpoint import snippet

    assert "data-chat" in snippet(site, "https://app.example.com")
