"""Outreach models: campaigns and direct sends (contacts live in madansara.contacts)."""

from outreach.models.campaigns import *  # noqa: F403
from outreach.models.content import *  # noqa: F403
from outreach.models.direct import *  # noqa: F403
