"""Prometheus metrics: the counters each process updates, and the `/metrics` endpoint.

Every project metric is named `madansara_…`; label values come from small fixed sets (route
names, channels, providers, outcomes, engines), never ids or addresses.

Processes: web and worker update their own counters. Under gunicorn (several processes) and
the Celery prefork pool, `PROMETHEUS_MULTIPROC_DIR` makes every process write its samples to
files there, summed at scrape time. The worker serves its own counters on `METRICS_PORT`;
the web's `/metrics` adds gauges read from the database at scrape time (`<app>/metrics.py`
modules declare them, see `collect_gauges`). Both require `Authorization: Bearer
$METRICS_TOKEN`; without `METRICS_TOKEN` the endpoint does not exist (404).
"""

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import import_module
from threading import Thread
from wsgiref.simple_server import make_server

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.apps import apps
from django.conf import settings
from django.db.models import Max
from django.http import HttpResponse
from django.utils import timezone
from kombu.exceptions import ChannelError
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,  # the classic text format every Prometheus 2.x reads
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import ThreadingWSGIServer, _SilentHandler

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "madansara_http_requests",
    "HTTP requests answered, by route name, method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "madansara_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
SENDS = Counter(
    "madansara_channel_sends",
    "Provider send attempts by channel, provider and outcome (success, transient, permanent).",
    ["channel", "provider", "outcome"],
)
SEND_LATENCY = Histogram(
    "madansara_channel_send_duration_seconds",
    "Time of one provider send attempt (rules, rate limit and the provider call).",
    ["channel", "provider"],
    buckets=LATENCY_BUCKETS,
)
WEBHOOKS_RECEIVED = Counter(
    "madansara_webhooks_received", "Verified webhook requests stored, by provider and kind.", ["provider", "kind"]
)
WEBHOOKS_REFUSED = Counter(
    "madansara_webhooks_refused",
    "Webhook requests refused, by provider and reason (signature, malformed, too_large).",
    ["provider", "reason"],
)
TRACKER_EVENTS = Counter(
    "madansara_tracker_events",
    "Tracker events by outcome: accepted (stored or spooled), spooled, rejected (invalid), filtered (bots, DNT).",
    ["outcome"],
)
CLASSIFICATIONS = Counter(
    "madansara_inbox_classifications", "Inbound messages classified, by engine and status.", ["engine", "status"]
)
DRAFTS = Counter("madansara_inbox_drafts", "Reply drafts written, by engine (llm, template, local).", ["engine"])
TASKS = Counter(
    "madansara_celery_tasks", "Celery tasks run by a worker, by task name and final state.", ["task", "state"]
)
TASK_FAILURES = Counter("madansara_celery_task_failures", "Celery tasks that raised, by task name.", ["task"])
NOTIFICATIONS = Counter(
    "madansara_notifications", "Human notifications raised, by kind (after de-duplication).", ["kind"]
)


def route_of(request) -> str:
    """A bounded route label: the resolved URL name, else 'unmatched'."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class MetricsMiddleware:
    """Counts and times every request handled by Django (outermost middleware); sync and async
    capable, so the ASGI process's long-polls stay async."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        http_observe(route=route_of(request), method=request.method, status=response.status_code, started=started)
        return response

    async def __acall__(self, request):
        started = time.perf_counter()
        response = await self.get_response(request)
        http_observe(route=route_of(request), method=request.method, status=response.status_code, started=started)
        return response


KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


_children: dict[tuple, object] = {}


def _child(metric, *labels):
    """metric.labels(*labels), remembered: the hot paths (tracker ingest, the dispatcher) skip
    prometheus_client's lock and label formatting. Label sets are bounded, so is this dict."""
    key = (metric, *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def http_observe(*, route: str, method: str, status: int, started: float) -> None:
    """Record one answered request (also used by the tracker's WSGI fast path)."""
    method = method if method in KNOWN_METHODS else "other"
    _child(HTTP_REQUESTS, route, method, status).inc()
    _child(HTTP_LATENCY, route, method).observe(time.perf_counter() - started)


def tracker_count(*, outcome: str, events: int) -> None:
    """Count tracker events by outcome (accepted, rejected, spooled, filtered)."""
    if events:
        _child(TRACKER_EVENTS, outcome).inc(events)


def send_observe(*, channel: str, provider: str, outcome: str, seconds: float) -> None:
    """Record one provider send attempt."""
    _child(SENDS, channel, provider, outcome).inc()
    _child(SEND_LATENCY, channel, provider).observe(seconds)


# --- gauges read from the database at scrape time --------------------------------------------


@dataclass
class Gauge:
    """One gauge family computed at scrape time: `samples` are (labels, value)."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()
    samples: list[tuple[tuple[str, ...], float]] = field(default_factory=list)


def declared_gauge_functions() -> list[Callable[[], Iterable[Gauge]]]:
    """`GAUGES` lists from every installed app's `metrics` module (like periodic jobs)."""
    found = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.metrics"
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        found.extend(getattr(module, "GAUGES", []))
    return found


class DatabaseCollector:
    """Runs the declared gauge functions at scrape time; one failing never hides the others."""

    def collect(self):
        for function in declared_gauge_functions():
            try:
                gauges = list(function())
            except Exception:
                logger.exception("metrics gauge failed", extra={"gauge": function.__qualname__})
                continue
            for gauge in gauges:
                family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=list(gauge.labels))
                for label_values, value in gauge.samples:
                    family.add_metric(list(label_values), value)
                yield family


