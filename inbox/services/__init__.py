"""Inbox services (writes): conversations, assignment, classification, drafts, SLA."""
