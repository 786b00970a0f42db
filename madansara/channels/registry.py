"""Which provider serves a channel: the real one when its credentials are set, else the sandbox.

The setting `CHANNEL_PROVIDERS` (env, e.g. `"email=sandbox,sms=twilio"`) can force a choice per
channel.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from madansara.channels.base import Provider
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
