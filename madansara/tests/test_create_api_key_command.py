"""`manage.py create_api_key`: the key once, alone on the last line; clear refusals."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from madansara.models import APIKey, AuditEvent, hash_key
from madansara.tests.factories import make_user

pytestmark = pytest.mark.django_db


def _run(**options) -> list[str]:
    out = StringIO()
    call_command("create_api_key", stdout=out, **options)
    return out.getvalue().strip().splitlines()


def test_prints_a_working_key_alone_on_the_last_line():
    make_user("Analyst", username="ana")
    lines = _run(user="ana", name="reporting", scopes="*:read")
    raw = lines[-1]
    key = APIKey.objects.get(name="reporting")
    assert raw.startswith(f"ms_{key.prefix}_") and " " not in raw
    assert key.hashed_key == hash_key(raw) and key.scopes == ["*:read"]
    assert raw not in "\n".join(lines[:-1])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/contacts").status_code == 200
    assert AuditEvent.objects.filter(action="api_key.create", target_id=str(key.pk), actor_label="create_api_key")


def test_several_scopes_separated_by_commas():
    make_user("Marketer", username="mia")
    _run(user="mia", name="crm", scopes="contacts:write, outreach:read")
    assert APIKey.objects.get(name="crm").scopes == ["contacts:write", "outreach:read"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"user": "ghost", "name": "x", "scopes": "*:read"}, "Unknown user 'ghost'"),
        ({"user": "ana", "name": "x", "scopes": "contacts:read,nope:write"}, "Unknown scope(s): nope:write"),
        ({"user": "ana", "name": "x", "scopes": "contacts:write"}, "exceeds your rights"),
        ({"user": "ana", "name": "x", "scopes": "*:write"}, "exceeds your rights"),
        ({"user": "ana", "name": "  ", "scopes": "*:read"}, "A name is required"),
    ],
)
def test_refusals_are_clear_and_create_nothing(options, message):
    make_user("Analyst", username="ana")
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _run(**options)
    assert not APIKey.objects.exists()
