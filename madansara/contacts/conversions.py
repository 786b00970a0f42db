"""Did a contact convert? Segments, journeys and campaign lift ask; the app that records
conversions answers, by registering its source from its receivers (so no app below imports it):

    conversions_source_register(source)  # source(*, contact, code=None, since=None) -> QuerySet

`contact` and `since` may be expressions, e.g. OuterRef("contact_id"), OuterRef("enrolled_at").
"""

from collections.abc import Callable

from django.db.models import BooleanField, Exists, QuerySet, Value

_sources: list[Callable[..., QuerySet]] = []


def conversions_source_register(source: Callable[..., QuerySet]) -> None:
    """Set the source of conversion rows (idempotent; the last one registered answers)."""
    if source not in _sources:
        _sources.append(source)


def contact_converted(*, contact, code: str | None = None, since=None):
    """A boolean expression: the contact has a conversion (of type `code`, at or after `since`).
    Always false when no installed app records conversions."""
    if not _sources:
        return Value(False, output_field=BooleanField())
    return Exists(_sources[-1](contact=contact, code=code, since=since))