def process_registry() -> CollectorRegistry:
    """This process's counters, or every process's when PROMETHEUS_MULTIPROC_DIR is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def exposition(*, with_database: bool) -> bytes:
    """The text exposition: process counters, plus the database gauges on the web."""
    text = generate_latest(process_registry())
    if with_database:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(DatabaseCollector())
        text += generate_latest(registry)
    return text


def token_allows(authorization: str) -> bool:
    """Does an Authorization header carry the configured bearer token?"""
    scheme, _, token = authorization.partition(" ")
    expected = settings.METRICS_TOKEN
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected)


def metrics_view(request):
    """`GET /metrics`: 404 without METRICS_TOKEN configured, 401 without the right bearer token."""
    if not settings.METRICS_TOKEN:
        return HttpResponse(status=404)
    if not token_allows(request.headers.get("Authorization", "")):
        response = HttpResponse("Bearer token required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(with_database=True), content_type=CONTENT_TYPE_PLAIN_0_0_4)


# --- the Celery worker: failures counted, its own scrape endpoint ---------------------------


def worker_metrics_app(environ, start_response):
    """WSGI app serving the worker's counters on METRICS_PORT with the same bearer token."""
    if not settings.METRICS_TOKEN or environ.get("PATH_INFO") != "/metrics":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found.\n"]
    if not token_allows(environ.get("HTTP_AUTHORIZATION", "")):
        start_response("401 Unauthorized", [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")])
        return [b"Bearer token required.\n"]
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_PLAIN_0_0_4)])
    return [exposition(with_database=False)]


def worker_metrics_serve(port: int) -> None:
    """Serve worker_metrics_app on a daemon thread (prometheus_client's threaded WSGI server)."""
    # every interface: Prometheus scrapes the worker from another host (the bearer token guards it)
    server = make_server(
        "0.0.0.0",  # noqa: S104
        port,
        worker_metrics_app,
        ThreadingWSGIServer,
        handler_class=_SilentHandler,
    )
    Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    logger.info("worker metrics served", extra={"port": port})


def connect_celery_signals() -> None:
    """Count task failures; serve metrics from the worker's main process when METRICS_PORT is set."""
    from celery import signals

    @signals.task_failure.connect(weak=False)
    def _count_failure(sender=None, **kwargs):
        TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()

    @signals.task_postrun.connect(weak=False)
    def _count_run(task=None, state=None, **kwargs):
        if task is not None and not task.request.is_eager:
            TASKS.labels(task.name, state or "UNKNOWN").inc()

    @signals.worker_ready.connect(weak=False)
    def _serve(**kwargs):
        if settings.METRICS_PORT and settings.METRICS_TOKEN:
            worker_metrics_serve(settings.METRICS_PORT)

    @signals.worker_process_shutdown.connect(weak=False)
    def _forget(pid=None, **kwargs):
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and pid:
            multiprocess.mark_process_dead(pid)


def celery_queue_gauges() -> list[Gauge]:
    """Messages waiting in the broker's default queue (passive declare: works on Redis and the folder broker)."""
    from madansara.celery import app

    queue = app.conf.task_default_queue or "celery"
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        try:
            waiting = connection.default_channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError:  # the queue does not exist yet: nothing was ever sent to it
            waiting = 0
    gauge = Gauge("madansara_celery_queue_length", "Tasks waiting in the broker queue.", ("queue",))
    gauge.samples.append(((queue,), float(waiting)))
    return [gauge]


def beat_gauges() -> list[Gauge]:
    """Seconds since celery-beat last ran an enabled job (it saves last_run_at every few minutes)."""
    from django_celery_beat.models import PeriodicTask

    last = PeriodicTask.objects.filter(enabled=True).aggregate(last=Max("last_run_at"))["last"]
    gauge = Gauge(
        "madansara_beat_last_run_age_seconds",
        "Seconds since celery-beat last sent a periodic job (grows without bound when beat is down).",
    )
    if last is not None:
        gauge.samples.append(((), (timezone.now() - last).total_seconds()))
    return [gauge]


GAUGES = [celery_queue_gauges, beat_gauges]
