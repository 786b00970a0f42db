"""Raising notices and delivering them.

Anything that should tell a person calls `notify(...)` (the inbox, experiments and channel
checks in `<app>/notices.py`, the outbound-webhook endpoints when they disable one). A notice
is stored once per `dedup_key` and window; each recipient gets it by e-mail (now, after their
quiet hours, or in their daily digest) and the Slack webhook gets it once; the admin lists them.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from madansara.channels.retry import NOTIFY
from madansara.metrics import NOTIFICATIONS
from madansara.notifications import tasks
from madansara.notifications.models import (
    Delivery,
    DeliveryStatus,
    DigestMode,
    NoticeKind,
    Notification,
    NotificationPreference,
    Severity,
    Transport,
)
from madansara.notifications.transports import TRANSPORTS, TransportError
from madansara.roles import ROLE_ADMIN

logger = logging.getLogger(__name__)


def _window_key(key: str, window: timedelta | None, now) -> str:
    """The dedup key of the window `now` falls in (windows are aligned on the epoch)."""
    if window is None:
        return key
    seconds = int(window.total_seconds())
    return f"{key}@{int(now.timestamp()) // seconds * seconds}"


def recipients_for(*, users: Iterable = (), roles: Iterable[str] = ()) -> list:
    """Active users given, plus the active members of the role groups, without duplicates."""
    User = get_user_model()
    wanted = {user.pk for user in users if user is not None}
    found = User.objects.filter(is_active=True).filter(pk__in=wanted) | User.objects.filter(
        is_active=True, groups__name__in=list(roles)
    )
    return list(found.distinct().order_by("pk"))


def _email_plan(user, now) -> tuple[str, object] | None:
    """(status, deliver_after) of an e-mail to `user`, or None when they get no e-mail."""
    if not user.email:
        return None
    preference = NotificationPreference.objects.filter(user=user).first()
    if preference is None:
        return DeliveryStatus.PENDING, now
    if not preference.email_enabled:
        return None
    if preference.digest == DigestMode.DAILY:
        return DeliveryStatus.DIGEST, now
    quiet_until = preference.quiet_until(now)
    if quiet_until is not None:
        return DeliveryStatus.HELD, quiet_until
    return DeliveryStatus.PENDING, now


def notify(
    *,
    kind: str,
    key: str,
    title: str,
    body: str = "",
    url: str = "",
    users: Iterable = (),
    roles: Iterable[str] = (),
    severity: str = Severity.WARNING,
    window: timedelta | None = timedelta(hours=1),
    target=None,
    now=None,
) -> Notification | None:
    """Raise a notice to `users` and the members of `roles` (plus NOTIFY_ADMIN_EMAILS and Slack).

    `key` names what the notice is about (e.g. "conversation:12"); within one `window` (None:
    ever) the same kind and key raise nothing more and None is returned. `body` must not quote a
    customer's message. Deliveries are sent after commit.
    """
    now = now or timezone.now()
    dedup_key = _window_key(f"{kind}:{key}", window, now)[:200]
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                kind=kind,
                severity=severity,
                dedup_key=dedup_key,
                title=title[:200],
                body=body,
                url=url,
                target_type=target._meta.label_lower if target is not None else "",
                target_id=str(target.pk) if target is not None else "",
                created_at=now,
            )
            deliveries = _deliveries_plan(notification, recipients_for(users=users, roles=roles), now)
            Delivery.objects.bulk_create(deliveries)
    except IntegrityError:  # raised before in this window
        return None
    NOTIFICATIONS.labels(kind).inc()
    transaction.on_commit(_enqueue_due)
    return notification


def raised_keys(*, kinds: Iterable[str], since) -> set[str]:
    """Dedup keys of the notices of `kinds` raised since `since`: lets a check skip what it
    already raised before slicing its batch (so old conditions never starve new ones)."""
    return set(
        Notification.objects.filter(kind__in=list(kinds), created_at__gte=since).values_list("dedup_key", flat=True)
    )


def _deliveries_plan(notification: Notification, people: list, now) -> list[Delivery]:
    deliveries, addresses = [], set()
    for user in people:
        plan = _email_plan(user, now)
        if plan is None or user.email.lower() in addresses:
            continue
        addresses.add(user.email.lower())
        status, after = plan
        deliveries.append(
            Delivery(
                notification=notification,
                transport=Transport.EMAIL,
                user=user,
                address=user.email,
                status=status,
                deliver_after=after,
            )
        )
    for address in settings.NOTIFY_ADMIN_EMAILS:
        if address.lower() not in addresses:
            addresses.add(address.lower())
            deliveries.append(
                Delivery(notification=notification, transport=Transport.EMAIL, address=address, deliver_after=now)
            )
    if settings.NOTIFY_SLACK_WEBHOOK_URL:
        deliveries.append(
            Delivery(notification=notification, transport=Transport.SLACK, address="slack", deliver_after=now)
        )
    return deliveries


def _enqueue_due() -> None:
    tasks.deliveries_send_due_task.delay()


def _text(notification: Notification) -> str:
    link = f"\n{settings.PUBLIC_BASE_URL}{notification.url}" if notification.url else ""
    return f"{notification.body}{link}".strip()


def delivery_send(*, delivery: Delivery) -> bool:
    """One attempt at one delivery: claimed first (pending → sent) so two workers never both send;
    a failure is retried with the NOTIFY policy (never before the transport's Retry-After)."""
    claimed = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENT, attempts=delivery.attempts + 1, sent_at=timezone.now()
    )
    if not claimed:
        return False
    notification = delivery.notification
    prefix = {Severity.CRITICAL: "[Critical] ", Severity.WARNING: ""}.get(notification.severity, "")
    try:
        TRANSPORTS[delivery.transport].send(
            address=delivery.address, subject=f"{prefix}{notification.title}", text=_text(notification)
        )
    except TransportError as exc:
        attempts = delivery.attempts + 1
        give_up = exc.permanent or NOTIFY.exhausted(attempts)
        retry_at = timezone.now() + timedelta(seconds=NOTIFY.delay(attempts, exc.retry_after))
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING,
            deliver_after=retry_at,
            error=exc.message[:500],
            sent_at=None,
        )
        logger.warning("notification delivery failed", extra={"transport": delivery.transport, "error": exc.message})
        return False
    return True


