"""Notices for people (SLA, risky conversations, experiment alarms, failing providers, disabled
webhook endpoints), each delivered to each recipient by e-mail and to the Slack webhook."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils import timezone


class NoticeKind(models.TextChoices):
    SLA_AT_RISK = "sla_at_risk", "SLA about to breach"
    SLA_BREACHED = "sla_breached", "SLA breached"
    CONVERSATION_URGENT = "conversation_urgent", "Urgent conversation"
    CONVERSATION_LEGAL_RISK = "conversation_legal_risk", "Legal-risk conversation"
    EXPERIMENT_SRM = "experiment_srm", "Experiment sample ratio mismatch"
    EXPERIMENT_GUARDRAIL = "experiment_guardrail", "Experiment guardrail hit"
    PROVIDER_FAILING = "provider_failing", "Provider failing"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled", "Webhook endpoint disabled"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class Notification(models.Model):
    """One notice; `dedup_key` (kind, subject and time window) makes a repeat a no-op."""

    kind = models.CharField(max_length=32, choices=NoticeKind.choices, db_index=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.WARNING)
    dedup_key = models.CharField(max_length=200, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Facts and a link; never a customer's message text")
    url = models.CharField(max_length=500, blank=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"


class Transport(models.TextChoices):
    EMAIL = "email", "E-mail"
    SLACK = "slack", "Slack webhook"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    HELD = "held", "Held (quiet hours)"
    DIGEST = "digest", "Waiting for the daily digest"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One notice to one address by one transport; every attempt's outcome is kept here."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    transport = models.CharField(max_length=8, choices=Transport.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    address = models.CharField(max_length=500, help_text="E-mail address, or 'slack'")
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    deliver_after = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "transport", "address"], name="notification_delivery_once")
        ]
        indexes = [models.Index(fields=["status", "deliver_after"], name="notification_delivery_due")]

    def __str__(self):
        return f"{self.transport} → {self.address} ({self.status})"


class DigestMode(models.TextChoices):
    IMMEDIATE = "immediate", "Each notice as it happens"
    DAILY = "daily", "One daily digest"


class NotificationPreference(models.Model):
    """A person's e-mail preferences: on/off, quiet hours in their time zone, daily digest."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_enabled = models.BooleanField(default=True)
    digest = models.CharField(max_length=10, choices=DigestMode.choices, default=DigestMode.IMMEDIATE)
    timezone = models.CharField(max_length=64, default="UTC")
    quiet_start = models.TimeField(null=True, blank=True, help_text="E-mails wait from this local time…")
    quiet_end = models.TimeField(null=True, blank=True, help_text="…until this local time (may wrap midnight)")

    def __str__(self):
        return f"Notification preferences of {self.user}"

    def quiet_until(self, now):
        """The end of the quiet period `now` falls in (aware UTC), or None outside quiet hours."""
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return None
        local = now.astimezone(ZoneInfo(self.timezone))
        clock = local.time()
        start, end = self.quiet_start, self.quiet_end
        inside = start <= clock < end if start < end else clock >= start or clock < end
        if not inside:
            return None
        day = local.date() if clock < end else local.date() + timedelta(days=1)
        return datetime.combine(day, end, tzinfo=local.tzinfo).astimezone(now.tzinfo)
