"""One message to one contact on their best channel (the send-one API and agents).

Rows go through the orchestrator's rules (consent, suppression, frequency caps, quiet hours,
messaging windows) and the action policy (auto / human approval / refused); an idempotency key
per caller makes retries safe.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from madansara.choices import Channel
from outreach.models.campaigns import HoldReason


class DirectSendStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    SCHEDULED = "scheduled", "Scheduled (quiet hours or retry)"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    HELD = "held", "Held back (consent, suppression, caps, no channel)"
    REJECTED = "rejected", "Rejected by a reviewer"


# Rows that count against the contact's frequency caps.
DIRECT_COUNTED = (DirectSendStatus.SCHEDULED, DirectSendStatus.SENDING, DirectSendStatus.SENT)


class DirectSend(models.Model):
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="direct_sends")
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    requested_channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    template_name = models.CharField(max_length=200, blank=True, help_text="ChannelTemplate name (one per channel)")
    subject = models.CharField(max_length=998, blank=True)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=DirectSendStatus.choices, db_index=True)
    hold_reason = models.CharField(max_length=16, choices=HoldReason.choices, blank=True)
    reason = models.CharField(max_length=32, blank=True, help_text="Why this channel: requested, contact, population")
    channel_score = models.FloatField(null=True, blank=True)
    due_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    message = models.OneToOneField(
        "channels.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="direct_send"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="direct_sends"
    )
    api_key = models.ForeignKey("madansara.APIKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    via = models.CharField(max_length=16, default="api", help_text="api or mcp")
    idempotency_owner = models.CharField(max_length=40, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_directsend", "Can approve or reject messages queued by API keys and agents")]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_owner", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="direct_send_idempotency",
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="direct_send_due"),
            models.Index(fields=["contact", "due_at"], name="direct_send_contact_due"),
        ]

    def __str__(self):
        return f"#{self.pk} to {self.contact_id} {self.channel or '—'} {self.status}"

    @property
    def outcome(self) -> str:
        """What happened, in one plain sentence (API and agent answers)."""
        if self.status == DirectSendStatus.SENT:
            return f"sent on {self.channel}"
        if self.status == DirectSendStatus.AWAITING_APPROVAL:
            return f"queued for approval (would go on {self.channel})"
        if self.status == DirectSendStatus.SCHEDULED:
            why = "quiet hours in the contact's time zone" if self.hold_reason == HoldReason.QUIET_HOURS else "retry"
            return f"scheduled on {self.channel} for {self.due_at:%Y-%m-%d %H:%M} UTC ({why})"
        if self.status == DirectSendStatus.HELD:
            return f"not sent: {self.get_hold_reason_display().lower()}"
        if self.status == DirectSendStatus.REJECTED:
            return "not sent: rejected by a reviewer"
        if self.status == DirectSendStatus.FAILED:
            return f"failed on {self.channel}: {self.error}"
        return self.get_status_display().lower()
