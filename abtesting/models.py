"""Experiments (ABTest), their variants, exposures, stored aggregates, snapshots, decisions."""

import hashlib
import re

from django.db import models
from django.db.models import Q
from django.utils import timezone

from madansara.choices import Channel

SRM_THRESHOLD = 0.001  # sample-ratio mismatch: a chi-square p-value below this is an alert

EXPOSURES = ""  # metric name of the exposure rows in ABTestDailyStat


class Surface(models.TextChoices):
    WEBSITE_ELEMENT = "website_element", "Website element"
    WEBSITE_CTA = "website_cta", "Website call to action"
    WEBSITE_COPY = "website_copy", "Website copy"
    EMAIL_SUBJECT = "email_subject", "Email subject line"
    MESSAGE_COPY = "message_copy", "Message copy"
    SEND_TIME = "send_time", "Send time (window or weekdays)"
    CHANNEL = "channel", "Channel of a campaign step"
    ANY = "any", "Any"


WEBSITE_SURFACES = {Surface.WEBSITE_ELEMENT, Surface.WEBSITE_CTA, Surface.WEBSITE_COPY}
# Arms a campaign's planner assigns (each arm sends in its own window, on its own weekdays or channel).
CAMPAIGN_ARM_SURFACES = {Surface.SEND_TIME, Surface.CHANNEL}


class Outcome(models.TextChoices):
    """Message outcomes usable as metrics; any other metric name is a conversion event."""

    OPEN = "open", "Open"
    CLICK = "click", "Click"
    REPLY = "reply", "Reply"
    CONVERSION = "conversion", "Conversion"


class ABTestStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    STOPPED = "stopped", "Stopped"
    ROLLED_OUT = "rolled_out", "Rolled out"


class AllocationMode(models.TextChoices):
    FIXED = "fixed", "Fixed split, automatic winner rollout"
    BANDIT = "bandit", "Bandit (Thompson sampling)"


class ABTest(models.Model):
    """An experiment: variants shown to units, compared on a primary metric."""

    key = models.SlugField(max_length=100, unique=True, help_text="Stable id used for hashing")
    name = models.CharField(max_length=200)
    hypothesis = models.TextField(blank=True)
    surface = models.CharField(max_length=20, choices=Surface.choices, default=Surface.ANY)
    status = models.CharField(max_length=12, choices=ABTestStatus.choices, default=ABTestStatus.DRAFT, db_index=True)
    primary_metric = models.CharField(
        max_length=100, help_text="A message outcome (open, click, reply, conversion) or an event name"
    )
    secondary_metrics = models.JSONField(default=list, blank=True)
    guardrail_metrics = models.JSONField(
        default=list, blank=True, help_text="Metrics that must not get significantly worse"
    )
    mean_metrics = models.JSONField(
        default=list, blank=True, help_text="Metrics analysed as a sum of values per unit (e.g. revenue)"
    )
    # targeting
    site = models.ForeignKey("website.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="ab_tests")
    segment = models.ForeignKey(
        "contacts.Tag",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ab_tests",
        help_text="Only contacts with this tag take part",
    )
    url_pattern = models.CharField(max_length=500, blank=True, help_text="Regular expression on the page URL")
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    # analysis and rollout policy
    mode = models.CharField(max_length=8, choices=AllocationMode.choices, default=AllocationMode.FIXED)
    alpha = models.FloatField(default=0.05)
    sequential_tuning = models.FloatField(default=5000)
    auto_rollout = models.BooleanField(default=True)
    rollout_hold = models.BooleanField(default=False, help_text="Admin override: never roll out automatically")
    min_units_per_arm = models.PositiveIntegerField(default=1000)
    min_runtime_days = models.PositiveIntegerField(default=7)
    winner = models.ForeignKey("ABTestVariant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    rolled_out_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "A/B test"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(alpha__gt=0) & Q(alpha__lt=0.5), name="abtest_alpha_range"),
            models.CheckConstraint(
                condition=~Q(status="rolled_out") | Q(winner__isnull=False), name="abtest_rolled_out_has_winner"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.key})"

    @property
    def is_running(self) -> bool:
        return self.status == ABTestStatus.RUNNING

    @property
    def is_website(self) -> bool:
        return self.surface in WEBSITE_SURFACES

    @property
    def metrics(self) -> list[str]:
        """Primary, secondary and guardrail metrics, without duplicates, primary first."""
        return list(dict.fromkeys([self.primary_metric, *self.secondary_metrics, *self.guardrail_metrics]))

    def is_mean_metric(self, metric: str) -> bool:
        return metric in (self.mean_metrics or [])

    def matches_url(self, url: str | None) -> bool:
        if not self.url_pattern:
            return True
        return bool(url) and re.search(self.url_pattern, url) is not None

    def runtime_days(self, now=None) -> float:
        if self.started_at is None:
            return 0.0
        return ((now or timezone.now()) - self.started_at).total_seconds() / 86400

    def bucket(self, unit_id: str) -> float:
        """Uniform number in [0, 1) from (key, unit): stable and independent across tests."""
        digest = hashlib.sha256(f"{self.key}\x1f{unit_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64


class ABTestVariant(models.Model):
    test = models.ForeignKey(ABTest, on_delete=models.CASCADE, related_name="variants")
    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=200, blank=True)
    is_control = models.BooleanField(default=False)
    weight = models.FloatField(default=1.0, help_text="Share of traffic (relative to the other variants)")
    content = models.JSONField(default=dict, blank=True, help_text='What this variant shows, e.g. {"subject": ...}')

    class Meta:
        verbose_name = "A/B test variant"
        ordering = ["test_id", "-is_control", "id"]
        constraints = [
            models.UniqueConstraint(fields=["test", "key"], name="abvariant_unique_key"),
            models.UniqueConstraint(fields=["test"], condition=Q(is_control=True), name="abvariant_one_control"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="abvariant_weight_non_negative"),
        ]

    def __str__(self):
        return f"{self.test.key}:{self.key}"


class ABTestExposure(models.Model):
    """The first time a unit saw a variant; one row per (test, unit)."""

    test = models.ForeignKey(ABTest, on_delete=models.CASCADE, related_name="exposures")
    variant = models.ForeignKey(ABTestVariant, on_delete=models.CASCADE, related_name="exposures")
    unit_id = models.CharField(max_length=128)
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="ab_exposures"
    )
    # Set when the contact was already in the test under another unit: outcomes go there.
    canonical_unit = models.CharField(max_length=128, blank=True)
    exposed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "A/B test exposure"
        constraints = [models.UniqueConstraint(fields=["test", "unit_id"], name="abexposure_unique_unit")]
        indexes = [models.Index(fields=["test", "contact"])]

    def __str__(self):
        return f"{self.unit_id} → {self.variant}"


