"""Clicks on tracked links and unsubscribes from message links."""

from django.db import transaction
from django.utils import timezone

from madansara.channels.models import MessageEventKind
from madansara.channels.services import message_event_record
from madansara.contacts.models import ConsentStatus, Contact
from madansara.contacts.services import consent_set
from outreach.models import OutboxMessage


def click_record(*, row: OutboxMessage, link: str) -> None:
    """A recipient clicked `link` of a campaign message: the message's timeline records it
    (which also feeds engagement, preference and best-hour statistics)."""
    if row.message is not None:
        message_event_record(
            message=row.message, kind=MessageEventKind.CLICKED, occurred_at=timezone.now(), data={"link": link}
        )


@transaction.atomic
def preferences_set(
    *, contact: Contact, unsubscribe: list[str], resubscribe: list[str] | None = None, source: str
) -> None:
    """Unsubscribe from (and re-subscribe to) channels; effective immediately for every
    campaign, since dispatchers check consent again at send time."""
    for channel in unsubscribe:
        consent_set(contact=contact, channel=channel, status=ConsentStatus.UNSUBSCRIBED, source=f"link:{source}")
    for channel in resubscribe or []:
        current = contact.consents.filter(channel=channel).values_list("status", flat=True).first()
        if current == ConsentStatus.UNSUBSCRIBED:
            consent_set(contact=contact, channel=channel, status=ConsentStatus.OPTED_IN, source=f"link:{source}")
