"""The feedback loop: delivery and engagement events update each contact's engagement per
channel (channel preference) and their best local hour (send-time optimisation)."""

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from abtesting.services import outcome_record
from madansara.channels.models import Message, MessageEvent, MessageEventKind, MessageStatus
from madansara.contacts.models import Contact
from outreach.models import ContactEngagement, OutreachCampaign

logger = logging.getLogger(__name__)

COUNTERS = {
    MessageEventKind.DELIVERED: "delivered",
    MessageEventKind.OPENED: "opened",
    MessageEventKind.CLICKED: "clicked",
    MessageEventKind.REPLIED: "replied",
    MessageEventKind.BOUNCED: "bounced",
}
RESPONSES = (MessageEventKind.OPENED, MessageEventKind.CLICKED, MessageEventKind.REPLIED)
# Engine metric names (abtesting.models.Outcome) for message events.
AB_METRICS = {
    MessageEventKind.OPENED: "open",
    MessageEventKind.CLICKED: "click",
    MessageEventKind.REPLIED: "reply",
}


def engagement_score(row: ContactEngagement) -> float:
    """Smoothed response rate (one prior response in four sends) — comparable across channels."""
    return (row.responses + 0.25) / (row.sent + 1.0)


def best_hour(hour_counts: list[int]) -> int | None:
    if not hour_counts or not any(hour_counts):
        return None
    return max(range(24), key=lambda h: (hour_counts[h], -h))


@transaction.atomic
def engagement_record(
    *, message: Message, kind: str, occurred_at: datetime | None = None, event_id: int | None = None
) -> ContactEngagement | None:
    """Count an event of a campaign (or any) message for its contact and channel. The first
    response (open, click or reply) of a message counts once, at the contact's local hour."""
    if message.contact_id is None or kind not in COUNTERS:
        return None
    occurred_at = occurred_at or timezone.now()
    row, _ = ContactEngagement.objects.select_for_update().get_or_create(
        contact_id=message.contact_id, channel=message.channel, defaults={"hour_counts": [0] * 24}
    )
    setattr(row, COUNTERS[kind], getattr(row, COUNTERS[kind]) + 1)
    if kind in RESPONSES:
        others = MessageEvent.objects.filter(message=message, kind__in=RESPONSES)
        if event_id is not None:
            first = not others.filter(
                Q(occurred_at__lt=occurred_at) | Q(occurred_at=occurred_at, id__lt=event_id)
            ).exists()
        else:
            first = others.count() <= 1
        if first:  # this event is the message's first response
            row.responses += 1
            hours = list(row.hour_counts or []) + [0] * (24 - len(row.hour_counts or []))
            contact = Contact.objects.only("timezone").get(pk=message.contact_id)
            hours[occurred_at.astimezone(contact.tzinfo).hour] += 1
            row.hour_counts = hours
            row.best_hour = best_hour(hours)
        row.last_engaged_at = occurred_at
    row.score = engagement_score(row)
    row.save()
    _ab_outcome(message, kind)
    return row


def _ab_outcome(message: Message, kind: str) -> None:
    """Report opens/clicks/replies of a campaign message to its experiments: the subject line or
    copy it carried, the send-time or channel arm it went out under."""
    metric = AB_METRICS.get(kind)
    context = message.context or {}
    campaign_id = context.get("campaign_id")
    if not metric or not campaign_id or not (context.get("variant") or context.get("send_arm")):
        return
    campaign = (
        OutreachCampaign.objects.select_related("subject_test", "copy_test", "send_test").filter(pk=campaign_id).first()
    )
    if campaign is None:
        return
    tests = (campaign.subject_test, campaign.copy_test) if context.get("variant") else ()
    if context.get("send_arm"):
        tests = (*tests, campaign.send_test)
    for test in tests:
        if test is not None:
            outcome_record(test=test, unit_id=f"contact:{message.contact_id}", metric=metric)


def on_message_event(sender, message, event, **kwargs) -> None:
    """Receiver of madansara.channels.signals.message_event."""
    try:
        engagement_record(message=message, kind=event.kind, occurred_at=event.occurred_at, event_id=event.pk)
    except Exception:
        logger.exception("engagement update failed", extra={"message_id": str(message.pk)})


def engagement_recompute(*, since: datetime | None = None, progress=None) -> int:
    """Rebuild engagement rows from the message history (for contacts with messages since
    `since`, or everyone). Counts are set-based; hours are read per engaged message."""
    messages = Message.objects.filter(contact__isnull=False)
    if since is not None:
        touched = messages.filter(created_at__gte=since).values("contact_id")
        messages = messages.filter(contact_id__in=touched)
    responded = Q(opened_at__isnull=False) | Q(clicked_at__isnull=False) | Q(replied_at__isnull=False)
    totals = messages.values("contact_id", "channel").annotate(
        sent=Count("id", filter=Q(sent_at__isnull=False)),
        delivered=Count("id", filter=Q(delivered_at__isnull=False)),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        replied=Count("id", filter=Q(replied_at__isnull=False)),
        bounced=Count("id", filter=Q(status=MessageStatus.FAILED, failure_code__in=["bounce", "bounced"])),
        responses=Count("id", filter=responded),
    )
    zones = {}
    hours: dict[tuple[int, str], list[int]] = {}
    engaged = messages.filter(responded).values_list("contact_id", "channel", "opened_at", "clicked_at", "replied_at")
    for contact_id, channel, *stamps in engaged.iterator(chunk_size=5000):
        first = min(s for s in stamps if s is not None)
        if contact_id not in zones:
            zones[contact_id] = Contact.objects.only("timezone").get(pk=contact_id).tzinfo
        hours.setdefault((contact_id, channel), [0] * 24)[first.astimezone(zones[contact_id]).hour] += 1
    done = 0
    batch = []
    for row in totals.iterator(chunk_size=5000):
        counts = hours.get((row["contact_id"], row["channel"]), [0] * 24)
        item = ContactEngagement(**row, hour_counts=counts, best_hour=best_hour(counts))
        item.score = engagement_score(item)
        batch.append(item)
        if len(batch) >= 2000:
            done += _upsert(batch)
            batch = []
            if progress:
                progress(done)
    done += _upsert(batch)
    return done


def _upsert(rows: list[ContactEngagement]) -> int:
    if not rows:
        return 0
    fields = [
        "sent",
        "delivered",
        "opened",
        "clicked",
        "replied",
        "bounced",
        "responses",
        "hour_counts",
        "best_hour",
        "score",
    ]
    ContactEngagement.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["contact", "channel"], update_fields=fields
    )
    return len(rows)
