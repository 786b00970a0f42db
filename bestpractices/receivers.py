"""Best practices give the inbox its drafting guidance through madansara.guidance (the inbox never
imports this app)."""

from bestpractices.services import draft_guidance_provider
from madansara.guidance import guidance_provider_register

guidance_provider_register(draft_guidance_provider)
