"""Admin for campaigns, templates and the outbox."""
