"""Campaigns, steps, templates and the outbox (the orchestrator)."""
