"""Stored journeys and attribution credit per conversion under every model."""

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from conversion import attribution, selectors
from conversion.models import (
    AttributionCredit,
    AttributionModel,
    Channel,
    ConversionEvent,
    JourneyTouch,
)
from conversion.services.touchpoints import BATCH

CENT = Decimal("0.0001")


@transaction.atomic
def journeys_build(*, conversions: list[ConversionEvent]) -> dict[int, list[JourneyTouch]]:
    """Store the journeys of many conversions: their touchpoints inside each type's lookback window."""
    touches = selectors.journeys_for(conversions)
    JourneyTouch.objects.filter(conversion__in=conversions).delete()
    journeys = {
        c.pk: [
            JourneyTouch(
                conversion=c,
                touchpoint_id=t.pk,
                position=i,
                channel=t.channel,
                campaign=t.campaign,
                occurred_at=t.occurred_at,
                age_days=(c.occurred_at - t.occurred_at).total_seconds() / 86400,
            )
            for i, t in enumerate(touches[c.pk])
        ]
        for c in conversions
    }
    JourneyTouch.objects.bulk_create([step for steps in journeys.values() for step in steps], batch_size=BATCH)
    return journeys


def conversion_build_journey(*, conversion: ConversionEvent) -> list[JourneyTouch]:
    """Store one conversion's journey."""
    return journeys_build(conversions=[conversion])[conversion.pk]


def _touch_key(channel: str, campaign: str) -> str:
    return f"{channel}\x1f{campaign}"


def conversion_credits(
    *, conversion: ConversionEvent, journey: list[JourneyTouch], effects: dict[str, float]
) -> list[AttributionCredit]:
    """Credit rows for one conversion under every model (not saved)."""
    day = conversion.occurred_at.astimezone(timezone.UTC).date()
    value = float(conversion.value)
    if not journey:
        # nothing on record before it: the conversion came direct
        journey = [JourneyTouch(channel=Channel.DIRECT, campaign="", age_days=0.0)]
    touch_keys = tuple(_touch_key(t.channel, t.campaign) for t in journey)
    ages = tuple(max(t.age_days, 0.0) for t in journey)
    path = attribution.Path(touch_keys, 1, value=value, ages_days=ages)
    shares: dict[str, dict[str, float]] = {}
    for model in AttributionModel.values:
        if model in (AttributionModel.MARKOV, AttributionModel.SHAPLEY):
            continue
        params = {"direct": [k for k in touch_keys if k.startswith(f"{Channel.DIRECT}\x1f")]}
        shares[model] = attribution.attribute([path], model, **(params if model == "last_non_direct" else {}))
    channel_weights = {
        AttributionModel.SHAPLEY: dict.fromkeys({t.channel for t in journey}, 1.0),
        AttributionModel.MARKOV: {t.channel: effects.get(t.channel, 0.0) for t in journey},
    }
    for model, weights in channel_weights.items():
        shares[model] = _split_by_channel(journey, weights)
    credits = []
    for model, by_key in shares.items():
        for key, share in by_key.items():
            if share <= 0:
                continue
            channel, campaign = key.split("\x1f", 1)
            credits.append(
                AttributionCredit(
                    conversion=conversion,
                    model=model,
                    channel=channel,
                    campaign=campaign,
                    day=day,
                    conversions=share,
                    revenue=(Decimal(str(share)) * conversion.value).quantize(CENT),
                )
            )
    return credits


def _split_by_channel(journey: list[JourneyTouch], weights: dict[str, float]) -> dict[str, float]:
    """Share one conversion over channels by weight, then over each channel's touches (campaigns)."""
    total = sum(weights.values())
    if total <= 0:  # channel absent from the Markov window: split evenly over distinct channels
        weights, total = dict.fromkeys(weights, 1.0), float(len(weights))
    touches_per_channel = defaultdict(int)
    for t in journey:
        touches_per_channel[t.channel] += 1
    shares: dict[str, float] = defaultdict(float)
    for t in journey:
        shares[_touch_key(t.channel, t.campaign)] += weights[t.channel] / total / touches_per_channel[t.channel]
    return shares


@transaction.atomic
def conversions_attribute(
    *, conversion_ids: list[int], effects: dict[str, float] | None = None, effects_max_age: int = 0
) -> int:
    """Build journeys and replace the attribution credit of these conversions; returns credits written.
    Markov effects are computed fresh unless given, or reused up to `effects_max_age` seconds."""
    conversions = list(
        ConversionEvent.objects.select_related("conversion_type").filter(pk__in=conversion_ids).order_by("pk")
    )
    if not conversions:
        return 0
    journeys = {}
    for i in range(0, len(conversions), BATCH):
        journeys.update(journeys_build(conversions=conversions[i : i + BATCH]))
    if effects is None:
        effects = selectors.markov_removal_effects(
            until=max(c.occurred_at for c in conversions), max_age_seconds=effects_max_age
        )
    credits = []
    for conversion in conversions:
        credits.extend(conversion_credits(conversion=conversion, journey=journeys[conversion.pk], effects=effects))
    AttributionCredit.objects.filter(conversion_id__in=[c.pk for c in conversions]).delete()
    AttributionCredit.objects.bulk_create(credits, batch_size=BATCH)
    ConversionEvent.objects.filter(pk__in=[c.pk for c in conversions]).update(attributed_at=timezone.now())
    return len(credits)
