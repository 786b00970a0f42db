"""Writes of the conversion app; other apps call these (keyword-only, atomic where they write)."""

from conversion.services.conversions import conversion_record, conversions_from_tracker_events
from conversion.services.credit import (
    conversion_build_journey,
    conversion_credits,
    conversions_attribute,
    journeys_build,
)
from conversion.services.performance import attribution_refresh, channel_performance_refresh
from conversion.services.touchpoints import (
    MESSAGE_TOUCH_KINDS,
    funnel_runs_mark_converted,
    message_campaign,
    touchpoint_record,
    touchpoints_attach_inbound,
    touchpoints_capture,
    touchpoints_capture_messages,
    touchpoints_capture_sessions,
    touchpoints_capture_social,
    touchpoints_from_tracker_events,
)

__all__ = [
    "MESSAGE_TOUCH_KINDS",
    "attribution_refresh",
    "channel_performance_refresh",
    "conversion_build_journey",
    "conversion_credits",
    "conversion_record",
    "funnel_runs_mark_converted",
    "conversions_attribute",
    "conversions_from_tracker_events",
    "journeys_build",
    "message_campaign",
    "touchpoint_record",
    "touchpoints_attach_inbound",
    "touchpoints_capture",
    "touchpoints_capture_messages",
    "touchpoints_capture_sessions",
    "touchpoints_capture_social",
    "touchpoints_from_tracker_events",
]
