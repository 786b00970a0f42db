"""One error body for every API error:

{"error": {"code": "validation_error", "message": "...", "details": {...}}}
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def error_body(code: str, message: str, details=None) -> dict:
    """The project's one error body, for the views that answer without DRF's exception handler."""
    return {"error": {"code": code, "message": message, "details": details}}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request is well-formed but cannot be processed."
    default_code = "unprocessable"


def _message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _message(value)
            return inner if key in ("non_field_errors", "detail") else f"{key}: {inner}"
        return "Invalid input."
    if isinstance(detail, list):
        return _message(detail[0]) if detail else "Invalid input."
    return str(detail)


def _referenced_by(exc: ProtectedError | RestrictedError) -> dict[str, int]:
    """{model label: count} of the rows that keep the object from being deleted."""
    counts: dict[str, int] = {}
    for obj in exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects:
        label = obj._meta.label
        counts[label] = counts.get(label, 0) + 1
    return counts


def exception_handler(exc, context):
    extra_details = None
    if isinstance(exc, ProtectedError | RestrictedError):
        extra_details = {"referenced_by": _referenced_by(exc)}
        exc = Conflict(
            "Cannot delete: other records still refer to it ("
            + ", ".join(f"{count} {label}" for label, count in extra_details["referenced_by"].items())
            + "). Delete or reassign them first.",
            code="protected",
        )
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = getattr(exc, "detail", None)
    if isinstance(exc, exceptions.ValidationError):
        code = "validation_error"
    else:
        code = getattr(exc, "default_code", "error")
        if hasattr(detail, "code") and detail.code:
            code = detail.code
    body = error_body(code, _message(detail), extra_details or detail)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["error"]["retry_after"] = exc.wait
    return Response(body, status=response.status_code, headers=dict(response.items()))
