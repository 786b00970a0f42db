"""The campaign side of outreach in contact erasure and merge: direct sends, outbox, engagement."""

from django.dispatch import receiver

from outreach.models import ContactEngagement, DirectSend, OutboxMessage
from outreach.services.contacts import contact_erased, contact_merged

ENGAGEMENT_COUNTS = ("sent", "delivered", "opened", "clicked", "replied", "bounced", "converted", "responses")


@receiver(contact_erased, dispatch_uid="outreach.contact_erased")
def on_contact_erased(sender, contact, values, **kwargs) -> dict[str, int]:
    """What was written to the person goes; statuses, channels, times and counts stay."""
    return {
        "outreach.directsend": DirectSend.objects.filter(contact_id=contact.pk).update(subject="", text="", error=""),
        "outreach.outboxmessage": OutboxMessage.objects.filter(contact_id=contact.pk)
        .exclude(error="")
        .update(error=""),
    }


@receiver(contact_merged, dispatch_uid="outreach.contact_merged")
def on_contact_merged(sender, survivor, loser, **kwargs) -> None:
    """Engagement rows the generic move left on the loser (the survivor has that channel too) are
    added to the survivor's, then dropped: the counts follow the person."""
    kept = {row.channel: row for row in ContactEngagement.objects.filter(contact=survivor)}
    for row in ContactEngagement.objects.filter(contact=loser):  # one row per channel at most
        into = kept.get(row.channel)
        if into is None:
            row.contact = survivor
            row.save(update_fields=["contact"])
            continue
        for name in ENGAGEMENT_COUNTS:
            setattr(into, name, getattr(into, name) + getattr(row, name))
        if len(into.hour_counts) == len(row.hour_counts):
            into.hour_counts = [a + b for a, b in zip(into.hour_counts, row.hour_counts, strict=True)]
        into.last_engaged_at = max(filter(None, (into.last_engaged_at, row.last_engaged_at)), default=None)
        into.save()
        row.delete()
