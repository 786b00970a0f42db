"""Signals other apps subscribe to.

events_ingested(sender, site_id: int, events: list[dict]) is sent after tracker events are
stored (after commit). Each dict: name, visitor_id, contact_id, session_id, occurred_at, url, props.
"""

from django.dispatch import Signal

events_ingested = Signal()
