"""Outreach listens to the channel layer: delivery events feed engagement and A/B outcomes.
Contact erasure and merge reach direct sends, the outbox, segments, engagement and the
suppression list.

An erased person's suppression entries stay, as digests: an opt-out must outlive the erasure (a
re-import would otherwise message the address), yet the list must not keep the address readable.
"""

from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.dispatch import receiver

from madansara.channels.signals import message_event
from madansara.contacts.signals import contact_erased, contact_merged
from madansara.erasure import digest, matching, redact_rows, search_forms
from outreach.models import ContactEngagement, DirectSend, OutboxMessage, Segment, SuppressionEntry
from outreach.services.feedback import on_message_event

message_event.connect(on_message_event, dispatch_uid="outreach.feedback")


ENGAGEMENT_COUNTS = ("sent", "delivered", "opened", "clicked", "replied", "bounced", "converted", "responses")


@receiver(contact_erased, dispatch_uid="outreach.contact_erased")
def on_contact_erased(sender, contact, values, **kwargs) -> dict[str, int]:
    """What was written to the person goes; statuses, channels, times and counts stay."""
    forms = search_forms(values)
    sends = DirectSend.objects.filter(contact_id=contact.pk)
    return {
        "outreach.directsend": matching(sends, ["idempotency_key"], forms).update(
            idempotency_key=Concat(Value("erased:"), Cast("pk", CharField()))
        )
        + sends.update(subject="", text="", error=""),
        "outreach.outboxmessage": OutboxMessage.objects.filter(contact_id=contact.pk)
        .exclude(error="")
        .update(error=""),
        "outreach.suppressionentry": _suppression_digest(values, forms),
        "outreach.segment": redact_rows(Segment.objects.all(), ["description", "filters"], forms)
        + matching(Segment.objects.all(), ["name"], forms).update(
            name=Concat(Value("Segment #"), Cast("pk", CharField()))
        ),
    }


def _suppression_digest(values: list[str], forms: list[str]) -> int:
    """The person's entries become digests (one per channel: an earlier erasure's digest wins)."""
    changed = redact_rows(SuppressionEntry.objects.all(), ["reason"], forms)
    for entry in SuppressionEntry.objects.filter(value__in=values):
        hashed = digest(entry.value)
        if SuppressionEntry.objects.filter(channel=entry.channel, value=hashed).exists():
            entry.delete()
        else:
            entry.value = hashed
            entry.save(update_fields=["value"])
        changed += 1
    return changed


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
