"""Best practices in contact erasure: reviewers' edit patterns may quote a customer's words."""

from django.dispatch import receiver

from bestpractices.models import DraftEditPattern
from madansara.contacts.signals import contact_erased
from madansara.erasure import redact_rows, search_forms


@receiver(contact_erased, dispatch_uid="bestpractices.contact_erased")
def on_contact_erased(sender, contact, values, **kwargs) -> dict[str, int]:
    """Phrases and notes naming the person are redacted; the counts and ratios stay."""
    fields = ["removed_phrases", "added_phrases", "notes"]
    return {"bestpractices.drafteditpattern": redact_rows(DraftEditPattern.objects.all(), fields, search_forms(values))}
