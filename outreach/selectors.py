"""Outreach reads: segments, campaign results and lift."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from madansara.channels.models import MessageEvent, MessageEventKind
from madansara.contacts.conversions import contact_converted
from madansara.contacts.models import Contact, ContactConsent
from madansara.contacts.selectors import contacts_with_consent
from outreach.models.campaigns import CampaignEnrollment, ContactEngagement, OutboxMessage
from website.models import WebsiteEvent


def segment_contacts(*, segment) -> QuerySet[Contact]:
    """The active contacts a segment selects now: its static list, or its filters (see Segment)."""
    contacts = Contact.objects.active()
    if segment.is_static:
        return contacts.filter(static_segments=segment)
    filters = segment.filters or {}
    if stages := filters.get("lifecycle_stage"):
        contacts = contacts.filter(lifecycle_stage__in=stages)
    if tags := filters.get("tags_any"):
        contacts = contacts.filter(
            Exists(Contact.tags.through.objects.filter(contact_id=OuterRef("pk"), tag__name__in=tags))
        )
    if channel := filters.get("consent_channel"):
        contacts = contacts_with_consent(queryset=contacts, channel=channel, status="opted_in")
    if (minimum := filters.get("min_engagement")) is not None:
        engaged = ContactEngagement.objects.filter(contact_id=OuterRef("pk"), score__gte=minimum)
        contacts = contacts.filter(Q(engagement_score__gte=minimum) | Exists(engaged))
    for key, value in (filters.get("attributes") or {}).items():
        contacts = contacts.filter(**{f"attributes__{key}": value})
    if zones := filters.get("timezone"):
        contacts = contacts.filter(timezone__in=zones)
    if after := filters.get("created_after"):
        contacts = contacts.filter(created_at__date__gte=after)
    if code := filters.get("converted"):
        contacts = contacts.filter(contact_converted(contact=OuterRef("pk"), code=code))
    if code := filters.get("not_converted"):
        contacts = contacts.exclude(contact_converted(contact=OuterRef("pk"), code=code))
    if dropped := filters.get("funnel_dropped"):
        reached = WebsiteEvent.objects.filter(contact_id=OuterRef("pk"), name=dropped["reached"])
        went_on = WebsiteEvent.objects.filter(contact_id=OuterRef("pk"), name=dropped["missing"])
        contacts = contacts.filter(Exists(reached)).exclude(Exists(went_on))
    return contacts


def campaign_results(*, campaign) -> dict:
    """Per channel and step: planned, held back (by guard), sent, delivered, opened, clicked,
    replied, failed, cost; journeys per state; conversions of holdout vs treated contacts."""
    rows = (
        OutboxMessage.objects.filter(campaign=campaign)
        .values("step__position", "channel")
        .annotate(
            planned=Count("id", filter=~Q(status="skipped")),
            held=Count("id", filter=Q(status="skipped")),
            pending=Count("id", filter=Q(status__in=["pending", "claimed"])),
            sent=Count("id", filter=Q(status="sent")),
            failed=Count("id", filter=Q(status="failed")),
            delivered=Count("id", filter=Q(message__delivered_at__isnull=False)),
            opened=Count("id", filter=Q(message__opened_at__isnull=False)),
            clicked=Count("id", filter=Q(message__clicked_at__isnull=False)),
            replied=Count("id", filter=Q(message__replied_at__isnull=False)),
            cost=Sum("cost", filter=Q(status="sent")),
        )
        .order_by("step__position", "channel")
    )
    held = dict(
        OutboxMessage.objects.filter(campaign=campaign)
        .exclude(hold_reason="")
        .values_list("hold_reason")
        .annotate(n=Count("id"))
    )
    states = dict(CampaignEnrollment.objects.filter(campaign=campaign).values_list("state").annotate(n=Count("id")))
    sto = list(
        OutboxMessage.objects.filter(campaign=campaign, status="sent")
        .exclude(sto_arm="")
        .values("sto_arm")
        .annotate(
            sent=Count("id"),
            opened=Count("id", filter=Q(message__opened_at__isnull=False) | Q(message__clicked_at__isnull=False)),
        )
        .order_by("sto_arm")
    )
    return {
        "campaign": campaign.pk,
        "by_step_channel": [{**row, "cost": str(row["cost"] or 0)} for row in rows],
        "held_back": held,
        "journeys": states,
        "lift": _campaign_lift(campaign, CampaignEnrollment),
        "sto": sto,
    }


def _campaign_lift(campaign, enrollment_model) -> dict:
    """Conversion rate of treated vs holdout contacts (goal conversion, or any)."""
    converted = contact_converted(
        contact=OuterRef("contact_id"), code=campaign.goal_conversion or None, since=OuterRef("enrolled_at")
    )
    agg = (
        enrollment_model.objects.filter(campaign=campaign)
        .annotate(converted=converted)
        .aggregate(
            holdout=Count("id", filter=Q(state="holdout")),
            holdout_converted=Count("id", filter=Q(state="holdout", converted=True)),
            treated=Count("id", filter=~Q(state="holdout")),
            treated_converted=Count("id", filter=~Q(state="holdout") & Q(converted=True)),
        )
    )
    holdout_rate = agg["holdout_converted"] / agg["holdout"] if agg["holdout"] else None
    treated_rate = agg["treated_converted"] / agg["treated"] if agg["treated"] else None
    lift = (treated_rate - holdout_rate) if holdout_rate is not None and treated_rate is not None else None
    return {**agg, "holdout_rate": holdout_rate, "treated_rate": treated_rate, "lift": lift}


VARIANT_OUTCOMES = ("sent", "delivered", "opened", "clicked", "replied", "converted", "unsubscribed")


def variant_performance(*, campaign) -> list[dict]:
    """Per step, channel and variant key (the copy each send carried): sent, delivered, opened,
    clicked, replied, converted (the goal conversion, or any, after the send) and unsubscribed
    (from that channel after the send); rates against sent. One GROUP BY query."""
    unsubscribed = Exists(
        ContactConsent.objects.filter(
            contact_id=OuterRef("contact_id"),
            channel=OuterRef("channel"),
            status="unsubscribed",
            updated_at__gte=OuterRef("sent_at"),
        )
    ) | Exists(MessageEvent.objects.filter(message_id=OuterRef("message_id"), kind=MessageEventKind.UNSUBSCRIBED))
    converted = contact_converted(
        contact=OuterRef("contact_id"), code=campaign.goal_conversion or None, since=OuterRef("sent_at")
    )

    def count(condition=None):
        return Count("id", distinct=True, filter=condition)

    rows = (
        OutboxMessage.objects.filter(campaign=campaign, status="sent")
        .annotate(is_unsubscribed=unsubscribed, is_converted=converted)
        .values("step__position", "channel", "send_arm", "variant_key")
        .annotate(
            sent=count(),
            delivered=count(Q(message__delivered_at__isnull=False)),
            opened=count(Q(message__opened_at__isnull=False)),
            clicked=count(Q(message__clicked_at__isnull=False)),
            replied=count(Q(message__replied_at__isnull=False)),
            converted=count(Q(is_converted=True)),
            unsubscribed=count(Q(is_unsubscribed=True)),
        )
        .order_by("step__position", "channel", "send_arm", "variant_key")
    )
    out = []
    for row in rows:
        arm, _, variant = row["variant_key"].partition("/")
        if not variant and arm.startswith("v") and arm[1:].isdigit():
            arm, variant = "", arm
        out.append(
            {
                **row,
                "arm": arm,
                "variant": variant,
                "rates": {k: round(row[k] / row["sent"], 4) if row["sent"] else 0.0 for k in VARIANT_OUTCOMES[1:]},
            }
        )
    return out
