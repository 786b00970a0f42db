"""Outreach models: contacts (shared by every app), campaigns and direct sends."""

from outreach.models.campaigns import *  # noqa: F403
from outreach.models.contacts import *  # noqa: F403
from outreach.models.content import *  # noqa: F403
from outreach.models.direct import *  # noqa: F403
