"""`seed_demo` builds a believable workspace, idempotently, and runs each app's demo step."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from madansara.demo import DEMO_CONTACTS
from outreach.models import Contact, ContactConsent, ContactIdentity

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_contacts_users_and_is_idempotent():
    out = io.StringIO()
    call_command("seed_demo", "--only", "madansara", stdout=out)
    assert Contact.objects.count() == DEMO_CONTACTS
    assert ContactIdentity.objects.filter(channel="email").count() == DEMO_CONTACTS
    assert ContactConsent.objects.filter(status="opted_in").exists()
    assert Contact.objects.filter(lifecycle_stage="customer").exists()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("madansara")
    assert get_user_model().objects.get(username="analyst").groups.filter(name="Analyst").exists()
    call_command("seed_demo", "--only", "madansara", stdout=out)
    assert Contact.objects.count() == DEMO_CONTACTS
    assert "demo workspace ready" in out.getvalue()
