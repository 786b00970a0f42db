"""Demo data for campaigns: a running email→SMS campaign with a holdout, a draft, sends and outcomes.

Campaigns, steps, templates and segments have no create service (the API and admin save the
models), so they are created with the ORM; everything after that goes through the services.
"""

import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from madansara.channels.models import MessageEventKind
from madansara.channels.services import message_event_record
from outreach.models import CampaignStep, ChannelCost, ChannelTemplate, OutboxMessage, OutreachCampaign, Segment
from outreach.services.campaigns import campaign_launch
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_plan
from outreach.services.tracking import click_record

RUNNING = "Spring launch (demo)"
DRAFT = "Webinar follow-up (demo)"
OFFER = "http://127.0.0.1:8000/pricing"
# What one message costs per channel (provider list prices): seeded before the demo sends, which
# record each message's cost from these.
MESSAGE_PRICES = {"email": "0.00100", "sms": "0.00790", "whatsapp": "0.00500", "instagram": "0", "facebook": "0"}


def _templates() -> dict[str, ChannelTemplate]:
    return {
        "email": ChannelTemplate.objects.create(
            name="Spring launch email (demo)",
            channel="email",
            subject="{{ contact.first_name }}, our spring plans are here",
            text="Bonjou {{ contact.first_name }},\n\nOur spring plans are live. See what's new: {{ links.offer }}\n",
            html="<p>Bonjou {{ contact.first_name }},</p><p>Our spring plans are live. "
            '<a href="{{ links.offer }}">See what\'s new</a></p>',
        ),
        "sms": ChannelTemplate.objects.create(
            name="Spring launch SMS (demo)",
            channel="sms",
            text="Hi {{ contact.first_name }}, our spring plans are live: {{ links.offer }} Reply STOP to opt out.",
        ),
    }


def _campaign(*, name: str, segment: Segment, templates: dict, holdout: int) -> OutreachCampaign:
    campaign = OutreachCampaign.objects.create(
        name=name,
        segment=segment,
        holdout_percent=holdout,
        window_start_hour=0,
        window_end_hour=24,
        links={"offer": OFFER},
        goal_conversion="signup",
    )
    email = CampaignStep.objects.create(campaign=campaign, position=1, channel="email", fallback_channels=["sms"])
    email.templates.set([templates["email"], templates["sms"]])
    CampaignStep.objects.create(campaign=campaign, position=2, kind="wait", wait_hours=48)
    sms = CampaignStep.objects.create(campaign=campaign, position=3, channel="sms")
    sms.templates.set([templates["sms"]])
    return campaign


def _outcomes(campaign: OutreachCampaign, rng: random.Random) -> int:
    """Simulate what recipients did: some opened, fewer clicked, a few replied."""
    rows = OutboxMessage.objects.filter(campaign=campaign, message__isnull=False).select_related("message")
    events = 0
    for row in rows.order_by("pk"):
        roll = rng.random()
        if roll < 0.45:
            message_event_record(message=row.message, kind=MessageEventKind.OPENED)
            events += 1
        if roll < 0.15:
            click_record(row=row, link="offer")
            events += 1
        if roll < 0.04:
            message_event_record(message=row.message, kind=MessageEventKind.REPLIED, data={"demo": True})
            events += 1
    return events


def seed_prices() -> None:
    for channel, price in MESSAGE_PRICES.items():
        ChannelCost.objects.update_or_create(channel=channel, defaults={"cost_per_message": Decimal(price)})


def seed_demo(stdout) -> None:
    """Message prices, then two campaigns over a 'newsletter' segment; the running one is planned,
    dispatched through the sandbox provider and given opens/clicks/replies."""
    seed_prices()
    if OutreachCampaign.objects.filter(name=RUNNING).exists():
        stdout.write("outreach: demo campaigns already present")
        return
    rng = random.Random(42)
    with transaction.atomic():
        segment = Segment.objects.create(
            name="Newsletter subscribers (demo)",
            description="Demo contacts tagged newsletter who opted in to email",
            filters={"tags_any": ["newsletter"], "consent_channel": "email"},
        )
        templates = _templates()
        running = _campaign(name=RUNNING, segment=segment, templates=templates, holdout=10)
        _campaign(name=DRAFT, segment=segment, templates=templates, holdout=0)
        campaign_launch(campaign=running)
        plan = campaign_plan(campaign=running, now=timezone.now())
        sent = outbox_dispatch(once=True)
        events = _outcomes(running, rng)
    stdout.write(f"outreach: 2 campaigns, {plan['planned']} sends planned, dispatched {sent}, {events} events")
