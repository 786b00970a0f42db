"""Inbound webhooks: verify first, store the raw event, acknowledge, process in a task."""
