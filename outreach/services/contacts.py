"""Contact services: identities and consent. (Campaign services live beside them.)"""

from django.db import transaction
from django.utils import timezone

from outreach.models.contacts import ConsentEvent, ConsentStatus, Contact, ContactConsent, ContactIdentity, normalize_identity


@transaction.atomic
def consent_set(
    *, contact: Contact, channel: str, status: str, source: str, note: str = "", occurred_at=None
) -> ContactConsent:
    """Set a contact's consent on a channel and append it to the history (no-op if unchanged)."""
    if status not in ConsentStatus.values:
        raise ValueError(f"Unknown consent status '{status}'.")
    occurred_at = occurred_at or timezone.now()
    consent, created = ContactConsent.objects.select_for_update().get_or_create(
        contact=contact, channel=channel, defaults={"status": status, "source": source, "updated_at": occurred_at}
    )
    if not created and consent.status == status:
        return consent
    if not created:
        consent.status, consent.source, consent.updated_at = status, source, occurred_at
        consent.save(update_fields=["status", "source", "updated_at"])
    ConsentEvent.objects.create(
        contact=contact, channel=channel, status=status, source=source, note=note, occurred_at=occurred_at
    )
    return consent


@transaction.atomic
def identity_add(*, contact: Contact, channel: str, value: str) -> ContactIdentity:
    """Attach a normalised identity; raises ValidationError if invalid or owned by another contact."""
    from django.core.exceptions import ValidationError

    normalized = normalize_identity(channel, value)
    existing = ContactIdentity.objects.filter(channel=channel, value=normalized).first()
    if existing is not None:
        if existing.contact_id != contact.pk:
            raise ValidationError(f"{channel} identity '{normalized}' belongs to another contact.")
        return existing
    return ContactIdentity.objects.create(contact=contact, channel=channel, value=normalized)


@transaction.atomic
def contact_get_or_create_by_identity(
    *, channel: str, value: str, defaults: dict | None = None
) -> tuple[Contact, ContactIdentity, bool]:
    """The contact owning an identity, created (with that identity) if none does."""
    normalized = normalize_identity(channel, value)
    identity = ContactIdentity.objects.select_related("contact").filter(channel=channel, value=normalized).first()
    if identity is not None:
        return identity.contact, identity, False
    contact = Contact.objects.create(**(defaults or {}))
    identity = ContactIdentity.objects.create(contact=contact, channel=channel, value=normalized)
    return contact, identity, True
