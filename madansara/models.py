"""Platform-wide models: API keys and the audit log."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

# API scopes are "<domain>:read" or "<domain>:write"; write implies read.
API_DOMAINS: dict[str, tuple[str, ...]] = {
    "contacts": ("contacts",),
    "outreach": ("outreach",),
    "channels": ("channels",),
    "inbox": ("inbox",),
    "abtesting": ("abtesting",),
    "website": ("website",),
    "conversion": ("conversion",),
    "social": ("social",),
    "bestpractices": ("bestpractices",),
    "webhooks": ("webhooks_out",),
}
KEY_PREFIX = "ms"


def hash_key(raw_key: str) -> str:
    """SHA-256 of a high-entropy key: enough at rest, since keys are random, not passwords."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


class APIKey(models.Model):
    name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({KEY_PREFIX}_{self.prefix}_…)"

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """A new (raw key, prefix, hash); the raw key is shown once and never stored."""
        prefix = secrets.token_hex(4)
        raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        return raw, prefix, hash_key(raw)

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def allows(self, domain: str, access: str) -> bool:
        """Does a scope grant `access` ("read"/"write") on `domain`?"""
        scopes = set(self.scopes or [])
        if f"{domain}:write" in scopes or "*:write" in scopes:
            return True
        return access == "read" and (f"{domain}:read" in scopes or "*:read" in scopes)


class AuditEvent(models.Model):
    """Append-only record of who did what to which object (transitions, approvals, overrides)."""

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, db_index=True)
    target_id = models.CharField(max_length=64, db_index=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["target_type", "target_id", "occurred_at"])]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_type}#{self.target_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)


class PolicyTier(models.TextChoices):
    AUTO = "auto", "Automatic"
    APPROVAL = "approval", "Human approval"
    REFUSED = "refused", "Refused"


class PolicyAction(models.TextChoices):
    """Actions an API key or an AI agent may take on its own; each has one tier."""

    SEND_MESSAGE = "send_message", "Send one message to a contact"
    PROPOSE_REPLY = "propose_reply", "Propose a reply in a conversation"
    CREATE_CAMPAIGN_DRAFT = "create_campaign_draft", "Create a campaign draft"
    RECORD_CONVERSION = "record_conversion", "Record a conversion"


# Without a row in the admin: sends wait for a human, drafts and records go through.
DEFAULT_TIERS = {
    PolicyAction.SEND_MESSAGE: PolicyTier.APPROVAL,
    PolicyAction.PROPOSE_REPLY: PolicyTier.AUTO,
    PolicyAction.CREATE_CAMPAIGN_DRAFT: PolicyTier.AUTO,
    PolicyAction.RECORD_CONVERSION: PolicyTier.AUTO,
}


class ActionPolicy(models.Model):
    """The tier of an action taken through the API or by an agent: auto, human approval or refused."""

    action = models.CharField(max_length=40, choices=PolicyAction.choices, unique=True)
    tier = models.CharField(max_length=10, choices=PolicyTier.choices)
    note = models.CharField(max_length=255, blank=True, help_text="Why this tier (shown to agents when refused)")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "agent action policy"
        verbose_name_plural = "agent action policies"
        ordering = ["action"]

    def __str__(self):
        return f"{self.get_action_display()}: {self.get_tier_display()}"

    @classmethod
    def tier_for(cls, action: str) -> tuple[str, str]:
        """(tier, note) for an action: the admin's row, else the default."""
        row = cls.objects.filter(action=action).values_list("tier", "note").first()
        return row if row else (DEFAULT_TIERS.get(action, PolicyTier.APPROVAL), "")


class LiveEvent(models.Model):
    """A short-lived notice for open pages (chat widgets, the inbox console): see madansara/live.py.

    Rows are the source of truth a poller reads after `id`; they are pruned after a day."""

    id = models.BigAutoField(primary_key=True)
    topic = models.CharField(max_length=100)
    kind = models.CharField(max_length=32)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["topic", "id"], name="live_event_topic_id")]

    def __str__(self):
        return f"{self.topic} {self.kind} #{self.pk}"
