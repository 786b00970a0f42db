"""Roles: the four groups exist after migrate, with permissions that fit each job."""

import pytest
from django.contrib.auth.models import Group

from madansara.roles import ROLES

pytestmark = pytest.mark.django_db


def _perms(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_the_four_roles_exist():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)


def test_marketers_run_campaigns_and_contacts_but_only_read_the_inbox():
    perms = _perms("Marketer")
    assert {"contacts.add_contact", "contacts.change_contact", "contacts.delete_contact"} <= perms
    assert "channels.view_message" in perms and "channels.add_message" not in perms
    assert not any(p.startswith("inbox.") and not p.split(".")[1].startswith("view_") for p in perms)
    assert "auth.add_user" not in perms


def test_agents_work_the_inbox_and_may_edit_but_not_create_or_delete_contacts():
    perms = _perms("Agent")
    assert any(p.startswith("inbox.change_") for p in perms) or not any(p.startswith("inbox.") for p in perms)
    assert {"contacts.view_contact", "contacts.change_contact"} <= perms
    assert "contacts.add_contact" not in perms and "contacts.delete_contact" not in perms


def test_analysts_only_read():
    perms = _perms("Analyst")
    writes = {p for p in perms if not p.split(".")[1].startswith("view_") and not p.startswith("madansara.")}
    assert writes == set() and "contacts.view_contact" in perms
    # their own API keys are the one thing they may create
    assert "madansara.add_apikey" in perms and "madansara.change_auditevent" not in perms


def test_admins_hold_every_domain_permission_and_user_management():
    perms = _perms("Admin")
    assert {"contacts.delete_contact", "channels.change_message", "auth.change_user", "madansara.add_apikey"} <= perms


def test_agents_cannot_change_campaigns_suppression_auto_send_or_templates():
    perms = _perms("Agent")
    forbidden = {
        "outreach.change_outreachcampaign",
        "outreach.add_outreachcampaign",
        "outreach.operate_outreachcampaign",
        "outreach.change_suppressionentry",
        "outreach.add_suppressionentry",
        "outreach.delete_suppressionentry",
        "outreach.change_channeltemplate",
        "inbox.change_autosendpolicy",
        "inbox.add_autosendpolicy",
        "inbox.change_autosendsettings",
        "inbox.change_slapolicy",
        "inbox.delete_conversation",
    }
    assert perms & forbidden == set()
    assert {"inbox.approve_replydraft", "inbox.change_conversation", "outreach.view_outreachcampaign"} <= perms


def test_the_readme_role_table_is_the_one_generated_from_role_rules():
    from pathlib import Path

    from django.conf import settings

    from madansara.roles import roles_table_markdown

    assert roles_table_markdown() in (Path(settings.BASE_DIR) / "README.md").read_text()
