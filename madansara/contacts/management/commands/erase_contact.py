"""`manage.py erase_contact <id|email|phone>`: the right-to-erasure request, as the API's erase runs it."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from madansara.choices import Channel
from madansara.contacts.models import Contact, ContactIdentity, normalize_identity
from madansara.contacts.services import contact_erase
from madansara.models import AuditEvent


def contact_for_key(key: str) -> Contact:
    """The contact a command-line key names: a number is an id, '@' an e-mail, else a phone."""
    key = key.strip()
    if key.isdigit():
        found = Contact.objects.filter(pk=int(key)).first()
    else:
        channels = [Channel.EMAIL] if "@" in key else [Channel.SMS, Channel.WHATSAPP]
        values = []
        for channel in channels:
            try:
                values.append((channel, normalize_identity(channel, key)))
            except ValidationError as exc:
                raise CommandError(f"'{key}' is neither a contact id, an e-mail nor a phone number.") from exc
        identities = ContactIdentity.objects.filter(channel__in=channels, value__in=[v for _, v in values])
        owners = set(identities.values_list("contact_id", flat=True))
        if len(owners) > 1:
            raise CommandError(f"'{key}' belongs to several contacts ({', '.join(map(str, sorted(owners)))}).")
        found = Contact.objects.filter(pk__in=owners).first()
    if found is None:
        raise CommandError(f"No contact for '{key}'.")
    return found


class Command(BaseCommand):
    help = "Erase a contact (GDPR): every app's copies of their data; aggregates stay. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("key", help="Contact id, e-mail address or phone number")

    def handle(self, *args, key: str, **options):
        contact = contact_for_key(key)
        contact_erase(contact=contact, actor="erase_contact")
        event = AuditEvent.objects.filter(action="contact.erase", target_id=str(contact.pk)).first()
        for label, count in (event.data.get("rows", {}) if event else {}).items():
            self.stdout.write(f"{label}: {count} rows")
        self.stdout.write(self.style.SUCCESS(f"Contact #{contact.pk} erased."))
