"""Contacts: identity normalisation and uniqueness, create/update/upsert, merge and erasure."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from madansara.channels.models import InboundMessage, Message, WebhookEvent
from madansara.contacts.models import ConsentEvent, Contact, ContactConsent, ContactIdentity, normalize_identity
from madansara.contacts.services import (
    consent_set,
    contact_erase,
    contact_merge,
    contact_update,
    contacts_upsert,
    identity_add,
)
from madansara.models import AuditEvent
from madansara.tests.factories import make_contact

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("channel", "raw", "expected"),
    [
        ("email", "  Ana.Pierre@Example.COM ", "ana.pierre@example.com"),
        ("sms", "+509 3412-3456", "+50934123456"),
        ("sms", "+1 (415) 555-2671", "+14155552671"),
        ("whatsapp", "whatsapp:+33 6 12 34 56 78", "+33612345678"),
        ("instagram", "@Ana_Pierre", "ana_pierre"),
        ("x", "@MadanSara", "madansara"),
        ("facebook", " 1234567890 ", "1234567890"),
    ],
)
def test_identities_are_normalised_per_channel(channel, raw, expected):
    assert normalize_identity(channel, raw) == expected


@pytest.mark.parametrize(
    ("channel", "raw"),
    [("email", "not-an-email"), ("sms", "12345"), ("sms", "+1 000"), ("instagram", "two words"), ("email", "")],
)
def test_invalid_identities_are_rejected(channel, raw):
    with pytest.raises(ValidationError):
        normalize_identity(channel, raw)


def test_an_identity_belongs_to_one_contact_only():
    # given a contact owning an email
    owner = make_contact(identities={"email": "ana@example.com"})
    other = make_contact(identities={"email": "bruno@example.com"})
    # when another contact claims the same address written differently, then it is refused
    with pytest.raises(ValidationError):
        identity_add(contact=other, channel="email", value=" ANA@example.com")
    # and the database refuses it too, even bypassing the service
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactIdentity.objects.create(contact=other, channel="email", value="ana@example.com")
    assert owner.identities.get().value == "ana@example.com"


def test_create_stores_normalised_identities_tags_and_consent_with_history():
    contact = make_contact(
        name="Ana", identities={"email": "ANA@example.com", "sms": "+509 3412 3456"},
        consents={"email": "opted_in"}, tags=["vip"], timezone="America/Port-au-Prince",
    )  # fmt: skip
    assert {i.channel: i.value for i in contact.identities.all()} == {
        "email": "ana@example.com", "sms": "+50934123456"
    }  # fmt: skip
    assert contact.consents.get(channel="email").status == "opted_in"
    assert list(contact.consent_events.values_list("channel", "status")) == [("email", "opted_in")]
    assert [t.name for t in contact.tags.all()] == ["vip"]


def test_update_changes_fields_replaces_channel_identity_and_appends_consent_history():
    contact = make_contact(identities={"email": "old@example.com"}, consents={"email": "opted_in"})
    contact_update(
        contact=contact,
        data={"name": "New Name", "identities": {"email": "new@example.com"}, "consents": {"email": "unsubscribed"}},
    )
    contact.refresh_from_db()
    assert contact.name == "New Name"
    assert list(contact.identities.values_list("value", flat=True)) == ["new@example.com"]
    assert list(contact.consent_events.order_by("id").values_list("status", flat=True)) == ["opted_in", "unsubscribed"]


def test_update_rejects_an_unknown_timezone():
    contact = make_contact()
    with pytest.raises(ValidationError):
        contact_update(contact=contact, data={"timezone": "Mars/Olympus"})


def test_upsert_matches_by_identity_and_reports_per_item():
    existing = make_contact(name="Ana", identities={"email": "ana@example.com"})
    results = contacts_upsert(
        items=[
            {"name": "Ana P.", "identities": {"email": "ANA@example.com", "sms": "+50934123456"}},
            {"name": "Bruno", "identities": {"email": "bruno@example.com"}},
            {"name": "Broken", "identities": {"email": "nope"}},
        ]
    )
    assert [r.status for r in results] == ["updated", "created", "error"]
    assert results[0].contact_id == existing.pk
    existing.refresh_from_db()
    assert existing.name == "Ana P."
    assert existing.identities.filter(channel="sms", value="+50934123456").exists()
    assert "email" in results[2].errors[0]


def test_upsert_refuses_a_row_whose_identities_belong_to_two_contacts():
    a = make_contact(identities={"email": "a@example.com"})
    b = make_contact(identities={"email": "b@example.com", "sms": "+50934123456"})
    (result,) = contacts_upsert(items=[{"identities": {"email": "a@example.com", "sms": "+50934123456"}}])
    assert result.status == "error"
    assert f"#{a.pk}" in result.errors[0] and f"#{b.pk}" in result.errors[0]


def test_upsert_all_or_nothing_writes_nothing_when_one_item_is_bad():
    results = contacts_upsert(
        items=[{"identities": {"email": "good@example.com"}}, {"identities": {"email": "bad"}}], all_or_nothing=True
    )
    assert [r.status for r in results] == ["skipped", "error"]
    assert not Contact.objects.exists()


def test_merge_moves_identities_history_and_activity_from_every_app_to_the_survivor():
    # given two records of the same person, each with messages and consent
    survivor = make_contact(name="Ana", identities={"email": "ana@example.com"}, consents={"email": "opted_in"})
    loser = make_contact(
        name="", identities={"sms": "+50934123456"}, consents={"email": "unknown", "sms": "opted_in"},
        external_id="crm-42", attributes={"city": "Jacmel"},
    )  # fmt: skip
    message = Message.objects.create(channel="sms", contact=loser, to="+50934123456", text="Bonjou")
    inbound = InboundMessage.objects.create(channel="sms", contact=loser, sender="+50934123456", external_id="SM1")
    # when merged
    contact_merge(survivor=survivor, loser=loser)
    # then everything points at the survivor
    survivor.refresh_from_db()
    loser.refresh_from_db()
    assert set(survivor.identities.values_list("channel", flat=True)) == {"email", "sms"}
    assert Message.objects.get(pk=message.pk).contact_id == survivor.pk
    assert InboundMessage.objects.get(pk=inbound.pk).contact_id == survivor.pk
    # the survivor keeps its own email consent; the loser's sms consent (no clash) moves
    assert dict(survivor.consents.values_list("channel", "status")) == {"email": "opted_in", "sms": "opted_in"}
    # the loser's consent history is appended to the survivor's
    assert survivor.consent_events.count() == 3
    assert survivor.external_id == "crm-42" and survivor.attributes == {"city": "Jacmel"}
    assert loser.merged_into_id == survivor.pk and not loser.is_active
    assert AuditEvent.objects.filter(action="contact.merge", target_id=str(survivor.pk)).exists()


def test_merge_never_loses_an_unsubscribe():
    survivor = make_contact(consents={"email": "opted_in"})
    loser = make_contact(consents={"email": "unsubscribed"})
    contact_merge(survivor=survivor, loser=loser)
    assert survivor.consents.get(channel="email").status == "unsubscribed"


def test_merge_refuses_self_and_inactive_contacts():
    a, b = make_contact(), make_contact()
    with pytest.raises(ValidationError):
        contact_merge(survivor=a, loser=a)
    contact_erase(contact=b)
    with pytest.raises(ValidationError):
        contact_merge(survivor=a, loser=b)


def test_erase_removes_personal_data_and_keeps_anonymised_rows():
    # given a contact with identities, consent, tags and messages both ways
    contact = make_contact(
        name="Ana Pierre", identities={"email": "ana@example.com", "sms": "+50934123456"},
        consents={"email": "opted_in"}, tags=["vip"], external_id="crm-1", attributes={"city": "Jacmel"},
    )  # fmt: skip
    out = Message.objects.create(channel="email", contact=contact, to="ana@example.com", subject="Hi Ana", text="Body")
    raw = WebhookEvent.objects.create(provider="twilio", body="From=%2B50934123456&Body=Hello")
    inbound = InboundMessage.objects.create(
        channel="sms", contact=contact, sender="+50934123456", external_id="SM2", text="Hello", raw_event=raw
    )
    # when erased
    contact_erase(contact=contact)
    # then personal data is gone
    contact.refresh_from_db()
    assert (contact.name, contact.external_id, contact.attributes) == ("", None, {})
    assert contact.erased_at is not None and not contact.identities.exists() and not contact.tags.exists()
    out.refresh_from_db()
    inbound.refresh_from_db()
    raw.refresh_from_db()
    assert (out.to, out.subject, out.text) == ("", "", "")
    assert (inbound.sender, inbound.text) == ("", "")
    assert raw.body == ""
    # and the rows that feed aggregates stay, attached to the anonymised contact
    assert out.contact_id == inbound.contact_id == contact.pk
    assert out.status and ContactConsent.objects.filter(contact=contact).exists()
    assert ConsentEvent.objects.filter(contact=contact).count() == 1


def test_consent_set_records_history_only_on_change():
    contact = make_contact()
    consent_set(contact=contact, channel="sms", status="opted_in", source="form")
    consent_set(contact=contact, channel="sms", status="opted_in", source="form")
    consent_set(contact=contact, channel="sms", status="unsubscribed", source="sms:STOP")
    assert list(contact.consent_events.order_by("id").values_list("status", flat=True)) == ["opted_in", "unsubscribed"]
