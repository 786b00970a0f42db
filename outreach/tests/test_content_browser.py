"""The copy review desk in real headless Chromium, as a marketer uses it: open a newsletter
draft, review a variant for one contact, approve it, and read the results per variant on the
campaign page. Screenshots go to $CONTENT_SCREENSHOTS (default: pytest's tmp dir)."""

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import sync_playwright

from madansara.roles import sync_roles
from outreach.models import TemplateVariant
from outreach.services.composer import content_draft_compose
from outreach.services.copy import arms_from_approved, copy_experiment_start, variant_check
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import NOON, campaign, contact

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium"),
    pytest.mark.django_db(transaction=True),
]
SOURCES = [
    {"title": "Nouvelle carte de printemps", "text": "Six nouveaux plats arrivent le 1er mars. Les herbes viennent "
     "de fermes voisines.", "link": "https://shop.example.com/carte"},
    {"title": "Horaires élargis", "text": "Nous ouvrons désormais à 7 h en semaine, du lundi au vendredi."},
]  # fmt: skip


def test_a_marketer_reviews_a_draft_per_contact_approves_it_and_reads_results(
    live_server, django_user_model, settings, tmp_path
):
    settings.ANTHROPIC_API_KEY = ""
    shots = Path(os.environ.get("CONTENT_SCREENSHOTS", tmp_path))
    sync_roles()
    user = django_user_model.objects.create_user(username="marketer", password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketer"))
    people = [contact(locale="fr", name=name) for name in ("Marie Joseph", "Jean Baptiste", "Rose Pierre")]
    people += [contact(locale="fr") for _ in range(9)]
    camp = campaign(contacts=people)
    camp.name = "Newsletter de printemps"
    camp.save()
    template = camp.steps.get().templates.get()
    draft = content_draft_compose(
        brief="Annoncer la carte de printemps aux habitués", template=template, segment=camp.segment, sources=SOURCES
    )
    variant = draft.variants.order_by("id").first()
    TemplateVariant.objects.filter(pk=variant.pk).update(body="Bonjour {{ contact.first_name }} ! " + variant.body)
    variant.refresh_from_db()
    variant_check(variant=variant)
    people[2].name = ""
    people[2].save()
    variant_check(variant=variant)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-background-networking"]
        )
        page = browser.new_context(viewport={"width": 1280, "height": 1100}).new_page()
        page.goto(f"{live_server.url}/admin/login/?next=/admin/outreach/contentdraft/")
        page.fill("#id_username", "marketer")
        page.fill("#id_password", "pw-123456")
        page.click("input[type=submit]")
        page.wait_for_selector("#result_list")
        page.click("#result_list tbody th a")
        page.wait_for_selector("text=Subject options")
        page.screenshot(path=str(shots / "content-draft.png"), full_page=True)

        page.goto(f"{live_server.url}/admin/outreach/templatevariant/{variant.pk}/preview/")
        page.wait_for_selector("#rendered-text")
        page.select_option("select[name=contact]", str(people[1].pk))
        page.click("#show-contact")
        page.wait_for_selector("#rendered-text:has-text('Bonjour Jean')")
        missing = page.inner_text("#missing-contacts")
        page.screenshot(path=str(shots / "content-review.png"), full_page=True)
        page.fill("input[name=note]", "Relu, conforme à la carte")
        page.click("button[value=approve]")
        page.wait_for_selector("#variant-status:has-text('Approved')")
        browser.close()

    assert f"#{people[2].pk}: contact.first_name" in missing
    variant.refresh_from_db()
    assert (variant.status, variant.approved_by.username, variant.review_note) == (
        "approved", "marketer", "Relu, conforme à la carte",
    )  # fmt: skip

    copy_experiment_start(campaign=camp, arms=arms_from_approved(campaign=camp), key="printemps")
    campaign_plan(campaign=camp, now=NOON)
    outbox_dispatch(once=True, now=NOON)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-background-networking"]
        )
        page = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
        page.goto(f"{live_server.url}/admin/login/?next=/admin/outreach/outreachcampaign/{camp.pk}/change/")
        page.fill("#id_username", "marketer")
        page.fill("#id_password", "pw-123456")
        page.click("input[type=submit]")
        page.wait_for_selector("#variant-results")
        table = page.inner_text("#variant-results")
        page.locator("#variant-results").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "content-campaign.png"), full_page=True)
        browser.close()
    assert "copy-1" in table and variant.key in table and "original" in table
