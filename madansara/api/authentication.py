"""API keys: `Authorization: Bearer ms_<prefix>_<secret>`."""

import hmac
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from madansara.models import APIKey, hash_key

LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_verify(raw: str) -> APIKey:
    """The active key of an active user for a raw `ms_<prefix>_<secret>` (last use recorded);
    raises AuthenticationFailed. Shared by the REST API and the MCP server."""
    pieces = raw.split("_", 2)
    if len(pieces) != 3 or pieces[0] != "ms":
        raise exceptions.AuthenticationFailed("Invalid API key.")
    key = APIKey.objects.select_related("user").filter(prefix=pieces[1]).first()
    if key is None or not hmac.compare_digest(key.hashed_key, hash_key(raw)):
        raise exceptions.AuthenticationFailed("Invalid API key.")
    if not key.is_active:
        raise exceptions.AuthenticationFailed("API key revoked or expired.")
    if not key.user.is_active:
        raise exceptions.AuthenticationFailed("The key's owner is inactive.")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        APIKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


class APIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: expected 'Bearer <key>'.")
        key = api_key_verify(parts[1])
        return key.user, key

    def authenticate_header(self, request):
        return self.keyword


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "madansara.api.authentication.APIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Madan Sara API key"}
