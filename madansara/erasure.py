"""What the apps' `contact_erased` receivers share: the forms a person's values take in stored
text, and how to find and redact them in rows that are not linked to the contact by a key."""

import hashlib
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.functions import Cast

REDACTED = "[erased]"
# Shorter values (a two-letter name) would match unrelated text; rows linked to the contact are
# blanked whatever their values.
MIN_SEARCH_LENGTH = 4


def search_forms(values: Iterable[str]) -> list[str]:
    """Every form a value takes in stored text: as is, URL-encoded, JSON-escaped, a phone's digits."""
    forms: set[str] = set()
    for value in values:
        value = (value or "").strip()
        if len(value) < MIN_SEARCH_LENGTH:
            continue
        forms |= {value, quote_plus(value), quote(value, safe=""), json.dumps(value)[1:-1]}
        if value.startswith("+") and value[1:].isdigit():
            forms.add(value[1:])  # WhatsApp ids and some payloads drop the '+'
    return sorted(forms, key=lambda form: (-len(form), form))


def matching(queryset: QuerySet, fields: Iterable[str], forms: list[str]) -> QuerySet:
    """Rows of `queryset` where any of `fields` (text or JSON) contains any form, case-insensitively."""
    if not forms:
        return queryset.none()
    model = queryset.model
    query = Q()
    for name in fields:
        column = name
        if isinstance(model._meta.get_field(name), models.JSONField):
            column = f"_{name}_text"
            queryset = queryset.alias(**{column: Cast(name, models.TextField())})
        for form in forms:
            query |= Q(**{f"{column}__icontains": form})
    return queryset.filter(query)


def redact(value, forms: list[str]):
    """`value` (a string or JSON-like structure) with every form replaced by REDACTED."""
    if isinstance(value, str):
        if not forms:
            return value
        pattern = "|".join(re.escape(form) for form in forms)
        return re.sub(pattern, REDACTED, value, flags=re.IGNORECASE)
    if isinstance(value, dict):
        return {key: redact(item, forms) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item, forms) for item in value]
    return value


def redact_rows(queryset: QuerySet, fields: list[str], forms: list[str]) -> int:
    """Redact the forms inside `fields` of the matching rows (one person's rows: few); returns how many."""
    rows = list(matching(queryset, fields, forms).only("pk", *fields))
    for row in rows:
        for name in fields:
            setattr(row, name, redact(getattr(row, name), forms))
    if rows:
        queryset.model._base_manager.bulk_update(rows, fields)
    return len(rows)


# A value that must still be matched after its person is erased (an address on the suppression
# list: the opt-out outlives the erasure) is kept as its digest: equal addresses still meet, the
# address itself cannot be read back.
DIGEST_PREFIX = "sha256:"


def digest(value: str) -> str:
    """`value`'s stored digest form ("sha256:" and the hex SHA-256 of its UTF-8 text)."""
    return DIGEST_PREFIX + hashlib.sha256(value.encode()).hexdigest()


def digest_sql(column: str, vendor: str) -> str:
    """SQL computing `digest()` of a text column (PostgreSQL 11+ built-ins; SQLite through the
    SHA256 function Django registers on every connection)."""
    if vendor == "postgresql":
        return f"('{DIGEST_PREFIX}' || encode(sha256(convert_to({column}, 'UTF8')), 'hex'))"
    return f"('{DIGEST_PREFIX}' || SHA256({column}))"


class Digest(models.Func):
    """`digest()` of an expression, in a query."""

    output_field = models.CharField()

    def as_sql(self, compiler, connection, **extra_context):
        inner, params = compiler.compile(self.source_expressions[0])
        return digest_sql(inner, connection.vendor), params
