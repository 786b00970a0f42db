"""Operational endpoints and the landing page."""

import logging

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache

from madansara.home import home_cards

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
    from madansara.celery import app

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
    ("Contacts & outreach", "outreach", "Contacts, consent, campaigns, templates, the outbox."),
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


ROLE_INTRO = {
    "Admin": "Everything at a glance; low-level tables are under Internals.",
    "Marketer": "Your campaigns, the experiments waiting for you and the channels that answer.",
    "Agent": "Your queue, what is late and who has waited longest.",
    "Analyst": "Funnels, attribution and return on spend.",
}


@staff_member_required
def console_home(request):
    """Each role's home (the admin index); `?internals=1` shows every table, for admins."""
    if request.GET.get("internals") and request.user.is_superuser:
        return admin.site.index(request, extra_context={"title": "Internals: every table"})
    role, cards = home_cards(user=request.user)
    context = {
        **admin.site.each_context(request),
        "title": f"{role or 'Your'} home",
        "role": role,
        "intro": ROLE_INTRO.get(role, ""),
        "cards": cards,
    }
    return TemplateResponse(request, "admin/console_home.html", context)
