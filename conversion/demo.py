"""Demo data for the conversion app: touchpoints and a few dozen attributed conversions."""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from conversion.models import Channel, ChannelCost, ConversionEvent, ConversionSource, TouchKind, TouchpointSource
from conversion.services.conversions import conversion_record
from conversion.services.credit import conversions_attribute
from conversion.services.performance import channel_performance_refresh
from conversion.services.touchpoints import touchpoint_record
from madansara.contacts.models import Contact

MARKER = "demo-conv-"
CONVERSIONS = 36
TOUCH_CHANNELS = [
    (Channel.EMAIL, TouchKind.CLICKED, "spring-launch"),
    (Channel.SMS, TouchKind.CLICKED, "spring-launch"),
    (Channel.WHATSAPP, TouchKind.REPLIED, ""),
    (Channel.ORGANIC_SEARCH, TouchKind.SESSION, ""),
    (Channel.PAID_SEARCH, TouchKind.SESSION, "brand-search"),
    (Channel.SOCIAL_ORGANIC, TouchKind.ENGAGEMENT, ""),
]
TYPES = [("signup", Decimal("0")), ("demo_booked", Decimal("0")), ("purchase", Decimal("149.00"))]


# The daily ad spend outside messages (message prices are seeded by outreach's demo, before its sends).
DAILY_SPEND = {Channel.PAID_SEARCH: Decimal("18.50"), Channel.SOCIAL_ORGANIC: Decimal("4.00")}


def seed_costs(stdout) -> None:
    """30 days of ad spend, so ROI has a denominator beside message costs (idempotent)."""
    today = timezone.now().date()
    for days_ago in range(30):
        for channel, amount in DAILY_SPEND.items():
            ChannelCost.objects.update_or_create(
                day=today - timedelta(days=days_ago),
                channel=channel,
                campaign="",
                defaults={"amount": amount, "currency": "USD", "note": "demo ad spend"},
            )
    stdout.write("conversion: 30 days of ad spend")


def seed_demo(stdout) -> None:
    """Give 36 demo contacts 1-4 touchpoints each over the last 3 weeks, then a conversion, attributed."""
    seed_costs(stdout)
    if ConversionEvent.objects.filter(external_id__startswith=MARKER).exists():
        stdout.write("conversion: demo conversions already present")
        return
    rng = random.Random(42)
    now = timezone.now()
    contact_ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True)[:CONVERSIONS])
    with transaction.atomic():
        ids = []
        for n, contact_id in enumerate(contact_ids):
            converted_at = now - timedelta(days=rng.randint(0, 13), hours=rng.randint(0, 23))
            for t in range(rng.randint(1, 4)):
                channel, kind, campaign = rng.choice(TOUCH_CHANNELS)
                touchpoint_record(
                    contact_id=contact_id,
                    channel=channel,
                    kind=kind,
                    campaign=campaign,
                    occurred_at=converted_at - timedelta(days=rng.randint(0, 6), hours=t + 1),
                    source=TouchpointSource.MANUAL,
                    source_key=f"{MARKER}{n}-{t}",
                )
            code, value = rng.choice(TYPES)
            conversion, _ = conversion_record(
                external_id=f"{MARKER}{n}",
                type=code,
                value=value or Decimal(rng.choice([0, 25, 60])),
                contact_id=contact_id,
                occurred_at=converted_at,
                source=ConversionSource.ADMIN,
            )
            ids.append(conversion.pk)
        credits = conversions_attribute(conversion_ids=ids)
        for days_ago in range(15):
            channel_performance_refresh(day=(now - timedelta(days=days_ago)).date())
    stdout.write(f"conversion: {len(ids)} conversions, {credits} attribution credits")
