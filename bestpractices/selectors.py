"""Reads: the database's sends as engine records, current practices, predictions for a message."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from bestpractices.engine import Predictor
from bestpractices.features import FEATURES, send_features
from bestpractices.models import (
    BestPractice,
    DraftEditPattern,
    PatternRun,
    PracticeStatus,
    Recommendation,
    RecommendationStatus,
)
from conversion import selectors as conversion_selectors
from madansara.channels.models import Message, MessageEvent, MessageEventKind
from madansara.contacts.models import Contact
from outreach.models import ChannelTemplate, OutreachCampaign
from outreach.selectors import segment_contacts

# What each channel can tell us; an outcome a channel cannot report is "not measured".
# `converted` is the contact's, whatever the channel: the contact has a conversion after the send
# and within that conversion type's attribution lookback (conversion.selectors.converted_after);
# measured only for sends to a known contact whose longest lookback has passed.
MEASURED = {
    "email": ("delivered", "opened", "clicked", "converted", "unsubscribed", "complained"),
    "sms": ("delivered", "clicked", "replied", "converted", "unsubscribed"),
    "whatsapp": ("delivered", "opened", "clicked", "replied", "converted"),
}
MEASURED_ELSEWHERE = ("delivered", "replied", "converted")
SETTLE = timedelta(days=3)  # outcomes of younger sends are still arriving
PREDICTION_AUDIENCE = 500


@lru_cache(maxsize=512)
def _zone(name: str):
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def contact_record(
    *, name: str, timezone_name: str = "UTC", locale: str = "", lifecycle_stage: str = "", attributes=None
):
    """The `contact` part of a send record from a contact's fields."""
    attributes = attributes or {}
    return {
        "first_name": (name or "").split(" ", 1)[0],
        "customer_type": attributes.get("customer_type") or lifecycle_stage,
        "lifecycle_stage": lifecycle_stage,
        "language": locale,
    }


def sends_as_records(*, since: datetime | None = None, until: datetime | None = None) -> Iterator[dict]:
    """Campaign sends in the database as engine records (the file contract's shape), oldest
    first, one query streamed; only sends old enough for their outcomes to have arrived.
    `converted` is left out (not measured) of sends younger than the longest conversion lookback."""
    now = timezone.now()
    until = until or now - SETTLE
    window_days = conversion_selectors.conversion_window_days()
    conversions_in = None if window_days is None else now - timedelta(days=window_days)
    messages = Message.objects.filter(source="campaign", sent_at__isnull=False, sent_at__lt=until)
    if since is not None:
        messages = messages.filter(sent_at__gte=since)
    events = MessageEvent.objects.filter(message=OuterRef("pk"))
    rows = messages.annotate(
        unsubscribed=Exists(events.filter(kind=MessageEventKind.UNSUBSCRIBED)),
        complained=Exists(events.filter(kind=MessageEventKind.SPAM_REPORT)),
        converted=(
            conversion_selectors.converted_after(contact=OuterRef("contact_id"), at=OuterRef("sent_at"))
            if conversions_in is not None
            else Value(False)
        ),
    ).values_list(
        "id", "channel", "sent_at", "subject", "text", "context", "delivered_at", "opened_at", "clicked_at",
        "replied_at", "unsubscribed", "complained", "converted", "contact_id", "contact__name", "contact__timezone",
        "contact__locale", "contact__lifecycle_stage", "contact__attributes",
    )  # fmt: skip
    # The experiment a variant send belongs to: the campaign's copy test, else its subject test.
    tests = {
        pk: copy_test or subject_test
        for pk, subject_test, copy_test in OutreachCampaign.objects.filter(
            Q(subject_test__isnull=False) | Q(copy_test__isnull=False)
        ).values_list("pk", "subject_test_id", "copy_test_id")
    }
    for row in rows.order_by("sent_at").iterator(chunk_size=2000):
        (pk, channel, sent_at, subject, text, context, delivered, opened, clicked, replied, unsub, complained) = row[
            :12
        ]
        converted, contact_id, name, zone, locale, stage, attributes = row[12:]
        settled = conversions_in is not None and contact_id is not None and sent_at <= conversions_in
        happened = {
            "delivered": delivered is not None,
            "opened": opened is not None,
            "clicked": clicked is not None,
            "replied": replied is not None,
            "unsubscribed": unsub,
            "complained": complained,
            "converted": bool(converted) if settled else None,
        }
        context = context or {}
        campaign = context.get("campaign_id")
        yield {
            "send_id": str(pk),
            "channel": channel,
            "sent_at": sent_at.astimezone(_zone(zone)).isoformat(),
            "campaign": campaign,
            "experiment": tests.get(campaign) if context.get("variant") else None,
            "variant": context.get("variant") or "",
            "contact": contact_record(
                name=name or "", timezone_name=zone, locale=locale, lifecycle_stage=stage, attributes=attributes
            ),
            "subject": subject,
            "body": text,
            "outcomes": {o: happened[o] for o in MEASURED.get(channel, MEASURED_ELSEWHERE) if happened[o] is not None},
        }


