"""Who an agent acts as: an API key (its scopes) and the key's owner (their role), and the audit
row every tool call writes naming the key."""

from dataclasses import dataclass

from django.db import models

from madansara.audit import audit_record
from madansara.models import ActionPolicy, APIKey, PolicyTier


class ToolRefused(Exception):
    """The call is refused: a missing scope, a role that does not allow it, or the action policy."""


@dataclass(frozen=True)
class Principal:
    key: APIKey

    @property
    def user(self):
        return self.key.user

    @property
    def label(self) -> str:
        return f"{self.key.name} (ms_{self.key.prefix}_…)"

    def can(self, domain: str, access: str = "read") -> bool:
        return self.key.is_active and self.key.allows(domain, access)

    def require(self, domain: str, access: str = "read", perms: tuple[str, ...] = ()) -> None:
        """Refuse unless the key has `domain:access` and the owner's role holds `perms`."""
        if not self.key.is_active:
            raise ToolRefused("The API key was revoked or has expired.")
        if not self.key.allows(domain, access):
            raise ToolRefused(f"Refused: this API key lacks the '{domain}:{access}' scope.")
        if perms and not self.user.has_perms(perms):
            raise ToolRefused("Refused: the key owner's role does not allow this action.")

    def tier(self, action: str) -> str:
        """The action policy's tier; refused raises ToolRefused with the operator's note."""
        tier, note = ActionPolicy.tier_for(action)
        if tier == PolicyTier.REFUSED:
            raise ToolRefused(f"Refused by the action policy: {note or 'agents may not ' + action.replace('_', ' ')}.")
        return tier

    def audit(self, *, tool: str, target: models.Model | None = None, **data) -> None:
        audit_record(
            actor=self.user, action=f"agents.{tool}", target=target or self.key, data={"api_key": self.label, **data}
        )
