"""The marketer's home: experiments waiting for a decision."""

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from abtesting.models import ABTest, ABTestSnapshot, ABTestStatus
from madansara.home import Card
from madansara.roles import ROLE_ADMIN, ROLE_MARKETER


def role_cards(*, user, role) -> list[Card]:
    if role not in (ROLE_MARKETER, ROLE_ADMIN) or not user.has_perm("abtesting.view_abtest"):
        return []
    latest = ABTestSnapshot.objects.filter(test=OuterRef("pk")).order_by("-computed_at", "-id")
    tests = (
        ABTest.objects.filter(status__in=[ABTestStatus.RUNNING, ABTestStatus.STOPPED], winner__isnull=True)
        .annotate(computed=Subquery(latest.values("computed_at")[:1]))
        .order_by("status", "-id")[:6]
    )
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:abtesting_abtest_change", args=[t.pk]),
                t.name,
                t.get_status_display(),
                t.primary_metric,
                t.computed.strftime("%d %b %H:%M") if t.computed else "not yet",
            )
            for t in tests
        ),
    )
    body = (
        format_html(
            '<p class="why">{}</p><table><tr><th>Experiment</th><th>Status</th><th>Metric</th><th>Results</th></tr>'
            "{}</table>",
            "Running or stopped without a winner: open one to read its results and roll out or stop it.",
            rows,
        )
        if rows
        else format_html('<p class="why">{}</p>', "No experiment is waiting: start one from Experiments.")
    )
    return [
        Card(
            "Experiments waiting for a decision",
            body,
            ("All experiments", reverse("admin:abtesting_abtest_changelist")),
            21,
        )
    ]