def deliveries_send_due(*, now=None) -> int:
    """Send every delivery that is due: new ones, retries, and e-mails held for quiet hours."""
    now = now or timezone.now()
    Delivery.objects.filter(status=DeliveryStatus.HELD, deliver_after__lte=now).update(status=DeliveryStatus.PENDING)
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, deliver_after__lte=now).select_related("notification")
    return sum(delivery_send(delivery=delivery) for delivery in due[:500])


def digests_send(*, now=None) -> int:
    """One e-mail per person listing their notices waiting for the digest; returns e-mails sent."""
    now = now or timezone.now()
    waiting = Delivery.objects.filter(status=DeliveryStatus.DIGEST).select_related("notification")
    by_address: dict[str, list[Delivery]] = {}
    for delivery in waiting.order_by("notification__created_at", "pk"):
        by_address.setdefault(delivery.address, []).append(delivery)
    sent = 0
    for address, deliveries in by_address.items():
        lines = [f"- {d.notification.created_at:%Y-%m-%d %H:%M} UTC  {d.notification.title}" for d in deliveries]
        subject = f"Madan Sara daily digest: {len(deliveries)} notice{'s' if len(deliveries) != 1 else ''}"
        ids = [d.pk for d in deliveries]
        try:
            TRANSPORTS[Transport.EMAIL].send(address=address, subject=subject, text="\n".join(lines))
        except TransportError as exc:
            Delivery.objects.filter(pk__in=ids).update(error=exc.message[:500])
            continue
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.DIGEST).update(
            status=DeliveryStatus.SENT, sent_at=now, attempts=1
        )
        sent += 1
    return sent


# --- checks declared by the apps ---------------------------------------------------------------


@dataclass
class CheckRun:
    raised: int = 0
    failed: list[str] = field(default_factory=list)


def declared_checks() -> list[Callable[..., int]]:
    """`CHECKS` lists from every installed app's `notices` module: functions (now=) -> notices raised."""
    found = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.notices"
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        found.extend(getattr(module, "CHECKS", []))
    return found


def notices_check(*, now=None) -> CheckRun:
    """Run every declared check (each de-duplicates through notify); one failing never stops the rest."""
    now = now or timezone.now()
    run = CheckRun()
    for check in declared_checks():
        try:
            run.raised += check(now=now)
        except Exception:
            logger.exception("notice check failed", extra={"check": check.__qualname__})
            run.failed.append(check.__qualname__)
    return run


def webhook_endpoint_disabled(*, endpoint, reason: str, owner=None, url: str = "") -> Notification | None:
    """For outbound webhooks: an endpoint was switched off after repeated failures (admins and its owner)."""
    return notify(
        kind=NoticeKind.WEBHOOK_ENDPOINT_DISABLED,
        key=f"{endpoint._meta.label_lower}:{endpoint.pk}",
        window=timedelta(days=1),
        severity=Severity.CRITICAL,
        title=f"Webhook endpoint {endpoint} was disabled",
        body=reason,
        url=url,
        users=[owner] if owner is not None else [],
        roles=[ROLE_ADMIN],
        target=endpoint,
    )
