"""An erased person's suppression entries: kept as digests, so the address is not readable in the
list, yet a re-import of the same address is still never messaged (planner, dispatcher, direct
sends). Runs on SQLite and on PostgreSQL (the digest is computed in SQL on both)."""

import pytest
from django.utils import timezone

from madansara.contacts.services import contact_erase
from madansara.erasure import digest
from outreach.models import OutboxMessage, SuppressionEntry
from outreach.services.campaigns import suppression_add
from outreach.services.direct import direct_channel_choose
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import NOON, campaign, contact

pytestmark = pytest.mark.django_db

ADDRESS = "gone@example.com"


def erased_with_entries():
    """A person on the suppression list (every channel, and SMS only), then erased."""
    person = contact(channels=("email", "sms"), values={"email": ADDRESS, "sms": "+14155550999"})
    suppression_add(value=ADDRESS, reason=f"complaint from {ADDRESS}")
    suppression_add(value="+14155550999", channel="sms", reason="carrier block")
    contact_erase(contact=person)
    return person


def test_erasure_keeps_the_entries_as_digests_and_nothing_readable():
    erased_with_entries()

    entries = {(e.channel, e.value): e for e in SuppressionEntry.objects.all()}
    assert set(entries) == {("", digest(ADDRESS)), ("sms", digest("+14155550999"))}
    dumped = " ".join(f"{e.value} {e.reason}" for e in entries.values())
    assert ADDRESS not in dumped and "4155550999" not in dumped
    assert "complaint from [erased]" in dumped  # the reason quoted the address


def test_a_reimported_address_is_held_back_by_the_planner():
    erased_with_entries()
    back = contact(channels=("email",), values={"email": ADDRESS})  # the same address, imported again
    other = contact()
    camp = campaign(contacts=[back, other])

    campaign_plan(campaign=camp, now=NOON)

    rows = {row.contact_id: row for row in OutboxMessage.objects.filter(campaign=camp)}
    assert (rows[back.pk].status, rows[back.pk].hold_reason) == ("skipped", "suppressed")
    assert rows[other.pk].status == "pending"


def test_a_channel_digest_holds_only_that_channel():
    erased_with_entries()  # SMS-only entry for the phone number
    back = contact(channels=("sms",), values={"sms": "+14155550999"})
    camp = campaign(contacts=[back], steps=[{"kind": "send", "channel": "sms"}])

    campaign_plan(campaign=camp, now=NOON)

    assert OutboxMessage.objects.get(campaign=camp).hold_reason == "suppressed"


def test_the_dispatcher_refuses_an_address_whose_digest_is_listed_after_planning():
    people = [contact() for _ in range(2)]
    camp = campaign(contacts=people)
    now = timezone.now()
    campaign_plan(campaign=camp, now=now)
    OutboxMessage.objects.update(due_at=now)
    # what an erasure leaves for the first person's address (a duplicate contact erased meanwhile)
    SuppressionEntry.objects.create(value=digest(people[0].identities.get().value))

    outbox_dispatch(now=timezone.now())

    rows = {row.contact_id: row for row in OutboxMessage.objects.all()}
    assert (rows[people[0].pk].status, rows[people[0].pk].hold_reason) == ("skipped", "suppressed")
    assert rows[people[1].pk].status == "sent"


def test_a_direct_send_to_a_reimported_address_is_held_as_suppressed():
    erased_with_entries()
    back = contact(channels=("email",), values={"email": ADDRESS})

    choice = direct_channel_choose(contact=back, channels=["email"], now=NOON)

    assert choice.hold_reason == "suppressed"


def test_erasing_the_address_twice_keeps_one_digest_per_channel():
    erased_with_entries()
    again = contact(channels=("email",), values={"email": ADDRESS})
    suppression_add(value=ADDRESS)  # listed again as plain text, then erased again

    contact_erase(contact=again)

    assert list(SuppressionEntry.objects.filter(channel="").values_list("value", flat=True)) == [digest(ADDRESS)]


def test_the_admin_lists_a_digest_by_what_it_is_and_finds_it_by_the_address(admin_client):
    erased_with_entries()

    page = admin_client.get("/admin/outreach/suppressionentry/").content.decode()
    assert "an erased person&#x27;s address (kept as a digest)" in page
    assert digest(ADDRESS) not in page
    found = admin_client.get("/admin/outreach/suppressionentry/", {"q": ADDRESS.upper()}).context["cl"]
    assert [entry.value for entry in found.result_list] == [digest(ADDRESS)]
