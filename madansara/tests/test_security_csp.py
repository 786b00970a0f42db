"""Security: the console is served under a Content Security Policy (Django's CSP middleware).

Issue #22: the console had no CSP, so one injected <script> in any rendered field would run with
an admin's session. Every console page now carries a policy that allows scripts from our origin
or with the response's nonce only, and no page needs an inline script or handler to work.
"""

import re
import shutil
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from inbox.models import ReplyDraft
from inbox.services.conversations import conversation_ingest
from madansara.channels.models import InboundMessage
from madansara.contacts.services import contact_get_or_create_by_identity
from website.models import Site

CHROMIUM = "/usr/bin/chromium"
NONCE = re.compile(r"'nonce-([^']+)'")


class Scripts(HTMLParser):
    """Inline scripts (no src, executable type) and inline event handlers of a page."""

    def __init__(self):
        super().__init__()
        self.inline, self.handlers = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [name for name in attrs if name.startswith("on")]
        if (
            tag == "script"
            and "src" not in attrs
            and attrs.get("type", "text/javascript") in ("text/javascript", "module")
        ):
            self.inline.append(attrs.get("nonce"))


def script_policy(response) -> str:
    header = response.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in header.split(";") if " " in part.strip())
    return directives.get("script-src", "")


def console_urls() -> list[str]:
    """The console's index, every model's list and add page (where adding is allowed) and the API docs."""
    urls = ["/admin/", "/admin/password_change/", "/api/docs/", "/api/redoc/"]
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(_superuser_request()):
            urls.append(reverse("admin:{}_{}_add".format(*info)))
    return urls


def _superuser_request():
    from django.contrib.auth import get_user_model

    request = RequestFactory().get("/")
    request.user = get_user_model().objects.filter(is_superuser=True).first()
    return request


@pytest.fixture
def console_data(db):
    contact, identity, _ = contact_get_or_create_by_identity(channel="email", value="ana@example.com")
    inbound = InboundMessage.objects.create(
        channel="email", contact=contact, identity=identity, sender=identity.value, external_id="ext-1", text="Hi?"
    )
    conversation = conversation_ingest(inbound=inbound, classify=False)
    draft = ReplyDraft.objects.create(
        conversation=conversation, inbound=inbound, source="local", text="Yes.", intent="question"
    )
    site = Site.objects.create(name="Shop", domain="shop.example.com")
    return {"draft": draft, "site": site, "contact": contact}


def custom_urls(data) -> list[str]:
    return [
        f"/admin/inbox/replydraft/{data['draft'].pk}/review/",
        f"/admin/inbox/replydraft/{data['draft'].pk}/change/",
        f"/admin/website/site/{data['site'].pk}/dashboard/",
        f"/admin/website/site/{data['site'].pk}/change/",
        reverse("admin:abtesting_abtest_calculator"),
        reverse("admin:conversion_attribution"),
        reverse("admin:conversion_contact_journey", args=[data["contact"].pk]),
    ]


@pytest.mark.django_db
def test_every_console_page_has_a_strict_script_policy_and_no_inline_script(admin_client, console_data):
    for url in console_urls() + custom_urls(console_data):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        policy = script_policy(response)
        assert policy.startswith("'self'"), (url, response.headers.get("Content-Security-Policy"))
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
        page = Scripts()
        page.feed(response.content.decode())
        nonce = NONCE.search(policy)
        assert all(n is not None and nonce and n == nonce.group(1) for n in page.inline), url
        assert page.handlers == [], (url, page.handlers)


@pytest.mark.django_db
def test_the_login_page_has_the_policy_and_frames_are_refused(client):
    response = client.get("/admin/login/")

    header = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in header and "object-src 'none'" in header
    assert script_policy(response).startswith("'self'")


VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));
"""


def browse_console(*, base_url: str, draft_pk: int) -> dict:
    """Chromium through the console under the policy; no ORM calls in here (Playwright runs an event loop)."""
    from playwright.sync_api import sync_playwright

    seen = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-background-networking"]
        )
        page = browser.new_page()
        page.add_init_script(VIOLATIONS)
        violations = []

        def visit(url):
            page.goto(base_url + url)
            page.wait_for_load_state("load")
            violations.extend(page.evaluate("window.__cspViolations"))

        visit("/admin/login/?next=/admin/")
        page.fill("#id_username", "boss")
        page.fill("#id_password", "pw-123456")
        page.click("input[type=submit]")
        page.wait_for_selector("#content")  # any console home (role homes replace the index)
        visit("/admin/contacts/contact/")
        page.check("#action-toggle")  # the admin's actions.js
        seen["all_selected"] = page.is_checked("input.action-select")
        visit("/admin/django_celery_beat/periodictask/add/")  # the nonce'd inline script hides this row
        seen["crontab_translation_hidden"] = not page.is_visible(".field-crontab_translation")
        visit(f"/admin/inbox/replydraft/{draft_pk}/review/")
        page.click("button[data-insert^='template-']")  # inbox/console.js
        seen["draft_text"] = page.input_value("#draft-text")
        visit("/api/docs/")
        page.wait_for_selector(".swagger-ui .info .title", timeout=120_000)  # the schema is generated on first use
        seen["docs_title"] = page.inner_text(".swagger-ui .info .title")
        violations.extend(page.evaluate("window.__cspViolations"))
        seen["violations"] = violations
        browser.close()
    return seen


@pytest.mark.browser
@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium")
@pytest.mark.django_db(transaction=True)
def test_the_console_works_in_chromium_under_the_policy(live_server, console_data, django_user_model):
    from inbox.models import ResponseTemplate

    django_user_model.objects.create_superuser(username="boss", password="pw-123456")
    ResponseTemplate.objects.create(name="Shipping", body="We ship to Canada.", intent="question", is_approved=True)

    seen = browse_console(base_url=live_server.url, draft_pk=console_data["draft"].pk)

    assert seen["violations"] == []
    assert seen["all_selected"] is True
    assert seen["crontab_translation_hidden"] is True
    assert seen["draft_text"].endswith("We ship to Canada.")
    assert "Madan Sara API" in seen["docs_title"]
