"""The console's Internals section: the low-level tables grouped by what they record, for admins
only, and together with the task navigation it reaches every table of the admin."""

import pytest
from django.contrib import admin
from django.urls import reverse

from madansara.console import NAV, internals_sections
from madansara.tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_every_admin_table_is_reachable_from_the_navigation_or_internals():
    in_nav = {reverse(link.url_name) for _, links in NAV for link in links}
    in_internals = {table.url for _, _, tables in internals_sections() for table in tables}
    every = {
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    }
    assert every - in_nav - in_internals == set()


def test_low_level_tables_are_grouped_by_what_they_record():
    sections = {group: [table.label for table in tables] for group, _, tables in internals_sections()}
    assert "Delivery attempts" in sections["Delivery"]
    assert "Rate limit buckets" in sections["Delivery"]
    assert "A/b test exposures" in sections["Experiments"] and "A/b test daily stats" in sections["Experiments"]
    assert "Other tables" not in sections  # every registered model has its group


def test_an_admin_opens_internals_from_the_navigation(client):
    client.force_login(make_user("Admin"))
    home = client.get("/admin/").content.decode()
    assert 'href="/admin/internals/"' in home

    page = client.get("/admin/internals/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "Delivery attempts" in body and "The tables the product writes" in body


@pytest.mark.parametrize("role", ["Marketer", "Agent", "Analyst"])
def test_other_roles_get_a_403_page_and_no_link(client, role):
    client.force_login(make_user(role))
    assert 'href="/admin/internals/"' not in client.get("/admin/").content.decode()

    page = client.get("/admin/internals/")

    assert page.status_code == 403
    assert "You are not allowed to do this" in page.content.decode()
