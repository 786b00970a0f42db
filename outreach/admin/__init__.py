from outreach.admin import campaigns, contacts, direct  # noqa: F401
