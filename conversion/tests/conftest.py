from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from conversion import services
from conversion.models import TouchpointSource
from madansara.contacts.models import Contact
from madansara.models import APIKey

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def contact(db):
    return Contact.objects.create(name="Ada")


@pytest.fixture
def touch(db):
    """Record a touchpoint `days` before NOW for a contact (or visitor)."""
    counter = iter(range(1, 10_000))

    def make(channel, days, *, contact=None, visitor_id="", campaign="", journey_key="", when=None):
        return services.touchpoint_record(
            contact_id=contact.pk if contact else None,
            visitor_id=visitor_id,
            channel=channel,
            occurred_at=when or NOW - timedelta(days=days),
            source=TouchpointSource.MANUAL,
            source_key=f"t{next(counter)}",
            campaign=campaign,
            journey_key=journey_key,
        )[0]

    return make


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def api(admin_user):
    """An API client authenticated with a key scoped to conversion:write."""
    raw, prefix, hashed = APIKey.generate()
    APIKey.objects.create(name="t", user=admin_user, prefix=prefix, hashed_key=hashed, scopes=["conversion:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client
