"""Signal receivers: thin hand-offs from the channel layer, the website tracker and social funnels to services."""

import logging

from django.dispatch import receiver

from conversion import selectors, services
from conversion.models import TouchKind, TouchpointSource
from madansara.channels.signals import inbound_received, message_event
from madansara.contacts.conversions import conversions_source_register
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
    if inbound.contact_id:
        services.touchpoints_capture_messages(inbound_ids=[inbound.pk])


@receiver(events_ingested, dispatch_uid="conversion.from_tracker_events")
def from_tracker_events(sender, site_id, events, **kwargs):
    try:
        services.touchpoints_from_tracker_events(site_id=site_id, events=events)
        services.conversions_from_tracker_events(site_id=site_id, events=events)
    except Exception:  # never fail the website's ingest: sessions are re-captured by the refresh
        logger.exception("tracker events not applied to conversions (site %s, %d events)", site_id, len(events))


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
