"""Builders for campaign tests: contacts with identities and consent, campaigns with steps."""

from datetime import datetime
from itertools import count

from django.utils import timezone

from madansara.contacts.models import Contact, ContactConsent, ContactIdentity
from outreach.models import CampaignStep, ChannelTemplate, OutreachCampaign, Segment

_seq = count(1)
# 12:00 UTC on a Wednesday: inside a 9-20 window in UTC and in Europe/Paris.
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.UTC)


def contact(*, channels=("email",), consent="opted_in", tz="UTC", name=None, values=None, **fields) -> Contact:
    """A contact reachable on `channels` (identity + consent); `values` overrides identities."""
    n = next(_seq)
    person = Contact.objects.create(name=name or f"Ana {n}", timezone=tz, **fields)
    for channel in channels:
        value = (values or {}).get(channel) or {
            "email": f"c{n}@example.com",
            "sms": f"+1415555{n:04d}",
            "whatsapp": f"+1415556{n:04d}",
        }.get(channel, f"handle{n}")
        ContactIdentity.objects.create(contact=person, channel=channel, value=value)
        if consent:
            ContactConsent.objects.create(contact=person, channel=channel, status=consent)
    return person


def template(channel="email", **fields) -> ChannelTemplate:
    defaults = {
        "email": {"subject": "Hello {{ contact.first_name }}", "text": "Hi {{ contact.first_name }}", "html": ""},
        "sms": {"text": "Hi {{ contact.first_name }}"},
        "whatsapp": {"text": "Hi {{ contact.first_name }}"},
    }.get(channel, {"text": "Hi"})
    return ChannelTemplate.objects.create(name=f"t{next(_seq)}", channel=channel, **(defaults | fields))


def campaign(*, contacts=(), steps=None, status="running", **fields) -> OutreachCampaign:
    """A running campaign over a static segment; `steps` are dicts for CampaignStep (plus
    "templates": [channel, ...]); default: one email send."""
    segment = Segment.objects.create(name=f"seg{next(_seq)}", is_static=True)
    segment.contacts.set(contacts)
    # STO on with no history: everyone at the window start (due at once with a 0-24 window).
    defaults = {"window_start_hour": 0, "window_end_hour": 24, "sto_enabled": True}
    camp = OutreachCampaign.objects.create(
        name=f"camp{next(_seq)}", segment=segment, status=status, **(defaults | fields)
    )
    for position, spec in enumerate(steps or [{"kind": "send", "channel": "email"}], start=1):
        spec = dict(spec)
        channels = spec.pop("templates", None)
        step = CampaignStep.objects.create(campaign=camp, position=position, **spec)
        if step.kind == "send":
            wanted = channels or ([step.channel] if step.channel != "auto" else ["email"])
            wanted += [c for c in step.fallback_channels if c not in wanted]
            step.templates.set([template(c) for c in wanted])
    return camp
