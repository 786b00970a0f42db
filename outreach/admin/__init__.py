from outreach.admin import campaigns, contacts  # noqa: F401
