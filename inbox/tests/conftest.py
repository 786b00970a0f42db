import itertools

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from madansara.channels.models import InboundMessage

_ids = itertools.count(1)


@pytest.fixture
def make_inbound(db):
    """An InboundMessage as the channel layer records it (with the contact of its sender)."""
    from madansara.contacts.services import contact_get_or_create_by_identity

    def make(*, channel="email", sender="ana@example.com", text="Hello", subject="", headers=None, **extra):
        contact, identity, _ = contact_get_or_create_by_identity(
            channel=channel, value=sender, defaults={"name": "Ana Pierre"}
        )
        identity.last_inbound_at = timezone.now()
        identity.save(update_fields=["last_inbound_at"])
        return InboundMessage.objects.create(
            channel=channel,
            contact=contact,
            identity=identity,
            sender=identity.value,
            external_id=f"ext-{next(_ids)}",
            subject=subject,
            text=text,
            headers=headers or {},
            **extra,
        )

    return make


@pytest.fixture
def user_in_role(db, django_user_model):
    def make(role: str, username: str | None = None):
        user = django_user_model.objects.create_user(
            username=username or f"{role.lower()}-{next(_ids)}", password="pw-123456"
        )
        user.is_staff = True
        user.save()
        user.groups.add(Group.objects.get(name=role))
        return user

    return make
