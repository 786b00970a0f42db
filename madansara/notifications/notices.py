"""The notifications app's own check: a failing channel provider tells the admins (run every minute)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q

from madansara.channels.models import AttemptOperation, AttemptOutcome, DeliveryAttempt
from madansara.notifications.models import NoticeKind, Severity
from madansara.notifications.services import notify
from madansara.roles import ROLE_ADMIN

WINDOW = timedelta(minutes=15)
# Refusals that are ours (consent, identity, channel rules, rate limits), not the provider failing.
OUR_REFUSALS = {
    "unsubscribed",
    "invalid_identity",
    "window_closed",
    "already_replied",
    "approval_required",
    "rate_limited",
}


def providers_failing(*, now) -> int:
    """A provider whose sends of the last 15 minutes mostly failed: once per provider and hour."""
    rows = (
        DeliveryAttempt.objects.filter(created_at__gte=now - WINDOW, operation=AttemptOperation.SEND)
        .exclude(error_code__in=OUR_REFUSALS)
        .values("provider")
        .annotate(total=Count("pk"), failed=Count("pk", filter=~Q(outcome=AttemptOutcome.SUCCESS)))
    )
    raised = 0
    for row in rows:
        total, failed = row["total"], row["failed"]
        if total < settings.NOTIFY_PROVIDER_MIN_ATTEMPTS or failed / total < settings.NOTIFY_PROVIDER_FAILURE_RATE:
            continue
        raised += bool(
            notify(
                kind=NoticeKind.PROVIDER_FAILING,
                key=f"provider:{row['provider']}",
                window=timedelta(hours=1),
                severity=Severity.CRITICAL,
                title=f"Provider {row['provider']} is failing: {failed} of {total} sends in 15 minutes",
                body="Check the provider's status and credentials; see Channels → Delivery attempts.",
                url="/admin/channels/deliveryattempt/?outcome__exact=transient",
                roles=[ROLE_ADMIN],
                now=now,
            )
        )
    return raised


CHECKS = [providers_failing]
