"""Endpoints integrators register, the events they subscribe to, and every delivery and attempt."""

import base64
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from madansara.models import API_DOMAINS


class EventType(models.TextChoices):
    MESSAGE_RECEIVED = "message.received", "Inbound message received"
    DRAFT_CREATED = "draft.created", "Reply draft created"
    DRAFT_APPROVED = "draft.approved", "Reply draft approved and sent"
    MESSAGE_SENT = "message.sent", "Message sent"
    MESSAGE_DELIVERED = "message.delivered", "Message delivered"
    MESSAGE_FAILED = "message.failed", "Message failed"
    CONVERSATION_ASSIGNED = "conversation.assigned", "Conversation assigned"
    CONVERSION_RECORDED = "conversion.recorded", "Conversion recorded"
    EXPERIMENT_CONCLUDED = "experiment.concluded", "Experiment concluded"
    CONTACT_ERASED = "contact.erased", "Contact erased"


# The API domain whose read scope an event needs (see madansara.models.API_DOMAINS).
EVENT_DOMAINS = {
    EventType.MESSAGE_RECEIVED: "inbox",
    EventType.DRAFT_CREATED: "inbox",
    EventType.DRAFT_APPROVED: "inbox",
    EventType.MESSAGE_SENT: "channels",
    EventType.MESSAGE_DELIVERED: "channels",
    EventType.MESSAGE_FAILED: "channels",
    EventType.CONVERSATION_ASSIGNED: "inbox",
    EventType.CONVERSION_RECORDED: "conversion",
    EventType.EXPERIMENT_CONCLUDED: "abtesting",
    EventType.CONTACT_ERASED: "contacts",
}
# Personal data (names, addresses, message bodies) travels only to endpoints that may read contacts.
PERSONAL_DOMAIN = "contacts"


def new_secret() -> str:
    """A Standard Webhooks secret: 'whsec_' + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="Event types to receive, e.g. ['message.sent']")
    secret = models.CharField(max_length=100, default=new_secret, help_text="whsec_… (verifies our signatures)")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    api_key = models.ForeignKey(
        "madansara.APIKey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_endpoints",
        help_text="The key that registered it: its scopes decide what the endpoint may receive",
    )
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.url

    def allows(self, domain: str) -> bool:
        """May this endpoint receive data of `domain`? Its key's scopes, else its owner's role."""
        if self.api_key_id is not None:
            return self.api_key.is_active and self.api_key.allows(domain, "read")
        owner = self.owner
        if owner is None or not owner.is_active:
            return False
        return all(
            owner.is_superuser or any(p.startswith(f"{app}.view_") for p in owner.get_all_permissions())
            for app in API_DOMAINS.get(domain, ())
        )

    def wants(self, event_type: str) -> bool:
        return self.is_active and event_type in (self.event_types or [])


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending (retrying)"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (retries exhausted or endpoint disabled)"


class WebhookDelivery(models.Model):
    """One event for one endpoint: the exact signed body, retried with backoff for 24 hours."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=64, help_text="webhook-id: the same on every retry and replay")
    event_type = models.CharField(max_length=40, choices=EventType.choices, db_index=True)
    body = models.TextField(help_text="The JSON body, byte for byte as signed")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self):
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self):
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"
