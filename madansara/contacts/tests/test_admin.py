"""The console: contacts list/search/filters, the change page with inlines, merge and erase actions."""

import pytest

from madansara.contacts.models import Contact
from madansara.tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/contacts/contact/"


@pytest.fixture
def staff(client):
    client.force_login(make_user("Admin", is_superuser=True))
    return client


def test_landing_page_links_each_domain(staff):
    page = staff.get("/").content.decode()
    for app in ("contacts", "outreach", "inbox", "abtesting", "website", "conversion", "social"):
        assert f'href="/admin/{app}/"' in page
    assert "Madan Sara" in staff.get("/admin/").content.decode()


def test_changelist_searches_identities_and_filters(staff):
    ana = make_contact(name="Ana", identities={"email": "ana@example.com"}, consents={"email": "opted_in"})
    make_contact(name="Bruno", identities={"email": "bruno@example.com"})
    response = staff.get(CHANGELIST, {"q": "ana@example.com"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [ana]
    response = staff.get(CHANGELIST, {"consents__status": "opted_in"})
    assert [c.pk for c in response.context["cl"].result_list] == [ana.pk]


def test_change_page_shows_identities_and_consent_history(staff):
    contact = make_contact(name="Ana", identities={"email": "ana@example.com"}, consents={"email": "opted_in"})
    page = staff.get(f"{CHANGELIST}{contact.pk}/change/").content.decode()
    assert "ana@example.com" in page and "consent history" in page.lower()


def test_merge_action_asks_for_the_survivor_then_merges(staff):
    a = make_contact(identities={"email": "a@example.com"})
    b = make_contact(identities={"sms": "+50934123456"})
    selected = {"action": "merge_contacts", "_selected_action": [a.pk, b.pk]}
    confirm = staff.post(CHANGELIST, selected)
    assert confirm.status_code == 200 and b"Merge contacts" in confirm.content
    staff.post(CHANGELIST, selected | {"survivor": a.pk})
    b.refresh_from_db()
    assert b.merged_into_id == a.pk
    assert set(a.identities.values_list("channel", flat=True)) == {"email", "sms"}


def test_erase_action(staff):
    contact = make_contact(name="Ana")
    staff.post(CHANGELIST, {"action": "erase_contacts", "_selected_action": [contact.pk]})
    assert Contact.objects.get(pk=contact.pk).erased_at is not None
