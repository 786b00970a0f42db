"""The one way to write the audit log (and, for erasure, to take a person's data out of it)."""

from collections.abc import Iterable

from django.db import models

from madansara.erasure import REDACTED, redact_rows
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


def audit_redact(*, forms: list[str]) -> int:
    """Replace a person's values (see madansara.erasure.search_forms) wherever the log's data holds
    them; the rows stay (who did what, when). Returns the rows changed."""
    return redact_rows(AuditEvent.objects.all(), ["data"], forms)


def audit_scrub_keys(*, model: type[models.Model], ids: Iterable, keys: set[str]) -> int:
    """Blank `keys` (e.g. a draft's words) in the data of the rows about these objects."""
    rows = list(
        AuditEvent.objects.filter(target_type=model._meta.label_lower, target_id__in=[str(i) for i in ids]).only(
            "pk", "data"
        )
    )
    changed = [
        row
        for row in rows
        if isinstance(row.data, dict) and any(row.data.get(key) not in (None, "", REDACTED) for key in keys)
    ]
    for row in changed:
        row.data = {key: (REDACTED if key in keys and value else value) for key, value in row.data.items()}
    AuditEvent.objects.bulk_update(changed, ["data"])
    return len(changed)
