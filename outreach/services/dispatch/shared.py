"""What both send paths share: loading claimed rows with their guards, costs, releasing a row
we hold, and the counters a send adds (the day's spend, the contacts' engagement)."""

import os
import socket
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery

from madansara.channels.retry import SEND
from madansara.contacts.models import ConsentStatus, ContactConsent, ContactIdentity
from madansara.erasure import Digest
from outreach.models import (
    CampaignSpend,
    CampaignStep,
    ChannelCost,
    ContactEngagement,
    OutboxMessage,
    OutboxStatus,
    OutreachCampaign,
    SuppressionEntry,
)
from outreach.models.campaigns import SendArm
from outreach.services.content import _cached
from outreach.services.planning import channel_costs

MAX_ATTEMPTS = SEND.max_attempts
backoff_seconds = SEND.delay  # exponential backoff with jitter, at least the provider's retry_after


def lease() -> timedelta:
    """How long a claim holds (settings.OUTREACH_LEASE_SECONDS, longer than any provider timeout)."""
    return timedelta(seconds=settings.OUTREACH_LEASE_SECONDS)


def row_send_arm(row: OutboxMessage) -> SendArm:
    """The window, weekdays and channel a planned send goes out under: its campaign's, or its arm's
    in the campaign's send-time or channel experiment (arms read once per 10 s in a dispatcher run)."""
    campaign = row.campaign
    if campaign.send_test_id is None:
        return campaign.send_arm(row.send_arm)
    arms = _cached(("send_arms", campaign.pk, campaign.send_test_id), campaign.send_arms)
    return campaign.send_arm(row.send_arm, arms=arms)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


_COST_CACHE: dict = {}


COST_CACHE_SECONDS = 5.0


def _costs(configured_only: bool = False) -> dict[str, Decimal]:
    """Channel costs, cached for a few seconds per process (read once per message otherwise)."""
    key = "configured" if configured_only else "all"
    cached = _COST_CACHE.get(key)
    if cached and time.monotonic() - cached[0] < COST_CACHE_SECONDS:
        return cached[1]
    value = dict(ChannelCost.objects.values_list("channel", "cost_per_message")) if configured_only else channel_costs()
    _COST_CACHE[key] = (time.monotonic(), value)
    return value


def _release(row_id: int, worker: str, **fields) -> int:
    """Update a row we hold (status claimed, our name); 0 when the lease was lost."""
    return OutboxMessage.objects.filter(pk=row_id, status=OutboxStatus.CLAIMED, claimed_by=worker).update(
        lease_until=None, **fields
    )


def _spend_add(*, campaign_id: int, day, channel: str, cost: Decimal, messages: int = 1) -> None:
    """Atomic upsert of the day's spend (concurrent dispatchers add, never overwrite)."""
    table = CampaignSpend._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (campaign_id, day, channel, messages, cost) VALUES (%s, %s, %s, %s, %s)
                ON CONFLICT (campaign_id, day, channel)
                DO UPDATE SET messages = {table}.messages + excluded.messages, cost = {table}.cost + excluded.cost""",
            [campaign_id, day, channel, messages, str(cost)],
        )


def _engagement_sent(sent: list[tuple[int, str]]) -> None:
    """Add sends to the contacts' engagement counts: one upsert for (contact_id, channel) pairs,
    in key order (concurrent dispatchers lock the rows in the same order)."""
    counts = Counter(sent)
    if not counts:
        return
    table = ContactEngagement._meta.db_table
    keys = sorted(counts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (contact_id, channel, sent, delivered, opened, clicked, replied, bounced,
                                     converted, responses, hour_counts, score)
                VALUES {", ".join(["(%s, %s, %s, 0, 0, 0, 0, 0, 0, 0, '[]', 0)"] * len(keys))}
                ON CONFLICT (contact_id, channel) DO UPDATE SET sent = {table}.sent + excluded.sent""",
            [value for (contact_id, channel) in keys for value in (contact_id, channel, counts[contact_id, channel])],
        )


def _rows(ids: list[int]) -> list[OutboxMessage]:
    """Rows with everything a send needs (guards as annotations), in three queries."""
    unsubscribed = ContactConsent.objects.filter(
        contact_id=OuterRef("contact_id"), channel=OuterRef("channel"), status=ConsentStatus.UNSUBSCRIBED
    )
    identities = ContactIdentity.objects.filter(
        contact_id=OuterRef("contact_id"), channel=OuterRef("channel")
    ).order_by("id")
    own_values = ContactIdentity.objects.filter(
        contact_id=OuterRef(OuterRef("contact_id")), channel=OuterRef(OuterRef("channel"))
    ).values("value")
    suppressed = SuppressionEntry.objects.filter(Q(channel="") | Q(channel=OuterRef("channel")), value__in=own_values)
    if SuppressionEntry.objects.has_digests():  # an erased person's address, re-imported since
        own_digests = own_values.annotate(digest=Digest("value")).values("digest")
        suppressed = SuppressionEntry.objects.filter(
            Q(channel="") | Q(channel=OuterRef("channel")), Q(value__in=own_values) | Q(value__in=own_digests)
        )
    rows = list(
        OutboxMessage.objects.select_related("contact", "message")
        .annotate(
            is_unsubscribed=Exists(unsubscribed),
            is_suppressed=Exists(suppressed),
            identity_value=Subquery(identities.values("value")[:1]),
            identity_is_valid=Subquery(identities.values("is_valid")[:1]),
            identity_inbound_at=Subquery(identities.values("last_inbound_at")[:1]),
        )
        .filter(pk__in=ids)
        .order_by("id")
    )
    # A batch shares a few campaigns and steps: load each once, not once per row.
    campaigns = OutreachCampaign.objects.select_related("subject_test").in_bulk({row.campaign_id for row in rows})
    steps = CampaignStep.objects.in_bulk({row.step_id for row in rows})
    for row in rows:
        row.campaign = campaigns[row.campaign_id]
        row.step = steps[row.step_id]
    return rows


def _message_fields(row: OutboxMessage, rendered) -> dict:
    """What a campaign message carries, whichever path creates it."""
    return {
        "channel": row.channel,
        "source": "campaign",
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "template_name": rendered.template_name,
        "template_variables": rendered.template_variables,
        "headers": rendered.headers,
        "categories": [f"campaign-{row.campaign_id}"],
        "context": {
            "campaign_id": row.campaign_id,
            "step": row.step.position,
            "outbox_id": row.pk,
            "channel_reason": row.reason,
            "variant": rendered.variant_key,
            "send_arm": row.send_arm,
        },
    }
