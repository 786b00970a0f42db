"""Outreach models: contacts (shared by every app) and campaigns."""

from outreach.models.campaigns import *  # noqa: F403
from outreach.models.contacts import *  # noqa: F403
