"""Request ids that follow a request into the Celery tasks it enqueues, and into every log line."""

import contextvars
import logging
import re
import uuid

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


class RequestIdMiddleware:
    """Takes a well-formed X-Request-ID from the client or makes one; echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
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


class LivenessApp:
    """WSGI: answers `GET /healthz` before Django's host and HTTPS checks, so container and
    platform health checks (which call http://127.0.0.1 or their own host name) see the process
    is up; every other request goes to `app`."""

    BODY = b'{"status": "ok"}'

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/healthz" or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(self.BODY))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [self.BODY]
