"""CSV import/export: mapping, per-row errors with line numbers, batches written whole or not."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from madansara.tests.factories import make_contact
from outreach.models import ConsentEvent, Contact, ContactIdentity
from outreach.models.contacts import normalize_identity
from outreach.services.contacts_import import contacts_import_csv, parse_mapping

pytestmark = pytest.mark.django_db

GOOD = """E-mail,Full name,phone,stage,tags,consent_email,attr_city
ana@example.com,Ana Pierre,+509 3412 3456,customer,vip;newsletter,opted_in,Jacmel
BRUNO@example.com,Bruno Jean,,lead,,unknown,
carla@example.com,Carla Noël,+33 6 12 34 56 78,prospect,vip,unsubscribed,Paris
"""

MIXED = """email,name,sms,lifecycle_stage
ana@example.com,Ana,+50934123456,lead
not-an-email,Broken,,lead
dora@example.com,Dora,12,lead
eve@example.com,Eve,,wizard
ana@example.com,Ana again,,lead
fred@example.com,Fred,,lead
"""


@pytest.fixture(params=["batched", pytest.param("copy", marks=pytest.mark.postgres)])
def use_copy(request):
    return request.param == "copy"


def _write(tmp_path, text, name="contacts.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_maps_columns_and_creates_contacts_with_identities_tags_consent(tmp_path, use_copy):
    report = contacts_import_csv(
        path=_write(tmp_path, GOOD), mapping=parse_mapping("email=E-mail,name=Full name"), use_copy=use_copy
    )
    assert (report.rows, report.created, report.updated, report.errors) == (3, 3, 0, [])
    ana = ContactIdentity.objects.get(channel="email", value="ana@example.com").contact
    assert ana.name == "Ana Pierre" and ana.lifecycle_stage == "customer"
    assert ana.identities.get(channel="sms").value == "+50934123456"
    assert sorted(t.name for t in ana.tags.all()) == ["newsletter", "vip"]
    assert ana.attributes == {"city": "Jacmel"}
    assert ana.consents.get(channel="email").status == "opted_in"
    assert ContactIdentity.objects.filter(channel="email", value="bruno@example.com").exists()
    carla = ContactIdentity.objects.get(channel="sms", value="+33612345678").contact
    assert carla.consent_events.get().status == "unsubscribed"


def test_reimport_upserts_by_identity_without_duplicates(tmp_path, use_copy):
    existing = make_contact(name="Old", identities={"email": "ana@example.com"}, consents={"email": "unknown"})
    path = _write(tmp_path, GOOD)
    mapping = parse_mapping("email=E-mail,name=Full name")
    contacts_import_csv(path=path, mapping=mapping, use_copy=use_copy)
    report = contacts_import_csv(path=path, mapping=mapping, use_copy=use_copy)
    assert (report.created, report.updated) == (0, 3)
    assert Contact.objects.count() == 3
    existing.refresh_from_db()
    assert existing.name == "Ana Pierre"
    # consent history: unknown (make_contact) -> opted_in (first import); the second import changed nothing
    assert list(existing.consent_events.order_by("id").values_list("status", flat=True)) == ["unknown", "opted_in"]


def test_bad_rows_are_reported_with_line_numbers_and_their_batch_is_not_imported(tmp_path, use_copy):
    # given batches of 2 rows: lines 2-3, 4-5, 6-7; only the last batch (line 7, Fred) is clean... almost:
    # line 6 repeats line 2's email, so batch 3 fails too; every batch has an error
    report = contacts_import_csv(path=_write(tmp_path, MIXED), batch_size=2, use_copy=use_copy)
    lines = sorted({line for line, _ in report.errors})
    assert lines == [3, 4, 5, 6]
    messages = dict(report.errors)
    assert "email" in messages[3]
    assert "sms" in messages[4]
    assert "lifecycle_stage" in messages[5]
    assert "line 2" in messages[6]
    # nothing is half-imported: no contact of a failing batch exists
    assert not Contact.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_good_batches_are_imported_when_another_batch_fails(tmp_path, use_copy):
    text = "email,name\nok1@example.com,One\nok2@example.com,Two\nbad,Three\nok4@example.com,Four\n"
    report = contacts_import_csv(path=_write(tmp_path, text), batch_size=2, use_copy=use_copy)
    assert report.errors == [(4, report.errors[0][1])]
    assert report.created == 2 and report.skipped == 1
    assert set(ContactIdentity.objects.values_list("value", flat=True)) == {"ok1@example.com", "ok2@example.com"}


def test_row_matching_two_existing_contacts_is_an_error(tmp_path, use_copy):
    make_contact(identities={"email": "a@example.com"})
    make_contact(identities={"email": "b@example.com", "sms": "+50934123456"})
    report = contacts_import_csv(path=_write(tmp_path, "email,sms\na@example.com,+50934123456\n"), use_copy=use_copy)
    assert report.errors and "different contacts" in report.errors[0][1]


def test_mapping_to_a_missing_column_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not in the file"):
        contacts_import_csv(path=_write(tmp_path, GOOD), mapping={"email": "Mail"})


def test_command_prints_progress_and_errors_and_fails_on_bad_rows(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_contacts", str(_write(tmp_path, GOOD)), "--map", "email=E-mail,name=Full name", stdout=out)
    assert "3 created" in out.getvalue() and "batch 1" in out.getvalue() or "validated" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("import_contacts", str(_write(tmp_path, MIXED, "bad.csv")), stdout=out, stderr=err)
    assert "line 3:" in err.getvalue()


def test_export_round_trips_through_import(tmp_path):
    make_contact(name="Ana", identities={"email": "ana@example.com", "sms": "+50934123456"},
                 consents={"email": "opted_in"}, tags=["vip"])  # fmt: skip
    out = tmp_path / "export.csv"
    call_command("export_contacts", "--output", str(out), stderr=io.StringIO())
    text = out.read_text()
    assert "ana@example.com" in text and "+50934123456" in text and "opted_in" in text
    report = contacts_import_csv(path=out)
    assert (report.created, report.updated, report.errors) == (0, 1, [])


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("+509 3412-3456", "+50934123456"),  # spaces and dashes: normalised in SQL
        ("(+33) 6.12.34.56.78", "+33612345678"),
        ("+33 (0)6 98 76 54 32", "+33698765432"),  # trunk prefix: left to libphonenumber
    ],
)
def test_phone_spellings_are_stored_as_libphonenumber_would(tmp_path, use_copy, written, expected):
    # given a phone written the way people write them
    path = _write(tmp_path, f'email,sms\nana@example.com,"{written}"\n')
    # when it is imported
    report = contacts_import_csv(path=path, use_copy=use_copy)
    # then it is stored in E.164, the same value the model's normaliser gives
    assert report.errors == []
    assert normalize_identity("sms", written) == expected
    assert ContactIdentity.objects.get(channel="sms").value == expected


def test_reimport_replaces_a_changed_identity_and_updates_changed_fields(tmp_path, use_copy):
    # given two imported contacts
    contacts_import_csv(
        path=_write(tmp_path, "email,sms,name\na@example.com,+50934123456,Ana\nb@example.com,+50934000001,Bob\n"),
        use_copy=use_copy,
    )
    # when the file comes back with Ana's phone and Bob's name changed
    report = contacts_import_csv(
        path=_write(tmp_path, "email,sms,name\na@example.com,+50934999999,Ana\nb@example.com,+50934000001,Bobby\n"),
        use_copy=use_copy,
    )
    # then both are updates: Ana has only the new phone, Bob the new name, and nothing is duplicated
    assert (report.created, report.updated, report.errors) == (0, 2, [])
    ana = ContactIdentity.objects.get(value="a@example.com").contact
    assert list(ana.identities.filter(channel="sms").values_list("value", flat=True)) == ["+50934999999"]
    assert ContactIdentity.objects.get(value="b@example.com").contact.name == "Bobby"
    assert (Contact.objects.count(), ContactIdentity.objects.count()) == (2, 4)


@pytest.mark.postgres
def test_copy_reimport_leaves_contacts_the_file_does_not_change_untouched(tmp_path):
    # given an imported contact last updated long ago
    path = _write(tmp_path, "email,name,consent_email\na@example.com,Ana,opted_in\n")
    contacts_import_csv(path=path, use_copy=True)
    long_ago = timezone.now() - timedelta(days=30)
    Contact.objects.update(updated_at=long_ago)
    # when the same file is imported again
    report = contacts_import_csv(path=path, use_copy=True)
    # then it counts as matched but neither the row nor the consent history changes
    assert (report.created, report.updated) == (0, 1)
    assert Contact.objects.get().updated_at == long_ago
    assert ConsentEvent.objects.count() == 1
