"""Operational endpoints and the landing page."""

import logging

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.cache import never_cache

from madansara.api.exceptions import error_body
from madansara.celery import app
from madansara.console import internals_sections
from madansara.home import home_cards, user_role
from madansara.observability import current_request_id
from madansara.roles import ROLE_ADMIN

logger = logging.getLogger(__name__)


@never_cache
def healthz(request):
    """The process is up (no dependency checks)."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return exc.__class__.__name__
    return None


def _check_broker() -> str | None:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return exc.__class__.__name__
    return None


@never_cache
def readyz(request):
    """Database and broker reachable: 200, otherwise 503 with what failed."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    ok = all(error is None for error in checks.values())
    if not ok:
        logger.warning("readiness check failed", extra={"checks": checks})
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {name: ("ok" if error is None else f"error: {error}") for name, error in checks.items()},
    }
    return JsonResponse(body, status=200 if ok else 503)


DOMAINS = [
    ("Contacts", "contacts", "People, their identities, consent history and tags; import, merge, erasure."),
    ("Outreach", "outreach", "Campaigns, segments, templates, the outbox."),
    ("Unified inbox", "inbox", "Conversations on every channel, AI drafts, the review queue."),
    ("Channels", "channels", "Outbound messages, delivery attempts, webhooks, provider status."),
    ("A/B testing", "abtesting", "Experiments, results, rollouts."),
    ("Website", "website", "Sites, sessions, funnels, recommendations."),
    ("Conversions & attribution", "conversion", "Conversions, journeys, channel performance."),
    ("Social", "social", "Posts, comments, funnels, advocates, insights."),
    ("Platform", "madansara", "API keys and the audit log."),
]


def landing(request):
    """The branded front door: what Madan Sara is, the way in, and each area of the console."""
    return render(
        request, "madansara/landing.html", {"domains": DOMAINS, "debug": settings.DEBUG, "title": "Madan Sara"}
    )


# --- error pages: the API's JSON error body under /api/, Django's pages elsewhere -------------
API_PREFIX = "/api/"


def _api_error(code: str, message: str, status: int, details=None) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=status)


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def page_not_found(request, exception):
    """handler404: API clients get JSON and, for the trailing slash typed by habit, the right URL."""
    if not request.path.startswith(API_PREFIX):
        return defaults.page_not_found(request, exception)
    stripped = request.path.rstrip("/")
    if stripped != request.path and _resolves(stripped):
        return _api_error(
            "not_found",
            f"No endpoint at {request.path}: API URLs have no trailing slash, use {stripped}",
            404,
            {"path": request.path, "did_you_mean": stripped},
        )
    return _api_error("not_found", f"No endpoint at {request.path}.", 404, {"path": request.path})


def bad_request(request, exception):
    """handler400 (e.g. a host not in ALLOWED_HOSTS, a malformed request)."""
    if not request.path.startswith(API_PREFIX):
        return defaults.bad_request(request, exception)
    return _api_error("bad_request", "The request could not be understood.", 400)


def permission_denied(request, exception):
    """handler403 for Django views under /api/ (DRF views answer their own 403s)."""
    if not request.path.startswith(API_PREFIX):
        return defaults.permission_denied(request, exception)
    return _api_error("permission_denied", "You do not have permission to perform this action.", 403)


def server_error(request):
    """handler500: the API's error body (with the request id to quote) instead of an HTML page."""
    if not request.path.startswith(API_PREFIX):
        return defaults.server_error(request)
    return _api_error(
        "server_error",
        "Something went wrong on our side; it has been logged.",
        500,
        {"request_id": current_request_id()},
    )


ROLE_INTRO = {
    "Admin": "Everything at a glance; low-level tables are under Internals.",
    "Marketer": "Your campaigns, the experiments waiting for you and the channels that answer.",
    "Agent": "Your queue, what is late and who has waited longest.",
    "Analyst": "Funnels, attribution and return on spend.",
}


@staff_member_required
def console_home(request):
    """Each role's home (the admin index)."""
    role, cards = home_cards(user=request.user)
    context = {
        **admin.site.each_context(request),
        "title": f"{role or 'Your'} home",
        "role": role,
        "intro": ROLE_INTRO.get(role, ""),
        "cards": cards,
    }
    return TemplateResponse(request, "admin/console_home.html", context)


@staff_member_required
def console_internals(request):
    """The low-level tables (attempts, events, buckets, exposures, daily stats…), grouped, for admins."""
    if user_role(request.user) != ROLE_ADMIN:
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": "Internals", "sections": internals_sections()}
    return TemplateResponse(request, "admin/console_internals.html", context)
