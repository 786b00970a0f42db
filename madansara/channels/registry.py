"""Which provider serves a channel: the real one when its credentials are set, else the sandbox.

The setting `CHANNEL_PROVIDERS` (env, e.g. `"email=sandbox,sms=twilio"`) can force a choice per
channel. A social account's API client comes from the same providers (pages_client_for).
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from madansara.channels.base import Provider
from madansara.channels.providers.pages import PagesClient
from madansara.channels.rules import requires_human_approval
from madansara.choices import Channel

REAL_PROVIDERS: dict[str, str] = {
    Channel.EMAIL: "madansara.channels.providers.sendgrid.SendGridProvider",
    Channel.SMS: "madansara.channels.providers.twilio.TwilioSMSProvider",
    Channel.WHATSAPP: "madansara.channels.providers.twilio.TwilioWhatsAppProvider",
    Channel.FACEBOOK: "madansara.channels.providers.meta.MessengerProvider",
    Channel.INSTAGRAM: "madansara.channels.providers.meta.InstagramProvider",
    Channel.LINKEDIN: "madansara.channels.providers.linkedin.LinkedInProvider",
    Channel.X: "madansara.channels.providers.x.XProvider",
    Channel.CHAT: "madansara.channels.providers.chat.ChatProvider",
}
SANDBOX = "madansara.channels.providers.sandbox.SandboxProvider"


def _overrides() -> dict[str, str]:
    pairs = [p.split("=", 1) for p in settings.CHANNEL_PROVIDERS.split(",") if "=" in p]
    return {k.strip(): v.strip() for k, v in pairs}


@cache
def _load(path: str) -> type[Provider] | None:
    try:
        return import_string(path)
    except ImportError:
        return None


def provider_class_for(channel: str) -> type[Provider]:
    """The provider class that serves `channel` now."""
    forced = _overrides().get(channel)
    if forced == "sandbox":
        return import_string(SANDBOX)
    real = _load(REAL_PROVIDERS[channel]) if channel in REAL_PROVIDERS else None
    if real is not None and (forced or real.is_configured()):
        return real
    return import_string(SANDBOX)


def provider_for(channel: str) -> Provider:
    """An instance of the provider that serves `channel`."""
    return provider_class_for(channel)(channel=channel)


def channel_status() -> list[dict]:
    """Live vs sandbox per channel, for the admin (never shows secrets)."""
    rows = []
    for channel in Channel:
        cls = provider_class_for(channel)
        rows.append(
            {
                "channel": channel.value,
                "label": channel.label,
                "provider": cls.name,
                "live": not cls.is_sandbox,
                "manual_approval_only": requires_human_approval(channel),
            }
        )
    return rows


PAGES_CLIENTS: dict[str, str] = {
    "instagram": "madansara.channels.providers.meta.InstagramPages",
    "facebook": "madansara.channels.providers.meta.FacebookPages",
    "x": "madansara.channels.providers.x.XPages",
    "linkedin": "madansara.channels.providers.linkedin.LinkedInPages",
    "sandbox": "madansara.channels.providers.sandbox.SandboxPages",
}


def _pages_credentials(platform: str) -> tuple[str, str]:
    """(environment token, base URL) of a platform, read at call time."""
    return {
        "instagram": (settings.META_PAGE_ACCESS_TOKEN, settings.META_GRAPH_URL),
        "facebook": (settings.META_PAGE_ACCESS_TOKEN, settings.META_GRAPH_URL),
        "x": (settings.X_BEARER_TOKEN, settings.X_API_URL),
        "linkedin": (settings.LINKEDIN_ACCESS_TOKEN, settings.LINKEDIN_API_URL),
    }.get(platform, ("", "sandbox://"))


def pages_client_for(account) -> PagesClient:
    """The API client of a social account (anything with platform, access_token, pk, external_id,
    handle): its own token, else the environment's, else the sandbox."""
    env_token, base_url = _pages_credentials(account.platform)
    token = account.access_token or env_token
    path = PAGES_CLIENTS[account.platform]
    if account.platform != "sandbox" and not token:
        path, base_url = PAGES_CLIENTS["sandbox"], "sandbox://"
    return import_string(path)(account, token=token, base_url=base_url)
