"""Platform API clients, one module per platform, picked by the account's platform."""

from django.conf import settings

from social.platforms.base import PlatformClient, PlatformError

__all__ = ["PlatformClient", "PlatformError", "client_for"]


def _config(platform: str) -> tuple[str, str, str]:
    """(client class path, environment token, base URL) of a platform, read at call time."""
    return {
        "instagram": (
            "social.platforms.meta.InstagramClient",
            settings.META_PAGE_ACCESS_TOKEN,
            settings.META_GRAPH_URL,
        ),
        "facebook": ("social.platforms.meta.FacebookClient", settings.META_PAGE_ACCESS_TOKEN, settings.META_GRAPH_URL),
        "x": ("social.platforms.x.XClient", settings.X_BEARER_TOKEN, settings.X_API_URL),
        "linkedin": (
            "social.platforms.linkedin.LinkedInClient",
            settings.LINKEDIN_ACCESS_TOKEN,
            settings.LINKEDIN_API_URL,
        ),
        "sandbox": ("social.platforms.sandbox.SandboxClient", "", "sandbox://"),
    }[platform]


def client_for(account) -> PlatformClient:
    """The API client of an account: its own token, else the environment's, else the sandbox."""
    from django.utils.module_loading import import_string

    path, env_token, base_url = _config(account.platform)
    token = account.access_token or env_token
    if account.platform != "sandbox" and not token:
        path, base_url = _config("sandbox")[0], "sandbox://"
    return import_string(path)(account, token=token, base_url=base_url)
