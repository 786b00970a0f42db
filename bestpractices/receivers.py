"""Best practices give the inbox its drafting guidance through madansara.guidance (the inbox never
imports this app); reviewers' edit patterns may quote a customer: erasure redacts them."""

from django.dispatch import receiver

from bestpractices.models import DraftEditPattern
from bestpractices.services import draft_guidance_provider
from madansara.contacts.signals import contact_erased
from madansara.erasure import redact_rows, search_forms
from madansara.guidance import guidance_provider_register

guidance_provider_register(draft_guidance_provider)


@receiver(contact_erased, dispatch_uid="bestpractices.contact_erased")
def on_contact_erased(sender, contact, values, **kwargs) -> dict[str, int]:
    """Phrases and notes naming the person are redacted; the counts and ratios stay."""
    fields = ["removed_phrases", "added_phrases", "notes"]
    return {"bestpractices.drafteditpattern": redact_rows(DraftEditPattern.objects.all(), fields, search_forms(values))}
