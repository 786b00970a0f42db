"""The console in headless Chromium at 1280 px, as each demo role logs in: their home renders with
its cards, and neither the home nor the review queue scrolls sideways (every queue column in view)."""

import shutil

import pytest
from django.contrib.auth.models import Group

from inbox.models import ReplyDraft
from inbox.services.conversations import conversation_ingest
from madansara.roles import sync_roles

CHROMIUM = "/usr/bin/chromium"
WIDTH = 1280
ROLES = {"boss": "Admin", "marketer": "Marketer", "agent": "Agent", "analyst": "Analyst"}
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def people(django_user_model):
    sync_roles()
    for username, role in ROLES.items():
        user = django_user_model.objects.create_user(
            username=username, password="pw-123456", is_staff=True, is_superuser=role == "Admin"
        )
        user.groups.add(Group.objects.get(name=role))


@pytest.fixture
def queue(make_inbound):
    for n in range(3):
        inbound = make_inbound(
            text=f"My order {n} never arrived and I want a refund, or I will see a lawyer about it. " * 3,
            subject="Where is my order?",
            sender=f"customer{n}@example.com",
        )
        conversation = conversation_ingest(inbound=inbound, classify=False)
        ReplyDraft.objects.create(
            conversation=conversation, inbound=inbound, source="local", text="We are sorry. " * 20, intent="complaint"
        )


def browse(base_url: str) -> dict:
    """Each role's home and the agent's queue; no ORM calls in here (Playwright runs an event loop)."""
    from playwright.sync_api import sync_playwright

    seen = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-background-networking"]
        )
        for username in ROLES:
            page = browser.new_context(viewport={"width": WIDTH, "height": 900}).new_page()
            page.goto(f"{base_url}/admin/login/?next=/admin/")
            page.fill("#id_username", username)
            page.fill("#id_password", "pw-123456")
            page.click("input[type=submit]")
            page.wait_for_selector("#content h1")
            seen[username] = {
                "title": page.inner_text("#content h1"),
                "cards": page.locator(".home-card h2").all_inner_texts(),
                "width": page.evaluate("document.documentElement.scrollWidth"),
            }
            if username == "agent":
                page.goto(f"{base_url}/admin/inbox/replydraft/")
                page.wait_for_selector("#result_list")
                seen["queue"] = {
                    "width": page.evaluate("document.documentElement.scrollWidth"),
                    "columns": {
                        name: page.locator(f"#result_list th.column-{name}").bounding_box()
                        for name in ("queue_item", "sla_countdown", "assignee")
                    },
                    "rows": page.locator("#result_list tbody tr").count(),
                    "shortcuts": page.locator("text=keyboard").count() + page.locator("kbd").count(),
                }
        browser.close()
    return seen


def test_each_role_home_and_the_queue_fit_1280_px(live_server, people, queue):
    seen = browse(live_server.url)

    assert seen["boss"]["title"] == "Admin home" and "My queue" in seen["boss"]["cards"]
    assert seen["marketer"]["title"] == "Marketer home" and "Running campaigns" in seen["marketer"]["cards"]
    assert seen["agent"]["title"] == "Agent home" and "SLA breaches" in seen["agent"]["cards"]
    assert seen["analyst"]["title"] == "Analyst home" and seen["analyst"]["cards"]
    for username in ROLES:
        assert seen[username]["width"] <= WIDTH, username  # no sideways scrolling
    queue = seen["queue"]
    assert queue["width"] <= WIDTH and queue["rows"] == 3
    for name, box in queue["columns"].items():
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, name
    assert queue["shortcuts"] > 0
