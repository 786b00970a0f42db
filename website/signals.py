"""Signals other apps subscribe to.

events_ingested(sender, site_id: int, events: list[dict]) is sent after tracker events are
stored (after commit). Each dict: name, visitor_id, contact_id, session_id, occurred_at, url, props.

recommendation_test_requested(sender, recommendation, key: str, variants, actor, proposal: dict) is
sent inside the transaction when someone turns a recommendation into an A/B test: the experiments
app (abtesting) creates the draft test and returns it, so the website never imports it.
"""

from django.dispatch import Signal

events_ingested = Signal()
recommendation_test_requested = Signal()
