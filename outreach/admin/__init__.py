from outreach.admin import campaigns, contacts, content, direct  # noqa: F401
