"""Security: SQL injection through a CSV column header (issue #22, hole 1).

The attack as found: an `attr_<key>` header was pasted inside a quoted SQL literal on the PostgreSQL
import path, so this header imported "1 created" and the contact's attribute then held every user's
password hash. Replayed here on both import paths; the fix quotes every value with psycopg and
refuses attribute names that are not plain words.
"""

import pytest
from django.contrib.auth import get_user_model

from madansara.contacts import csv_io as contacts_import
from madansara.contacts.csv_io import contacts_import_csv
from madansara.contacts.models import Contact

pytestmark = pytest.mark.django_db

ATTACK = "attr_x',(select string_agg(username||':'||password,';') from auth_user),'y"  # as reported
# the same without spaces (the old code turned spaces into '_'): it leaked every hash on the old code
ATTACK_NO_SPACES = ATTACK.replace(" ", "/**/")


@pytest.fixture(params=["batched", pytest.param("copy", marks=pytest.mark.postgres)])
def use_copy(request):
    return request.param == "copy"


@pytest.fixture
def victim():
    return get_user_model().objects.create_user(username="victim", password="correct horse battery staple")


def _leaked(victim) -> bool:
    return any(
        victim.password in str(attributes) for attributes in Contact.objects.values_list("attributes", flat=True)
    )


@pytest.mark.parametrize("header", [ATTACK, ATTACK_NO_SPACES])
def test_header_with_sql_is_refused_and_leaks_nothing(tmp_path, use_copy, victim, header):
    path = tmp_path / "attack.csv"
    path.write_text(f'email,"{header}"\nattacker@example.com,hello\n', encoding="utf-8")
    with pytest.raises(ValueError, match="an attribute name"):
        contacts_import_csv(path=path, use_copy=use_copy)
    assert not Contact.objects.exists()
    assert not _leaked(victim)


def test_mapping_to_an_attribute_with_sql_is_refused(tmp_path, use_copy, victim):
    path = tmp_path / "attack.csv"
    path.write_text("email,note\nattacker@example.com,hello\n", encoding="utf-8")
    with pytest.raises(ValueError, match="an attribute name"):
        contacts_import_csv(path=path, mapping={ATTACK: "note"}, use_copy=use_copy)
    assert not _leaked(victim)


@pytest.mark.postgres
def test_attribute_names_reach_sql_only_as_quoted_literals(tmp_path, victim, monkeypatch):
    # given the name check switched off, the SQL itself must still hold: the name is a literal key
    anything = type("Any", (), {"fullmatch": lambda self, text: True})()
    monkeypatch.setattr(contacts_import, "ATTRIBUTE_KEY", anything, raising=False)
    path = tmp_path / "attack.csv"
    path.write_text(f'email,"{ATTACK_NO_SPACES}"\nattacker@example.com,hello\n', encoding="utf-8")
    report = contacts_import_csv(path=path, use_copy=True)
    assert report.created == 1
    assert Contact.objects.get().attributes == {ATTACK_NO_SPACES.removeprefix("attr_"): "hello"}
    assert not _leaked(victim)
