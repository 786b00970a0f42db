"""Signal receivers: thin hand-offs from the channel layer, the website tracker and social funnels
to services; the conversion app's part of contact erasure."""

import logging

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.dispatch import receiver

from conversion import selectors, services
from conversion.models import ConversionEvent, CustomerTouchpoint, TouchKind, TouchpointSource
from madansara.channels.signals import inbound_contact_attached, inbound_received, message_event
from madansara.choices import Channel
from madansara.contacts.conversions import conversions_source_register
from madansara.contacts.signals import contact_erased
from madansara.erasure import matching, search_forms
from social.signals import funnel_dm_sent
from website.signals import events_ingested

logger = logging.getLogger(__name__)

conversions_source_register(selectors.conversion_events_of)  # segments and journeys ask through contacts


@receiver(message_event, dispatch_uid="conversion.touchpoint_from_message_event")
def touchpoint_from_message_event(sender, message, event, **kwargs):
    if event.kind in services.MESSAGE_TOUCH_KINDS and message.contact_id:
        services.touchpoints_capture_messages(event_ids=[event.pk])


@receiver(inbound_received, dispatch_uid="conversion.touchpoint_from_inbound")
def touchpoint_from_inbound(sender, inbound, **kwargs):
    # a chat message from a visitor the site has not identified yet is the tracker visitor's touch
    if inbound.contact_id or inbound.channel == Channel.CHAT:
        services.touchpoints_capture_messages(inbound_ids=[inbound.pk])


@receiver(inbound_contact_attached, dispatch_uid="conversion.touchpoints_attach_inbound")
def touchpoints_attach_inbound(sender, contact_id, inbound_ids, **kwargs):
    services.touchpoints_attach_inbound(contact_id=contact_id, inbound_ids=inbound_ids)


@receiver(events_ingested, dispatch_uid="conversion.from_tracker_events")
def from_tracker_events(sender, site_id, events, **kwargs):
    try:
        services.touchpoints_from_tracker_events(site_id=site_id, events=events)
        services.conversions_from_tracker_events(site_id=site_id, events=events)
    except Exception:  # never fail the website's ingest: sessions are re-captured by the refresh
        logger.exception("tracker events not applied to conversions (site %s, %d events)", site_id, len(events))


def _erased_key():
    """A unique stand-in for an id that quoted the person (keeps unique constraints and the row)."""
    return Concat(Value("erased:"), Cast("pk", CharField()))


@receiver(contact_erased, dispatch_uid="conversion.contact_erased")
def on_contact_erased(sender, contact, values, **kwargs) -> dict[str, int]:
    """Conversions and touchpoints stay (values, channels, times: every report); ids or labels that
    quote the person (an order id made of an e-mail, a campaign named after them) are replaced."""
    forms = search_forms(values)
    conversions = ConversionEvent.objects.filter(Q(contact_id=contact.pk) | Q(external_id__in=values))
    touchpoints = CustomerTouchpoint.objects.filter(contact_id=contact.pk)
    return {
        "conversion.conversionevent": matching(conversions, ["external_id"], forms).update(external_id=_erased_key()),
        "conversion.customertouchpoint": matching(touchpoints, ["source_key"], forms).update(source_key=_erased_key())
        + matching(touchpoints, ["journey_key"], forms).update(journey_key="")
        + matching(touchpoints, ["campaign", "utm_source", "utm_medium"], forms).update(
            campaign="", utm_source="", utm_medium=""
        ),
    }


@receiver(funnel_dm_sent, dispatch_uid="conversion.touchpoint_from_funnel_dm")
def touchpoint_from_funnel_dm(sender, run, **kwargs):
    """A social funnel's first DM is a touchpoint, so attribution credits conversions to it."""
    services.touchpoint_record(
        contact_id=run.contact_id,
        channel=run.funnel.account.channel,
        occurred_at=run.dm_sent_at,
        source=TouchpointSource.SOCIAL,
        source_key=f"social-funnel-run:{run.pk}",
        kind=TouchKind.ENGAGEMENT,
        campaign=f"social-funnel:{run.funnel_id}",
    )