class ABTestUnitMetric(models.Model):
    """A unit's running value of one metric: makes binary metrics idempotent and sums exact."""

    test = models.ForeignKey(ABTest, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(ABTestVariant, on_delete=models.CASCADE, related_name="+")
    unit_id = models.CharField(max_length=128)
    metric = models.CharField(max_length=100)
    value = models.FloatField(default=0.0)
    first_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "A/B test unit metric"
        constraints = [models.UniqueConstraint(fields=["test", "unit_id", "metric"], name="abunitmetric_unique")]

    def __str__(self):
        return f"{self.unit_id} {self.metric}={self.value:g}"


class ABTestDailyStat(models.Model):
    """Per-day, per-variant sums that the statistics are computed from (metric "" = exposures).

    For a metric: `units` counts units whose first value arrived that day, `total` and
    `sum_squares` are increments of Σx and Σx² over units.
    """

    test = models.ForeignKey(ABTest, on_delete=models.CASCADE, related_name="daily_stats")
    variant = models.ForeignKey(ABTestVariant, on_delete=models.CASCADE, related_name="daily_stats")
    day = models.DateField()
    metric = models.CharField(max_length=100, blank=True)
    units = models.BigIntegerField(default=0)
    total = models.FloatField(default=0.0)
    sum_squares = models.FloatField(default=0.0)

    class Meta:
        verbose_name = "A/B test daily stat"
        constraints = [models.UniqueConstraint(fields=["test", "variant", "metric", "day"], name="abdailystat_unique")]

    def __str__(self):
        return f"{self.variant} {self.metric or 'exposures'} {self.day}"


class ABTestSnapshot(models.Model):
    """Results of one scheduled (or manual) analysis, kept to show the estimate over time."""

    test = models.ForeignKey(ABTest, on_delete=models.CASCADE, related_name="snapshots")
    computed_at = models.DateTimeField(default=timezone.now, db_index=True)
    srm_p_value = models.FloatField(null=True, blank=True)
    # {"arms": {variant_key: units}, "metrics": {metric: {variant_key: {...estimates...}}}}
    results = models.JSONField(default=dict)

    class Meta:
        verbose_name = "A/B test snapshot"
        ordering = ["-computed_at"]
        get_latest_by = "computed_at"

    def __str__(self):
        return f"{self.test.key} @ {self.computed_at:%Y-%m-%d %H:%M}"

    @property
    def has_srm(self) -> bool:
        return self.srm_p_value is not None and self.srm_p_value < SRM_THRESHOLD


class DecisionAction(models.TextChoices):
    STARTED = "started", "Started"
    STOPPED = "stopped", "Stopped"
    ROLLED_OUT = "rolled_out", "Winner rolled out"
    ROLLOUT_REVERTED = "rollout_reverted", "Rollout reverted"
    ROLLOUT_WAITING = "rollout_waiting", "Rollout not yet allowed"
    HOLD_SET = "hold_set", "Automatic rollout held"
    HOLD_RELEASED = "hold_released", "Automatic rollout released"
    SRM_ALERT = "srm_alert", "Sample ratio mismatch"
    GUARDRAIL_ALERT = "guardrail_alert", "Guardrail regression"
    REWEIGHTED = "reweighted", "Bandit re-weighted"


class ABTestDecision(models.Model):
    """The decision log: every transition, automatic check and admin override, with reasons."""

    test = models.ForeignKey(ABTest, on_delete=models.CASCADE, related_name="decisions")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=20, choices=DecisionAction.choices)
    actor_label = models.CharField(max_length=150, default="system")
    automatic = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "A/B test decision"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.test.key}: {self.get_action_display()}"
