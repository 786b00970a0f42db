"""The OpenAPI schema generator: drf-spectacular's, with operations tagged by domain (contacts,
outreach, inbox, …) and read-only model fields declared as they are returned."""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from rest_framework import serializers


def _model_field(field):
    """The model field behind a ModelSerializer field with a plain `source`, else None."""
    meta = getattr(getattr(field, "parent", None), "Meta", None)
    model = getattr(meta, "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None


class DomainAutoSchema(openapi.AutoSchema):
    """Declares what the API really does where drf-spectacular's defaults say otherwise."""

    def get_tags(self) -> list[str]:
        """The view's API domain (its scope name), else the Django app it lives in."""
        domain = getattr(self.view, "domain", None)
        if domain:
            return [domain.replace("_", "-")]
        module = type(self.view).__module__.split(".")
        return [module[1] if module[0] == "madansara" and len(module) > 2 else module[0]]

    def _get_filter_parameters(self):
        """An empty filter (`?channel=`) means "not filtered", as django-filter treats it."""
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            if parameter.get("in") == "query":
                parameter["allowEmptyValue"] = True
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """DRF drops `allow_blank` from read-only fields, so a `blank=True` choice field would be
        documented as never empty while it returns ""; declare what the model allows."""
        if field.read_only and isinstance(field, serializers.ChoiceField):
            model_field = _model_field(field)
            if model_field is not None:
                field.allow_blank = field.allow_blank or model_field.blank
                field.allow_null = field.allow_null or model_field.null
        return super()._map_serializer_field(field, direction, bypass_extensions)
