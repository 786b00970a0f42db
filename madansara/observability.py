"""Request ids that follow a request into the Celery tasks it enqueues, and into every log line."""

import contextvars
import logging
import re
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.urls import resolve

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
HEADER = "X-Request-ID"


def current_request_id() -> str:
    """The request id of the request or task being handled ('' outside of one)."""
    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class DualMiddleware:
    """Sync and async capable (Django's middleware protocol): under ASGI a long-poll view stays
    async instead of holding a thread (madansara/live.py)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)


class RequestIdMiddleware(DualMiddleware):
    """Takes a well-formed X-Request-ID from the client or makes one; echoes it back."""

    def _start(self, request):
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        return request_id, request_id_var.set(request_id)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        request_id, token = self._start(request)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response

    async def __acall__(self, request):
        request_id, token = self._start(request)
        try:
            response = await self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response


def connect_celery_signals() -> None:
    """Carry the request id in task headers and restore it while the task runs."""
    from celery import signals

    @signals.before_task_publish.connect(weak=False)
    def _add_request_id(headers=None, **kwargs):
        request_id = request_id_var.get()
        if request_id and headers is not None:
            headers.setdefault("request_id", request_id)

    @signals.task_prerun.connect(weak=False)
    def _set_request_id(task=None, **kwargs):
        request_id = getattr(task.request, "request_id", None) or ""
        task.request._request_id_token = request_id_var.set(request_id)

    @signals.task_postrun.connect(weak=False)
    def _reset_request_id(task=None, **kwargs):
        token = getattr(task.request, "_request_id_token", None)
        if token is not None:
            request_id_var.reset(token)


class LivenessMiddleware(DualMiddleware):
    """Answers `GET /healthz` before any middleware validates the host or redirects to HTTPS, so
    container and platform health checks (calling http://127.0.0.1:$PORT or their own host name)
    see that the process is up. Placed right after the metrics middleware."""

    def _health(self, request):
        if request.path_info == "/healthz" and request.method in ("GET", "HEAD"):
            from madansara import views  # (this module is loaded with the logging config, before the apps)

            request.resolver_match = resolve("/healthz")
            return views.healthz(request)
        return None

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self._health(request) or self.get_response(request)

    async def __acall__(self, request):
        return self._health(request) or await self.get_response(request)
