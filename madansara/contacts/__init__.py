"""Contacts, the bottom domain layer: people, their identities, consent and tags, import/export,
merge and erasure. Every other app builds on it; it imports none of them (signals tell them)."""
