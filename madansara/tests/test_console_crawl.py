"""The console as each demo role sees it: every admin changelist, add page and one change page
answers below 500, and a page the role table (madansara.roles.ROLE_RULES) forbids is a 403."""

import io

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from madansara.roles import ROLE_AGENT, ROLE_ANALYST, ROLE_MARKETER, role_allows

pytestmark = pytest.mark.django_db

DEMO_USERS = {"admin": None, "marketer": ROLE_MARKETER, "agent": ROLE_AGENT, "analyst": ROLE_ANALYST}


@pytest.fixture
def demo(settings):
    settings.ANTHROPIC_API_KEY = ""
    call_command("seed_demo", stdout=io.StringIO())


def admin_pages():
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        obj = model._default_manager.order_by("pk").first()
        yield model, "view", reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        yield model, "add", reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        if obj is not None:
            yield model, "view", reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def test_every_admin_page_as_each_demo_role(demo):
    """One seeded workspace, crawled as admin, marketer, agent and analyst (one test: seeding
    the demo is the expensive part)."""
    errors, wrongly_open = [], []
    for username, role in DEMO_USERS.items():
        client = Client(raise_request_exception=False)
        client.force_login(get_user_model().objects.get(username=username))
        for model, verb, url in admin_pages():
            response = client.get(url)
            if response.status_code >= 500:
                errors.append(f"{username}: {response.status_code} {url}")
            opts = model._meta
            if role is None or opts.app_label == "auth" or role_allows(role, opts.app_label, opts.model_name, verb):
                continue
            if verb == "view" and role_allows(role, opts.app_label, opts.model_name, "change"):
                continue
            if response.status_code != 403:
                wrongly_open.append(f"{username}: {response.status_code} {url}")
    assert errors == []
    assert wrongly_open == []
    the_agent_is_refused_what_the_table_forbids_with_a_403_page()
    api_key_add_page_works_for_every_role_and_offers_only_their_own_user()


def the_agent_is_refused_what_the_table_forbids_with_a_403_page():
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username="agent"))
    for url in (
        "/admin/outreach/outreachcampaign/add/",
        "/admin/outreach/suppressionentry/add/",
        "/admin/inbox/autosendpolicy/add/",
        "/admin/inbox/autosendsettings/add/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "You are not allowed to do this" in response.content.decode()
    campaign_change = client.get(reverse("admin:outreach_outreachcampaign_changelist"))
    assert campaign_change.status_code == 200 and "Add outreach campaign" not in campaign_change.content.decode()


def api_key_add_page_works_for_every_role_and_offers_only_their_own_user():
    for username in DEMO_USERS:
        client = Client(raise_request_exception=False)
        user = get_user_model().objects.get(username=username)
        client.force_login(user)
        response = client.get("/admin/madansara/apikey/add/")
        assert response.status_code == 200, username
        if not user.is_superuser:
            assert response.context["adminform"].form.fields["user"].queryset.count() == 1
