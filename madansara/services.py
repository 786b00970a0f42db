"""Platform services: API keys."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from madansara.audit import audit_record
from madansara.models import API_DOMAINS, APIKey

ACCESS_LEVELS = ("read", "write")
WRITE_VERBS = ("add", "change", "delete")


def api_key_scope_choices() -> list[str]:
    """Every grantable scope, e.g. 'contacts:read', plus the '*:read'/'*:write' wildcards."""
    return [f"{domain}:{access}" for domain in ("*", *API_DOMAINS) for access in ACCESS_LEVELS]


def api_key_scope_errors(*, user, scopes: list[str]) -> list[str]:
    """Why `user` may not grant these scopes (empty when all are fine): a key never exceeds its owner."""
    errors = []
    perms = user.get_all_permissions() if not user.is_superuser else None
    for scope in scopes:
        domain, _, access = scope.partition(":")
        if access not in ACCESS_LEVELS or (domain != "*" and domain not in API_DOMAINS):
            errors.append(f"Unknown scope '{scope}'.")
            continue
        if perms is None:
            continue
        for name in API_DOMAINS if domain == "*" else [domain]:
            for app in API_DOMAINS[name]:
                verbs = ("view",) if access == "read" else WRITE_VERBS
                if not any(p.startswith(f"{app}.{verb}_") for p in perms for verb in verbs):
                    errors.append(f"Your role cannot {access} {name}: scope '{scope}' exceeds your rights.")
                    break
    return list(dict.fromkeys(errors))


@transaction.atomic
def api_key_create(*, user, name: str, scopes: list[str], expires_at=None, actor=None) -> tuple[APIKey, str]:
    """Create a key for `user`; returns (key, raw key). The raw key is shown once, only its hash is kept."""
    if not name.strip():
        raise ValidationError({"name": ["A name is required."]})
    if not scopes:
        raise ValidationError({"scopes": ["At least one scope is required."]})
    errors = api_key_scope_errors(user=user, scopes=scopes)
    if errors:
        raise ValidationError({"scopes": errors})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["Must be in the future."]})
    raw, prefix, hashed = APIKey.generate()
    key = APIKey.objects.create(
        user=user, name=name.strip(), prefix=prefix, hashed_key=hashed, scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )  # fmt: skip
    audit_record(actor=actor or user, action="api_key.create", target=key, data={"scopes": key.scopes})
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: APIKey, actor=None) -> APIKey:
    """Revoke a key now (idempotent)."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api_key.revoke", target=key)
    return key
