"""Filters shared by every app's FilterSets."""

from datetime import UTC, timedelta

import django_filters
import django_filters.rest_framework
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_filters.fields import IsoDateTimeField

# PostgreSQL's timestamptz takes offsets up to ±15:59; every real zone is within -12:00..+14:00.
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)


class UTCIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 date-time, refused with a clear message when its UTC offset is not a real one, and
    handed to the database in UTC (so no driver or server ever sees an odd offset)."""

    default_error_messages = {
        "offset": "The UTC offset must be within ±15:59.",
        "range": "The date-time is out of range.",
    }

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise ValidationError(self.error_messages["offset"], code="offset")
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError(self.error_messages["range"], code="range") from exc


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """Use this for every date-time query parameter (`created_after=2024-01-01T00:00:00+02:00`)."""

    field_class = UTCIsoDateTimeField


class StrictBooleanField(forms.Field):
    """true/false (or 1/0); an unknown value is an error, not a silently ignored filter."""

    default_error_messages = {"invalid": "Use true or false."}
    TRUE, FALSE = ("true", "1"), ("false", "0")

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValidationError(self.error_messages["invalid"], code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class IdFilter(django_filters.NumberFilter):
    """A row id (`assignee=3`): a whole number in the database's bigint range, else a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class FilterSet(django_filters.rest_framework.FilterSet):
    """Base of every API FilterSet: fields named in `Meta.fields` get the strict filters above too."""

    FILTER_DEFAULTS = {
        **django_filters.rest_framework.FilterSet.FILTER_DEFAULTS,
        models.DateTimeField: {"filter_class": DateTimeFilter},
        models.BooleanField: {"filter_class": BooleanFilter},
    }


class DjangoFilterBackend(django_filters.rest_framework.DjangoFilterBackend):
    """The default filter backend; FilterSets it builds from `filterset_fields` use our FilterSet."""

    filterset_base = FilterSet
