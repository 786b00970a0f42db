"""Conversions: idempotent ingest from the API, the admin, outreach goals and tracker rules."""

import hashlib
import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from conversion import tasks
from conversion.models import (
    ConversionEvent,
    ConversionRule,
    ConversionSource,
    ConversionType,
)
from conversion.signals import conversion_recorded

logger = logging.getLogger(__name__)


def _after_commit(conversion: ConversionEvent) -> None:
    transaction.on_commit(lambda: conversion_recorded.send(sender=ConversionEvent, conversion=conversion))
    transaction.on_commit(lambda: tasks.conversion_attribute_task.delay(conversion.pk))


def _clean_money(value, currency: str) -> tuple[Decimal, str]:
    try:
        amount = Decimal(str(value if value is not None else 0))
    except InvalidOperation:
        raise ValidationError({"value": "Not a number."})
    if not amount.is_finite() or amount < 0:
        raise ValidationError({"value": "Must be zero or more."})
    code = (currency or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationError({"currency": "An ISO 4217 code such as USD."})
    return amount.quantize(Decimal("0.01")), code


@transaction.atomic
def conversion_record(
    *,
    external_id: str,
    type: str,  # the conversion type code, the name other apps call it by
    value: Decimal | float | str = 0,
    currency: str = "USD",
    contact_id: int | None = None,
    visitor_id: str | None = None,
    occurred_at: datetime,
    source: str = ConversionSource.API,
) -> tuple[ConversionEvent, bool]:
    """Record a conversion once per external id; returns (conversion, created)."""
    external_id = (external_id or "").strip()
    if not external_id:
        raise ValidationError({"external_id": "Required."})
    existing = ConversionEvent.objects.filter(external_id=external_id).first()
    if existing is not None:
        return existing, False
    conversion_type = ConversionType.objects.filter(code=type, is_active=True).first()
    if conversion_type is None:
        known = ", ".join(ConversionType.objects.filter(is_active=True).values_list("code", flat=True))
        raise ValidationError({"type": f"Unknown conversion type '{type}'. Known: {known or 'none'}."})
    if not contact_id and not visitor_id:
        raise ValidationError({"contact_id": "A contact or an anonymous visitor id is required."})
    if timezone.is_naive(occurred_at):
        raise ValidationError({"occurred_at": "Needs a time zone."})
    amount, code = _clean_money(value, currency)
    conversion, created = ConversionEvent.objects.get_or_create(
        external_id=external_id,
        defaults={
            "conversion_type": conversion_type,
            "value": amount,
            "currency": code,
            "contact_id": contact_id,
            "visitor_id": visitor_id or "",
            "occurred_at": occurred_at,
            "source": source,
        },
    )
    if created:
        logger.info("conversion recorded id=%s type=%s source=%s", conversion.pk, type, source)
        _after_commit(conversion)
    return conversion, created


def conversions_from_tracker_events(*, site_id: int, events: list[dict]) -> int:
    """Apply the active conversion rules to freshly ingested tracker events; returns conversions created."""
    names = {e.get("name") for e in events}
    rules = [
        r
        for r in ConversionRule.objects.select_related("conversion_type").filter(is_active=True, event_name__in=names)
        if r.site_id in (None, site_id)
    ]
    created = 0
    for event in events:
        for rule in rules:
            if not rule.matches(site_id=site_id, event_name=event.get("name")):
                continue
            if not (event.get("contact_id") or event.get("visitor_id")):
                continue
            props = event.get("props") or {}
            business_id = props.get(rule.id_property) if rule.id_property else None
            key = business_id or _event_fingerprint(event)
            value = props.get(rule.value_property) if rule.value_property else None
            try:
                _, was_created = conversion_record(
                    external_id=f"tracker:{site_id}:{rule.conversion_type.code}:{key}",
                    type=rule.conversion_type.code,
                    value=value if value is not None else rule.conversion_type.default_value,
                    currency=props.get(rule.currency_property) or "USD",
                    contact_id=event.get("contact_id"),
                    visitor_id=event.get("visitor_id") or "",
                    occurred_at=_as_datetime(event.get("occurred_at")),
                    source=ConversionSource.TRACKER,
                )
            except ValidationError as exc:
                logger.warning("tracker conversion skipped rule=%s: %s", rule.pk, exc.messages)
                continue
            created += was_created
    return created


def _event_fingerprint(event: dict) -> str:
    raw = "|".join(str(event.get(k, "")) for k in ("id", "visitor_id", "session_id", "name", "occurred_at", "url"))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _as_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return timezone.now()
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, timezone.UTC)
    return timezone.now()
