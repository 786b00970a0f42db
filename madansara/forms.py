"""Form fields that let people edit JSON columns as plain text: a list as one item per line, a
mapping as `name = value` lines, funnel steps as `url /pattern*` or `event name prop=value`.
Admins opt in per field with `ReadableJSONMixin.readable_json = {"field": FieldClass}`."""

import json

from django import forms
from django.core.exceptions import ValidationError

_TEXTAREA = {"rows": 4, "cols": 60}


def _scalar(text: str):
    """'3' → 3, 'true' → True, anything else stays text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, int | float | bool) else text


def _show(value) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


class LinesListField(forms.Field):
    """A list of words or values, one per line (commas also split)."""

    widget = forms.Textarea(attrs=_TEXTAREA)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(_show(item) for item in value)
        return value or ""

    def to_python(self, value):
        if isinstance(value, list):
            return value
        items = [part.strip() for line in (value or "").splitlines() for part in line.split(",")]
        return [item for item in items if item]


class KeyValueField(forms.Field):
    """A mapping, one `name = value` per line; numbers and true/false keep their type."""

    widget = forms.Textarea(attrs=_TEXTAREA)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{key} = {_show(item)}" for key, item in value.items())
        return value or ""

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        result = {}
        for number, line in enumerate((value or "").splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, item = line.partition("=")
            if not sep or not key.strip():
                raise ValidationError(f"Line {number}: write it as name = value.")
            result[key.strip()] = _scalar(item.strip())
        return result


class FunnelStepsField(forms.Field):
    """Funnel steps, one per line: `url /pricing*` or `event signup_completed plan=pro`."""

    widget = forms.Textarea(attrs=_TEXTAREA)
    default_help_text = "One step per line: “url /pricing*” or “event signup_completed plan=pro”."

    def prepare_value(self, value):
        if not isinstance(value, list):
            return value or ""
        lines = []
        for step in value:
            if step.get("url"):
                lines.append(f"url {step['url']}")
            else:
                filters = " ".join(f"{k}={_show(v)}" for k, v in (step.get("filters") or {}).items())
                lines.append(f"event {step.get('event', '')} {filters}".strip())
        return "\n".join(lines)

    def to_python(self, value):
        if isinstance(value, list):
            return value
        steps = []
        for number, line in enumerate((value or "").splitlines(), start=1):
            words = line.split()
            if not words:
                continue
            kind, rest = words[0].lower(), words[1:]
            if kind == "url" and len(rest) == 1:
                steps.append({"url": rest[0]})
            elif kind == "event" and rest:
                filters = {}
                for pair in rest[1:]:
                    key, sep, item = pair.partition("=")
                    if not sep:
                        raise ValidationError(f"Line {number}: filters are written prop=value.")
                    filters[key] = _scalar(item)
                steps.append({"event": rest[0], **({"filters": filters} if filters else {})})
            else:
                raise ValidationError(f"Line {number}: start with “url /path*” or “event name”.")
        return steps


class ReadableJSONMixin:
    """ModelAdmin/inline mixin: the JSON columns named in `readable_json` get a text field."""

    readable_json: dict[str, type[forms.Field]] = {}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field_class = self.readable_json.get(db_field.name)
        if field_class is None:
            return super().formfield_for_dbfield(db_field, request, **kwargs)
        return field_class(
            required=not db_field.blank,
            label=db_field.verbose_name.capitalize(),
            help_text=getattr(field_class, "default_help_text", "") or db_field.help_text,
            validators=db_field.validators,
        )
