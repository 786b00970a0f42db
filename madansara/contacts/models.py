"""Contacts: the audience every domain shares, with one identity and one consent per channel.

The tables keep the names they had when these models lived in `outreach` (`outreach_contact`, ...):
moving the app moved no rows (see migrations/0001_initial.py).
"""

import zoneinfo

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone

from madansara.choices import Channel

PHONE_CHANNELS = {Channel.SMS, Channel.WHATSAPP}
HANDLE_CHANNELS = {Channel.INSTAGRAM, Channel.X}


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone (e.g. Europe/Paris).")


def normalize_identity(channel: str, value: str) -> str:
    """The canonical form of an identity on a channel; raises ValidationError when invalid.

    Email: trimmed, lower-cased, validated. SMS/WhatsApp: E.164 (+ and digits). Instagram/X:
    handle without '@', lower-cased. Facebook/LinkedIn: the platform id as given, trimmed.
    """
    raw = (value or "").strip()
    if not raw:
        raise ValidationError("An identity value is required.")
    if channel == Channel.EMAIL:
        email = raw.lower()
        validate_email(email)
        return email
    if channel in PHONE_CHANNELS:
        if raw.lower().startswith("whatsapp:"):
            raw = raw.split(":", 1)[1]
        try:
            number = phonenumbers.parse(raw, settings.DEFAULT_PHONE_REGION)
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(f"'{value}' is not a phone number: {str(exc).rstrip('.')}.") from exc
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(f"'{value}' is not a valid phone number.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if channel in HANDLE_CHANNELS:
        handle = raw.lstrip("@").lower()
        if not handle or any(ch.isspace() for ch in handle):
            raise ValidationError(f"'{value}' is not a valid handle.")
        return handle
    if channel in (Channel.FACEBOOK, Channel.LINKEDIN):
        if any(ch.isspace() for ch in raw):
            raise ValidationError(f"'{value}' is not a valid {channel} id.")
        return raw
    raise ValidationError(f"Unknown channel '{channel}'.")


class LifecycleStage(models.TextChoices):
    LEAD = "lead", "Lead"
    PROSPECT = "prospect", "Prospect"
    CUSTOMER = "customer", "Customer"
    CHURNED = "churned", "Churned"


class ConsentStatus(models.TextChoices):
    OPTED_IN = "opted_in", "Opted in"
    UNKNOWN = "unknown", "Unknown"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class Tag(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        db_table = "outreach_tag"
        ordering = ["name"]

    def __str__(self):
        return self.name


class ContactQuerySet(models.QuerySet):
    def active(self):
        """Contacts that are neither erased nor merged into another."""
        return self.filter(erased_at__isnull=True, merged_into__isnull=True)


class Contact(models.Model):
    external_id = models.CharField(
        max_length=255, unique=True, null=True, blank=True, help_text="Your system's id for this person"
    )
    name = models.CharField(max_length=255, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    locale = models.CharField(max_length=35, default="en", blank=True)
    lifecycle_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.LEAD)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    attributes = models.JSONField(default=dict, blank=True)
    engagement_score = models.FloatField(default=0.0, db_index=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
        db_index=False,  # partial index below: almost no contact is merged
    )
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        db_table = "outreach_contact"
        ordering = ["-id"]
        # Imports write contacts by the million: no varchar_pattern_ops twin for the stage, and
        # no index entry for the NULL merged_into of every contact.
        indexes = [
            models.Index(fields=["lifecycle_stage"], name="contact_stage"),
            models.Index(
                fields=["merged_into"], condition=models.Q(merged_into__isnull=False), name="contact_merged_into"
            ),
        ]

    def __str__(self):
        return self.name or f"Contact #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.erased_at is None and self.merged_into_id is None

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def local_now(self):
        return timezone.now().astimezone(self.tzinfo)


class ContactIdentity(models.Model):
    """How to reach a contact on one channel; (channel, value) is unique across contacts."""

    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        related_name="identities",
        db_index=False,  # covered by the (contact, channel) index
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    value = models.CharField(max_length=255, help_text="Normalised: lower-case email, E.164 phone, handle")
    is_valid = models.BooleanField(default=True, help_text="False once a provider said it is unreachable")
    invalid_reason = models.CharField(max_length=255, blank=True)
    last_inbound_at = models.DateTimeField(
        null=True, blank=True, help_text="Last message from the contact here (messaging windows)"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "outreach_contactidentity"
        verbose_name_plural = "contact identities"
        constraints = [
            models.UniqueConstraint(fields=["channel", "value"], name="identity_unique_per_channel"),
        ]
        indexes = [models.Index(fields=["contact", "channel"])]

    def __str__(self):
        return f"{self.channel}:{self.value}"

    def clean(self):
        self.value = normalize_identity(self.channel, self.value)

    def window_open(self, hours: int = 24, now=None) -> bool:
        """Is the customer-service window (hours since their last inbound message) open?"""
        if self.last_inbound_at is None:
            return False
        now = now or timezone.now()
        return (now - self.last_inbound_at).total_seconds() < hours * 3600


class ContactConsent(models.Model):
    """The current consent of a contact on a channel; history lives in ConsentEvent."""

    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        related_name="consents",
        db_index=False,  # covered by the unique (contact, channel) index
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=ConsentStatus.choices, default=ConsentStatus.UNKNOWN)
    source = models.CharField(max_length=100, blank=True, help_text="e.g. import, form, sms:STOP, sendgrid:bounce")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "outreach_contactconsent"
        constraints = [
            models.UniqueConstraint(fields=["contact", "channel"], name="consent_unique_per_channel"),
        ]
        indexes = [models.Index(fields=["channel", "status"])]

    def __str__(self):
        return f"{self.contact_id} {self.channel}: {self.status}"

    @property
    def is_unsubscribed(self) -> bool:
        return self.status == ConsentStatus.UNSUBSCRIBED


class ConsentEvent(models.Model):
    """Append-only history of consent changes."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_events")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=ConsentStatus.choices)
    source = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "outreach_consentevent"
        ordering = ["-occurred_at", "-id"]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.channel} → {self.status}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Consent history is append-only.")
        super().save(*args, **kwargs)
