"""Contacts API: CRUD, search, filters, bulk upsert, merge; each role's rights; no N+1."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from madansara.contacts.models import Contact
from madansara.tests.factories import key_client, make_contact, make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/contacts"


@pytest.fixture
def marketer_api():
    client = APIClient()
    client.force_login(make_user("Marketer"))
    return client


def _ids(response):
    return [row["id"] for row in response.json()["results"]]


def test_create_read_update_and_erase_a_contact(marketer_api):
    # create
    response = marketer_api.post(
        URL,
        {"name": "Ana", "identities": {"email": "ANA@example.com"}, "consents": {"email": "opted_in"}, "tags": ["vip"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["identities"] == {"email": "ana@example.com"}
    assert body["consents"][0]["status"] == "opted_in" and body["tags"] == ["vip"]
    # read
    detail = marketer_api.get(f"{URL}/{body['id']}").json()
    assert detail["name"] == "Ana"
    # update
    response = marketer_api.patch(f"{URL}/{body['id']}", {"lifecycle_stage": "customer"}, format="json")
    assert response.status_code == 200 and response.json()["lifecycle_stage"] == "customer"
    # erase
    assert marketer_api.delete(f"{URL}/{body['id']}").status_code == 204
    erased = Contact.objects.get(pk=body["id"])
    assert erased.erased_at is not None and erased.name == ""
    assert body["id"] not in _ids(marketer_api.get(URL))


def test_invalid_input_gets_the_one_error_body(marketer_api):
    response = marketer_api.post(URL, {"identities": {"email": "nope"}}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and "email" in error["message"]
    duplicate = make_contact(identities={"email": "taken@example.com"})
    response = marketer_api.post(URL, {"identities": {"email": "taken@example.com"}}, format="json")
    assert response.status_code == 400 and duplicate.pk


def test_search_and_filters(marketer_api):
    ana = make_contact(name="Ana Pierre", identities={"email": "ana@example.com", "sms": "+50934123456"},
                       consents={"email": "opted_in"}, tags=["vip"], lifecycle_stage="customer")  # fmt: skip
    bruno = make_contact(name="Bruno", identities={"email": "bruno@example.com"}, consents={"email": "unsubscribed"})
    carla = make_contact(name="Carla", identities={"instagram": "@carla"})
    assert _ids(marketer_api.get(URL, {"search": "pierre"})) == [ana.pk]
    assert _ids(marketer_api.get(URL, {"search": "bruno@example.com"})) == [bruno.pk]
    assert _ids(marketer_api.get(URL, {"lifecycle_stage": "customer"})) == [ana.pk]
    assert _ids(marketer_api.get(URL, {"tag": "vip"})) == [ana.pk]
    assert _ids(marketer_api.get(URL, {"consent_email": "unsubscribed"})) == [bruno.pk]
    assert _ids(marketer_api.get(URL, {"consent_email": "unknown"})) == [carla.pk]
    assert _ids(marketer_api.get(URL, {"has_identity": "sms"})) == [ana.pk]
    assert set(_ids(marketer_api.get(URL, {"lacks_identity": "email"}))) == {carla.pk}
    assert _ids(marketer_api.get(URL, {"ordering": "name"})) == [ana.pk, bruno.pk, carla.pk]
    bad = marketer_api.get(URL, {"consent_email": "maybe"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"


def test_list_runs_a_fixed_number_of_queries(marketer_api):
    for n in range(3):
        make_contact(identities={"email": f"x{n}@example.com", "sms": f"+5093412345{n}"}, consents={"sms": "opted_in"})
    with CaptureQueriesContext(connection) as few:
        marketer_api.get(URL)
    for n in range(3, 15):
        make_contact(identities={"email": f"x{n}@example.com"}, tags=["t"], consents={"email": "opted_in"})
    with CaptureQueriesContext(connection) as many:
        assert len(marketer_api.get(URL).json()["results"]) == 15
    assert len(many) == len(few)


def test_bulk_upsert_returns_a_result_per_item(marketer_api):
    existing = make_contact(name="Old", identities={"email": "ana@example.com"})
    response = marketer_api.post(
        f"{URL}/bulk",
        {"contacts": [
            {"name": "Ana", "identities": {"email": "ana@example.com"}},
            {"name": "New", "identities": {"sms": "+50934123456"}},
            {"name": "Bad", "identities": {"email": "nope"}},
            {"lifecycle_stage": "wizard", "identities": {"email": "x@example.com"}},
        ]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["errors"]) == (1, 1, 2)
    assert [r["status"] for r in body["results"]] == ["updated", "created", "error", "error"]
    assert body["results"][0]["id"] == existing.pk
    assert "lifecycle_stage" in body["results"][3]["errors"]


def test_bulk_upsert_refuses_more_than_1000_items(marketer_api):
    items = [{"identities": {"email": f"u{n}@example.com"}} for n in range(1001)]
    response = marketer_api.post(f"{URL}/bulk", {"contacts": items}, format="json")
    assert response.status_code == 400 and not Contact.objects.exists()


def test_merge_endpoint(marketer_api):
    survivor = make_contact(identities={"email": "a@example.com"})
    duplicate = make_contact(identities={"sms": "+50934123456"})
    response = marketer_api.post(f"{URL}/{survivor.pk}/merge", {"duplicate": duplicate.pk}, format="json")
    assert response.status_code == 200
    assert set(response.json()["identities"]) == {"email", "sms"}
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk


@pytest.mark.parametrize(
    ("role", "read", "create", "update", "erase", "bulk"),
    [
        ("Admin", 200, 201, 200, 204, 200),
        ("Marketer", 200, 201, 200, 204, 200),
        ("Agent", 200, 403, 200, 403, 403),
        ("Analyst", 200, 403, 403, 403, 403),
        (None, 403, 403, 403, 403, 403),
    ],
)
def test_each_role_rights_on_the_contacts_api(role, read, create, update, erase, bulk):
    # given a user in the role with a key holding every contacts scope their role allows (or none)
    contact = make_contact(identities={"email": "ana@example.com"})
    client = APIClient()
    client.force_login(make_user(role))
    # when they use each endpoint, then their role decides
    assert client.get(URL).status_code == read
    assert client.post(URL, {"identities": {"email": "n@example.com"}}, format="json").status_code == create
    assert client.patch(f"{URL}/{contact.pk}", {"name": "X"}, format="json").status_code == update
    assert client.post(f"{URL}/bulk", {"contacts": [{"identities": {"email": "b@example.com"}}]},
                       format="json").status_code == bulk  # fmt: skip
    assert client.delete(f"{URL}/{contact.pk}").status_code == erase


def test_api_key_scopes_limit_the_contacts_api():
    user = make_user("Marketer")
    reader, _ = key_client(user, ["contacts:read"])
    writer, _ = key_client(user, ["contacts:write"])
    other, _ = key_client(user, ["inbox:read"])
    assert reader.get(URL).status_code == 200
    denied = reader.post(URL, {"identities": {"email": "n@example.com"}}, format="json")
    assert denied.status_code == 403 and "contacts:write" in denied.json()["error"]["message"]
    assert writer.post(URL, {"identities": {"email": "n@example.com"}}, format="json").status_code == 201
    assert other.get(URL).status_code == 403
    assert APIClient().get(URL).status_code in (401, 403)
