"""Contact reads: lists with their relations, consent and identity filters, the export stream."""

from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from madansara.contacts.models import Contact, ContactConsent, ContactIdentity


def contacts_list(*, include_inactive: bool = False) -> QuerySet[Contact]:
    """Contacts with identities, consents and tags prefetched (a fixed number of queries per page)."""
    queryset = Contact.objects.all() if include_inactive else Contact.objects.active()
    return queryset.prefetch_related(
        Prefetch("identities", queryset=ContactIdentity.objects.order_by("channel")),
        Prefetch("consents", queryset=ContactConsent.objects.order_by("channel")),
        "tags",
    )


def contacts_with_consent(*, queryset: QuerySet[Contact], channel: str, status: str) -> QuerySet[Contact]:
    """Contacts whose consent on `channel` is `status` ('unknown' also matches no consent row)."""
    row = ContactConsent.objects.filter(contact=OuterRef("pk"), channel=channel)
    if status == "unknown":
        return queryset.exclude(Exists(row.exclude(status="unknown")))
    return queryset.filter(Exists(row.filter(status=status)))


def contacts_with_identity(*, queryset: QuerySet[Contact], channel: str, present: bool = True) -> QuerySet[Contact]:
    """Contacts that have (or lack) an identity on `channel`."""
    exists = Exists(ContactIdentity.objects.filter(contact=OuterRef("pk"), channel=channel))
    return queryset.filter(exists) if present else queryset.exclude(exists)


def contacts_for_export(*, queryset: QuerySet[Contact] | None = None, chunk_size: int = 2000) -> Iterator[Contact]:
    """Active contacts in id order, streamed in chunks with their relations prefetched."""
    queryset = queryset if queryset is not None else Contact.objects.active()
    return queryset.order_by("pk").prefetch_related("identities", "consents", "tags").iterator(chunk_size=chunk_size)
