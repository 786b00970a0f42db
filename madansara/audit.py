"""The one way to write the audit log."""

from django.db import models

from madansara.models import AuditEvent


def audit_record(*, actor, action: str, target: models.Model, data: dict | None = None) -> AuditEvent:
    """Append an audit row: `actor` is a user, None (system) or a label such as "beat"."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = actor.get_username() if user else (actor if isinstance(actor, str) else "system")
    return AuditEvent.objects.create(
        actor=user,
        actor_label=label,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        data=data or {},
    )
