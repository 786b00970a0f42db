"""API key lifecycle: created once, hashed at rest, scoped, revocable; never above the creator's rights."""

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from madansara.models import APIKey, AuditEvent, hash_key
from madansara.services import api_key_create
from madansara.tests.factories import key_client, make_user

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/api-keys"
CONTACTS = "/api/v1/contacts"


def _session(user):
    client = APIClient()
    client.force_login(user)
    return client


def test_key_created_over_the_api_is_shown_once_and_stored_hashed():
    user = make_user("Marketer")
    client = _session(user)
    # when a key is created
    response = client.post(KEYS, {"name": "CRM sync", "scopes": ["contacts:write"]}, format="json")
    assert response.status_code == 201, response.json()
    raw = response.json()["key"]
    # then only its hash is stored, and later reads never show it again
    stored = APIKey.objects.get(pk=response.json()["id"])
    assert raw.startswith(f"ms_{stored.prefix}_")
    assert stored.hashed_key == hash_key(raw) and raw not in stored.hashed_key
    listed = client.get(KEYS).json()["results"][0]
    assert "key" not in listed and listed["name"] == "CRM sync"
    assert "key" not in client.get(f"{KEYS}/{stored.pk}").json()
    assert AuditEvent.objects.filter(action="api_key.create", target_id=str(stored.pk)).exists()


def test_valid_key_authenticates_and_records_last_use():
    user = make_user("Analyst")
    client, raw = key_client(user, ["contacts:read"])
    assert client.get(CONTACTS).status_code == 200
    key = APIKey.objects.get(prefix=raw.split("_")[1])
    assert key.last_used_at is not None


@pytest.mark.parametrize("header", ["Bearer ms_nope_nope", "Bearer garbage", "Bearer a b"])
def test_unknown_or_malformed_keys_get_401_with_the_error_body(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(CONTACTS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_revoked_and_expired_keys_stop_working():
    user = make_user("Marketer")
    client, raw = key_client(user, ["contacts:read"])
    key = APIKey.objects.get(prefix=raw.split("_")[1])
    # revoke through the API with a session
    response = _session(user).post(f"{KEYS}/{key.pk}/revoke")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert client.get(CONTACTS).status_code == 401
    # expiry
    expiring, raw2 = key_client(user, ["contacts:read"])
    APIKey.objects.filter(prefix=raw2.split("_")[1]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expiring.get(CONTACTS).status_code == 401


def test_wrong_scope_is_403():
    client, _ = key_client(make_user("Marketer"), ["website:read"])
    response = client.get(CONTACTS)
    assert response.status_code == 403 and "contacts:read" in response.json()["error"]["message"]


def test_scopes_can_never_exceed_the_creators_role():
    analyst = _session(make_user("Analyst"))
    response = analyst.post(KEYS, {"name": "too much", "scopes": ["contacts:write"]}, format="json")
    assert response.status_code == 400 and "exceeds your rights" in response.json()["error"]["message"]
    assert analyst.post(KEYS, {"name": "ok", "scopes": ["contacts:read"]}, format="json").status_code == 201
    agent = _session(make_user("Agent"))
    assert agent.post(KEYS, {"name": "x", "scopes": ["*:write"]}, format="json").status_code == 400
    assert agent.post(KEYS, {"name": "x", "scopes": ["inbox:write"]}, format="json").status_code == 201
    assert analyst.post(KEYS, {"name": "x", "scopes": ["nope:read"]}, format="json").status_code == 400


def test_a_key_loses_rights_its_owner_loses():
    # given a marketer's write key, when the marketer becomes an analyst, then writes are refused
    user = make_user("Marketer")
    client, _ = key_client(user, ["contacts:write"])
    user.groups.set([Group.objects.get(name="Analyst")])
    response = client.post(CONTACTS, {"identities": {"email": "a@example.com"}}, format="json")
    assert response.status_code == 403


def test_users_see_only_their_own_keys():
    alice, bob = make_user("Marketer"), make_user("Marketer")
    api_key_create(user=alice, name="alice's", scopes=["contacts:read"])
    listed = _session(bob).get(KEYS).json()["results"]
    assert listed == []


def test_admin_creates_a_key_and_shows_it_once(client):
    admin = make_user("Admin", is_superuser=True)
    client.force_login(admin)
    response = client.post(
        "/admin/madansara/apikey/add/",
        {"name": "from admin", "user": admin.pk, "scopes": ["contacts:read"]},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"] if "will not be shown again" in str(m)]
    assert len(shown) == 1
    raw = shown[0].rsplit(" ", 1)[1]
    key = APIKey.objects.get(name="from admin")
    assert key.hashed_key == hash_key(raw)
    # the change page never shows the key
    page = client.get(f"/admin/madansara/apikey/{key.pk}/change/").content.decode()
    assert raw not in page and key.hashed_key not in page
    assert site.is_registered(APIKey)


def test_admin_refuses_scopes_above_the_owners_role(client):
    analyst = make_user("Analyst")
    client.force_login(make_user("Admin", is_superuser=True))
    response = client.post(
        "/admin/madansara/apikey/add/", {"name": "escalate", "user": analyst.pk, "scopes": ["contacts:write"]}
    )
    assert response.status_code == 200 and b"exceeds" in response.content
    assert not APIKey.objects.filter(name="escalate").exists()
