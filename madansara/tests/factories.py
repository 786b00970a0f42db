"""Small factories for users with a role, API keys and contacts (used by several test modules)."""

from itertools import count

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from madansara.services import api_key_create

_seq = count(1)


def make_user(role: str | None = None, **fields):
    """A staff user in one role group (Admin, Marketer, Agent, Analyst) or none."""
    user = get_user_model().objects.create_user(
        username=fields.pop("username", f"user{next(_seq)}"), password="pw-123456", is_staff=True, **fields
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def key_client(user, scopes: list[str]) -> tuple[APIClient, str]:
    """An API client authenticated with a fresh key of `user` holding `scopes`."""
    _, raw = api_key_create(user=user, name="test key", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client, raw


def make_contact(*, name: str = "", identities: dict | None = None, consents: dict | None = None, **fields):
    """A contact through the service, e.g. make_contact(name="Ana", identities={"email": "a@x.io"})."""
    from madansara.contacts.services import contact_create

    n = next(_seq)
    data = {"name": name or f"Contact {n}", "identities": identities or {"email": f"c{n}@example.com"}}
    data |= {"consents": consents or {}} | fields
    return contact_create(data=data, source="test")
