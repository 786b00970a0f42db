"""CSV import/export as a new user meets it: mapping, encodings, delimiters, each bad row refused on its
own with its line, unchanged rows, identity conflicts, phones checked by libphonenumber, and the same
report from the PostgreSQL COPY path and the portable path."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from madansara.contacts import services as contacts_services
from madansara.contacts.csv_io import contacts_import_csv, parse_mapping
from madansara.contacts.models import ConsentEvent, Contact, ContactConsent, ContactIdentity, normalize_identity
from madansara.tests.factories import make_contact

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


def _write(tmp_path, text, name="contacts.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _emails():
    return set(ContactIdentity.objects.filter(channel="email").values_list("value", flat=True))


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


def test_reimport_of_unchanged_rows_counts_them_unchanged_and_writes_nothing(tmp_path, use_copy):
    existing = make_contact(name="Old", identities={"email": "ana@example.com"}, consents={"email": "unknown"})
    path = _write(tmp_path, GOOD)
    mapping = parse_mapping("email=E-mail,name=Full name")
    first = contacts_import_csv(path=path, mapping=mapping, use_copy=use_copy)
    assert (first.created, first.updated, first.unchanged) == (2, 1, 0)
    long_ago = timezone.now() - timedelta(days=30)
    Contact.objects.update(updated_at=long_ago)
    # when the same file is imported again
    report = contacts_import_csv(path=path, mapping=mapping, use_copy=use_copy)
    # then every row is matched and unchanged: no row, identity, consent or history is written
    assert (report.created, report.updated, report.unchanged, report.rejected) == (0, 0, 3, 0)
    assert Contact.objects.count() == 3
    assert set(Contact.objects.values_list("updated_at", flat=True)) == {long_ago}
    existing.refresh_from_db()
    assert existing.name == "Ana Pierre"
    assert list(existing.consent_events.order_by("id").values_list("status", flat=True)) == ["unknown", "opted_in"]


def test_reimport_parses_only_values_not_already_stored_and_queries_per_batch_not_per_row(
    tmp_path, monkeypatch, django_assert_max_num_queries
):
    lines = [f"user{n}@example.com,+1509300{n:04d},Name {n}" for n in range(40)]
    lines[0] = "User0@Example.com,+1 (509) 300-0000,Name 0"  # not in stored form: parsed again
    path = _write(tmp_path, "email,phone,name\n" + "\n".join(lines) + "\n")
    assert contacts_import_csv(path=path, batch_size=10, use_copy=False).created == 40
    parsed = []
    real = contacts_services.identity_clean
    monkeypatch.setattr(contacts_services, "identity_clean", lambda ch, v: parsed.append(v) or real(ch, v))

    with django_assert_max_num_queries(4 * 8):  # 4 batches of 10 rows: a fixed number of reads each
        report = contacts_import_csv(path=path, batch_size=10, use_copy=False)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 40)
    assert sorted(parsed) == ["+1 (509) 300-0000", "User0@Example.com"]


def test_a_changed_row_counts_updated_and_the_others_unchanged(tmp_path, use_copy):
    path = _write(tmp_path, "email,name,tags\na@example.com,Ana,\nb@example.com,Bob,\nc@example.com,Cy,\n")
    contacts_import_csv(path=path, use_copy=use_copy)
    # Bob's name, Cy's tags and Ana's consent change; nothing else
    changed = (
        "email,name,tags,consent_email\na@example.com,Ana,,opted_in\nb@example.com,Bobby,,\nc@example.com,Cy,vip,\n"
    )
    report = contacts_import_csv(path=_write(tmp_path, changed, "changed.csv"), use_copy=use_copy)
    assert (report.created, report.updated, report.unchanged) == (0, 3, 0)
    again = contacts_import_csv(path=_write(tmp_path, changed, "changed.csv"), use_copy=use_copy)
    assert (again.updated, again.unchanged) == (0, 3)


def test_each_bad_row_is_refused_alone_with_its_line_and_the_others_are_imported(tmp_path, use_copy):
    # given rows in batches of 2, one bad row in each of the first three batches
    report = contacts_import_csv(path=_write(tmp_path, MIXED), batch_size=2, use_copy=use_copy)
    # then exactly the bad rows are refused, with their lines
    assert sorted({line for line, _ in report.errors}) == [3, 4, 5, 6]
    messages = dict(report.errors)
    assert "email" in messages[3]
    assert "sms" in messages[4]
    assert "lifecycle_stage" in messages[5]
    assert messages[6] == "email: same value as line 2."
    # and the good rows of those batches are imported
    assert (report.rows, report.created, report.rejected) == (6, 2, 4)
    assert _emails() == {"ana@example.com", "fred@example.com"}


def test_error_count_counts_rows_not_messages_and_skips_blank_rows(tmp_path, use_copy):
    # a row with two problems, a row of empty cells (Excel leaves them at the end) and a blank last line
    text = "email,name,lifecycle_stage\r\na@example.com,A,lead\r\nbad,B,wizard\r\n,,\r\n\r\n"
    report = contacts_import_csv(path=_write(tmp_path, text), use_copy=use_copy)
    assert (report.rows, report.created, report.rejected) == (2, 1, 1)
    assert [line for line, _ in report.errors] == [3, 3]


def test_line_numbers_count_quoted_cells_over_several_lines(tmp_path, use_copy):
    text = 'email,name\na@example.com,"Ana\nPierre"\nbad,B\nc@example.com,C\nbad2,"D\n\nE"\nbad3,F\n'
    report = contacts_import_csv(path=_write(tmp_path, text), use_copy=use_copy)
    assert [line for line, _ in report.errors] == [4, 6, 9]
    assert ContactIdentity.objects.get(value="a@example.com").contact.name == "Ana\nPierre"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])
def test_files_in_the_encodings_spreadsheets_write_are_read(tmp_path, use_copy, encoding):
    text = "email,name,attr_note\r\nana@example.com,Hélène Mè,Noël à 12 ½\r\nb@example.com,Gérald,\r\n"
    if encoding == "cp1252":
        text = text.replace("½", "€")  # a cp1252-only character
    report = contacts_import_csv(path=_write(tmp_path, text, encoding=encoding), use_copy=use_copy)
    assert (report.created, report.errors) == (2, [])
    ana = ContactIdentity.objects.get(value="ana@example.com").contact
    assert ana.name == "Hélène Mè"
    assert ana.attributes["note"] == ("Noël à 12 €" if encoding == "cp1252" else "Noël à 12 ½")


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_the_delimiter_is_found(tmp_path, use_copy, delimiter):
    rows = [["E-mail", "name", "tags"], ["ana@example.com", "Pierre, Ana", "a;b"], ["b@example.com", "Bob", ""]]
    text = "".join(
        delimiter.join(f'"{cell}"' if delimiter in cell or "," in cell or ";" in cell else cell for cell in row) + "\n"
        for row in rows
    )
    report = contacts_import_csv(path=_write(tmp_path, text), mapping={"email": "E-mail"}, use_copy=use_copy)
    assert (report.delimiter, report.created, report.errors) == (delimiter, 2, [])
    ana = ContactIdentity.objects.get(value="ana@example.com").contact
    assert ana.name == "Pierre, Ana" and sorted(ana.tags.values_list("name", flat=True)) == ["a", "b"]


def test_a_file_without_identity_column_gets_a_message_a_new_user_can_act_on(tmp_path):
    with pytest.raises(ValueError) as error:
        contacts_import_csv(path=_write(tmp_path, "Courriel,Nom\nana@example.com,Ana\n"))
    assert str(error.value).startswith("Could not find an identity column: expected one of email, sms")
    assert "found columns: Courriel, Nom" in str(error.value) and "--map" in str(error.value)


def test_an_excel_workbook_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "contacts.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)))
    with pytest.raises(ValueError, match="not a CSV file: save it as CSV"):
        contacts_import_csv(path=path)


def test_row_matching_two_existing_contacts_is_a_conflict(tmp_path, use_copy):
    a = make_contact(identities={"email": "a@example.com"})
    b = make_contact(identities={"email": "b@example.com", "sms": "+50934123456"})
    report = contacts_import_csv(path=_write(tmp_path, "email,sms\na@example.com,+50934123456\n"), use_copy=use_copy)
    assert report.conflicts == [(2, f"Identities belong to different contacts (#{a.pk}, #{b.pk}).")]
    assert report.errors == []


def test_a_phone_match_does_not_overwrite_another_identity_it_reports_a_conflict(tmp_path, use_copy):
    # given Ana with her e-mail and phone
    ana = make_contact(name="Ana", identities={"email": "ana@example.com", "sms": "+50934123456"})
    # when a row carries Ana's phone with someone else's e-mail (a shared family phone)
    text = "email,sms,name\nbob@example.com,+50934123456,Bob\ncy@example.com,,Cy\n"
    report = contacts_import_csv(path=_write(tmp_path, text), use_copy=use_copy)
    # then the row is a conflict, nothing of it is written, and the other row is imported
    assert report.conflicts == [
        (2, f"email: this row matches contact #{ana.pk} by sms, whose email is 'ana@example.com', "
            "not 'bob@example.com'; the row was not imported.")
    ]  # fmt: skip
    ana.refresh_from_db()
    assert ana.name == "Ana"
    assert set(ana.identities.values_list("value", flat=True)) == {"ana@example.com", "+50934123456"}
    assert (report.created, report.updated, report.rejected) == (1, 0, 1)


def test_a_row_matched_by_its_external_id_may_change_identities(tmp_path, use_copy):
    contacts_import_csv(
        path=_write(tmp_path, "external_id,email,sms\nC-1,a@example.com,+50934123456\n"), use_copy=use_copy
    )
    report = contacts_import_csv(
        path=_write(tmp_path, "external_id,email,sms\nC-1,a@example.com,+50934999999\n", "new.csv"), use_copy=use_copy
    )
    assert (report.updated, report.conflicts) == (1, [])
    contact = Contact.objects.get(external_id="C-1")
    assert list(contact.identities.filter(channel="sms").values_list("value", flat=True)) == ["+50934999999"]
    # matched by e-mail only, the same change is a conflict
    report = contacts_import_csv(
        path=_write(tmp_path, "email,sms\na@example.com,+50934000000\n", "x.csv"), use_copy=use_copy
    )
    assert [message.split(";")[0] for _, message in report.conflicts] == [
        f"sms: this row matches contact #{contact.pk} by email, whose sms is '+50934999999', not '+50934000000'"
    ]


@pytest.mark.parametrize("phone", ["+15550000000", "+999123456789", "12"])
def test_phones_libphonenumber_refuses_are_refused(tmp_path, use_copy, phone):
    report = contacts_import_csv(path=_write(tmp_path, f"email,sms\na@example.com,{phone}\n"), use_copy=use_copy)
    assert [line for line, _ in report.errors] == [2]
    assert report.errors[0][1].startswith(f"sms: '{phone}' is not")
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("+509 3412-3456", "+50934123456"),  # spaces and dashes: normalised in SQL
        ("(+33) 6.12.34.56.78", "+33612345678"),
        ("+33 (0)6 98 76 54 32", "+33698765432"),  # trunk prefix: left to libphonenumber
        ("+1 (416) 555-0123", "+14165550123"),  # Canada: +1's other regions are libphonenumber's to decide
        ("+44 7911 123456", "+447911123456"),
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


def test_mapping_to_a_missing_column_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not in the file"):
        contacts_import_csv(path=_write(tmp_path, GOOD), mapping={"email": "Mail"})


def test_command_prints_progress_errors_and_fails_when_rows_were_refused(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_contacts", str(_write(tmp_path, GOOD)), "--map", "email=E-mail,name=Full name", stdout=out)
    assert "3 created" in out.getvalue()
    with pytest.raises(CommandError, match="4 of 6 rows were not imported"):
        call_command("import_contacts", str(_write(tmp_path, MIXED, "bad.csv")), stdout=out, stderr=err)
    assert "line 3: email:" in err.getvalue()
    assert "6 rows: 1 created, 1 updated" in out.getvalue()  # ana@ was imported by the first file


# --- both paths, one report --------------------------------------------------------------------

MESSY = (
    "external_id;email;phone;name;lifecycle_stage;timezone;consent_email;tags;attr_Plan\r\n"
    "X-1;ana@example.com;+509 3412 3456;Ana;customer;America/Port-au-Prince;opted_in;vip;gold\r\n"
    ";ANA@example.com;;Dup;;;;;\r\n"  # same e-mail as line 2
    ";bob@example.com;+15550000000;Bob;;;;;\r\n"  # libphonenumber refuses the phone
    ";cy@example.com;;Cy;wizard;Mars/Olympus;maybe;;\r\n"  # three problems, one row
    ";;;Nobody;lead;;;;\r\n"  # no identity
    ";;;;;;;;\r\n"  # blank
    ";dora@exämple.com;;Dora;;;;;\r\n"  # non-ASCII domain: Django's validator decides
    ";eve@example.com;+50934000001;Eve;;;unsubscribed;a;b;c\r\n"  # too many cells
    ";fay@example.com;+50934000009;Fay;;;;;\r\n"  # matches Gus by phone: conflict
    ";gus@example.com;;Gus again;;;;new;silver\r\n"  # matches Gus: updated
    ";hal@example.com;;Hal;;;;;\r\n"  # matches Hal: unchanged
    "Y-9;;0033612345678;Ivy;;;;;\r\n"  # 00 instead of +: libphonenumber without a region refuses it
    ";'=jo@example.com;;'=1+1;;;;;\r\n"  # neutralised cells read back: '=' is allowed in an e-mail
    ";jo@example.com;;;;;;;\r\n"  # not the same e-mail as line 14
)


def _seed():
    Contact.objects.create(pk=910001, name="Gus")
    ContactIdentity.objects.create(contact_id=910001, channel="email", value="gus@example.com")
    ContactIdentity.objects.create(contact_id=910001, channel="sms", value="+50934000009")
    Contact.objects.create(pk=910002, name="Hal")
    ContactIdentity.objects.create(contact_id=910002, channel="email", value="hal@example.com")


def _state():
    contacts = {}
    for contact in Contact.objects.prefetch_related("identities", "consents", "tags"):
        key = min(i.value for i in contact.identities.all()) if contact.identities.all() else contact.external_id
        contacts[key] = (
            contact.external_id, contact.name, contact.lifecycle_stage, contact.timezone, contact.locale,
            contact.attributes, sorted((i.channel, i.value) for i in contact.identities.all()),
            sorted((c.channel, c.status) for c in contact.consents.all()), sorted(t.name for t in contact.tags.all()),
        )  # fmt: skip
    return contacts, ConsentEvent.objects.count(), ContactConsent.objects.count()


def _run(path, use_copy, progress=None):
    with transaction.atomic():
        _seed()
        report = contacts_import_csv(path=path, use_copy=use_copy, progress=progress)
        state = _state()
        transaction.set_rollback(True)
    return report, state


@pytest.mark.postgres
@pytest.mark.parametrize("ragged", [False, True], ids=["copy", "copy-falls-back"])
def test_copy_and_portable_paths_give_the_same_report_and_contacts(tmp_path, ragged):
    text = MESSY if ragged else MESSY.replace(";a;b;c\r\n", ";a;b\r\n")
    path = _write(tmp_path, text, encoding="cp1252" if "ä" in text else "utf-8")
    batched, batched_state = _run(path, use_copy=False)
    steps = []
    copied, copied_state = _run(path, use_copy=True, progress=steps.append)
    assert ("COPY cannot read this file" in " ".join(steps)) == ragged
    assert copied == batched
    assert copied_state == batched_state
    # and the report is the one a person reading the file expects
    assert (batched.rows, batched.created, batched.updated, batched.unchanged) == (13, 4 if ragged else 5, 1, 1)
    assert sorted({line for line, _ in batched.errors}) == [3, 4, 5, 6, *([9] if ragged else []), 13]
    assert [line for line, _ in batched.conflicts] == [10]


def test_portable_path_report_on_the_messy_file(tmp_path):
    report, _ = _run(_write(tmp_path, MESSY, encoding="cp1252"), use_copy=False)
    messages = {line: message for line, message in report.errors if line != 5}
    assert messages[3] == "email: same value as line 2."
    assert messages[4] == "sms: '+15550000000' is not a valid phone number."
    assert messages[6] == "A contact needs at least one identity or an external_id."
    assert messages[9].startswith("10 cells, but the header has 9")
    assert messages[13].startswith("sms: '0033612345678' is not a phone number")
    assert len([1 for line, _ in report.errors if line == 5]) == 3
    assert report.rejected == 7 and report.unchanged == 1


# --- export -------------------------------------------------------------------------------------


def test_export_round_trips_every_column_the_import_takes(tmp_path):
    # given contacts with every identity, consents, tags, attributes and values a spreadsheet would run
    make_contact(
        name="=HYPERLINK(\"http://evil\")", external_id="C-1", lifecycle_stage="customer", timezone="Europe/Paris",
        locale="fr", tags=["vip", "@risk"], attributes={"city": "Jacmel", "Plan": "-gold"},
        identities={"email": "ana@example.com", "sms": "+50934123456", "whatsapp": "+50934123457",
                    "instagram": "ana.p", "facebook": "1234", "linkedin": "urn:li:person:ab", "x": "anap"},
        consents={"email": "opted_in", "sms": "unsubscribed", "whatsapp": "unknown"},
    )  # fmt: skip
    make_contact(name="Bob", identities={"x": "bob"})
    first = tmp_path / "first.csv"
    call_command("export_contacts", "--output", str(first), stderr=io.StringIO())
    # when the file is imported onto the same contacts, nothing changes
    report = contacts_import_csv(path=first)
    assert (report.created, report.updated, report.unchanged, report.rejected) == (0, 0, 2, 0)
    # and imported into an empty database, the contacts export to the same file
    Contact.objects.all().delete()
    report = contacts_import_csv(path=first)
    assert (report.created, report.rejected) == (2, 0)
    second = tmp_path / "second.csv"
    call_command("export_contacts", "--output", str(second), stderr=io.StringIO())
    assert second.read_text() == first.read_text()
    ana = Contact.objects.get(external_id="C-1")
    assert ana.name == '=HYPERLINK("http://evil")'
    assert ana.attributes == {"city": "Jacmel", "Plan": "-gold"}
    assert "attr_Plan" in first.read_text().splitlines()[0]
