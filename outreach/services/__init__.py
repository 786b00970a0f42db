"""Outreach services: `contacts` (contacts, identities, consent) and the campaign modules."""