def recommendations_for(*, templates, campaign: OutreachCampaign | None = None) -> list[Recommendation]:
    """Open recommendations for these templates (and the campaign's send time and channels),
    largest expected lift first."""
    where = Q(template__in=templates)
    if campaign is not None:
        where |= Q(campaign=campaign, template__isnull=True)
    rows = Recommendation.objects.filter(where, status=RecommendationStatus.OPEN)
    return list(rows.select_related("practice", "template").order_by("-expected_lift"))


def run_latest() -> PatternRun | None:
    return PatternRun.objects.order_by("-created_at").first()


def practices_current(*, outcome: str | None = None) -> QuerySet[BestPractice]:
    """Current versions that are not retired, strongest first."""
    rows = BestPractice.objects.filter(is_current=True).exclude(status=PracticeStatus.RETIRED)
    if outcome:
        rows = rows.filter(outcome=outcome)
    return rows.order_by("-significant", "-lift")


def audience_of(contacts: QuerySet[Contact]) -> list[dict]:
    fields = ("name", "timezone", "locale", "lifecycle_stage", "attributes")
    return [
        contact_record(name=n, timezone_name=z, locale=lo, lifecycle_stage=s, attributes=a)
        for n, z, lo, s, a in contacts.order_by("-pk").values_list(*fields)[:PREDICTION_AUDIENCE]
    ]


def prediction_for(
    *, channel: str, subject: str, body: str, audience: list[dict], run: PatternRun | None = None
) -> dict[str, float] | None:
    """Mean predicted probability of each outcome of a message over an audience (contact
    records), from the latest pattern run's model; None before the first run."""
    run = run or run_latest()
    if run is None or not run.model:
        return None
    predictor = Predictor({"model": run.model})
    audience = audience or [{}]
    totals: dict[str, float] = {}
    for contact in audience:
        features = send_features({"channel": channel, "subject": subject, "body": body, "contact": contact})
        for outcome, p in predictor.predict(features).items():
            totals[outcome] = totals.get(outcome, 0.0) + p
    return {outcome: total / len(audience) for outcome, total in totals.items()}


def prediction_for_template(*, template: ChannelTemplate, run: PatternRun | None = None) -> dict[str, float] | None:
    """Predicted outcomes of a template sent to recent contacts."""
    audience = audience_of(Contact.objects.filter(erased_at__isnull=True, merged_into__isnull=True))
    return prediction_for(
        channel=template.channel, subject=template.subject, body=template.text, audience=audience, run=run
    )


def prediction_for_campaign(*, campaign: OutreachCampaign, run: PatternRun | None = None) -> dict:
    """{template name: predicted outcomes} for each template of a campaign, over its segment."""
    audience = audience_of(segment_contacts(segment=campaign.segment))
    templates = ChannelTemplate.objects.filter(steps__campaign=campaign).distinct()
    return {
        t.name: prediction_for(channel=t.channel, subject=t.subject, body=t.text, audience=audience, run=run)
        for t in templates
    }


def template_features(*, template: ChannelTemplate) -> dict:
    """The template's own feature values (as sent to a contact whose first name is unknown)."""
    record = {"channel": template.channel, "subject": template.subject, "body": template.text, "contact": {}}
    return dict(zip(FEATURES, send_features(record), strict=True))


def draft_guidance_notes(*, intent: str, channel: str, language: str) -> tuple[list[str], int | None]:
    """(guidance lines, suggested maximum length) learnt from reviewers' edits; most specific
    match first (intent+channel+language, then intent+channel, then intent)."""
    rows = DraftEditPattern.objects.filter(intent=intent)
    for lookup in ({"channel": channel, "language": language}, {"channel": channel}, {}):
        row = rows.filter(**lookup).order_by("-drafts").first()
        if row is not None and row.notes:
            return list(row.notes), row.suggested_max_length
    return [], None
