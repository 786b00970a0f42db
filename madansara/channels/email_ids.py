"""Our outbound email Message-IDs carry the Message UUID, so replies can be matched back."""

import re
import uuid

from django.conf import settings

_UUID_IN_ID = re.compile(r"<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@([^>\s]+)>", re.I)


def email_message_id(message_id) -> str:
    """The RFC 5322 Message-ID of our outbound message `message_id` (a Message UUID)."""
    return f"<{message_id}@{settings.EMAIL_REPLY_DOMAIN}>"


def message_ids_in(*header_values: str) -> list[uuid.UUID]:
    """Our Message UUIDs referenced by In-Reply-To/References values, most recent first."""
    found: list[uuid.UUID] = []
    domain = settings.EMAIL_REPLY_DOMAIN.lower()
    for value in header_values:
        for raw_id, host in reversed(_UUID_IN_ID.findall(value or "")):
            if host.lower() == domain:
                found.append(uuid.UUID(raw_id))
    return found
