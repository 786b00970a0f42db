"""Campaigns, steps, templates and the outbox (the orchestrator).

A campaign enrolls its audience (a Segment) into `CampaignEnrollment` rows — the journey state,
including the holdout — and walks them through `CampaignStep`s. Each send step writes one
`OutboxMessage` per contact (unique (campaign, step, contact): the dedup key), which dispatchers
claim under a lease and send through the channel layer, one row at a time.
"""

from dataclasses import dataclass, replace
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from abtesting.models import CAMPAIGN_ARM_SURFACES
from madansara.choices import Channel
from madansara.erasure import DIGEST_PREFIX, digest
from madansara.money import unit_price_format
from madansara.templating import template_validate

AUTO = "auto"
STEP_CHANNEL_CHOICES = [*Channel.choices, (AUTO, "Auto (best channel for the contact)")]
# Variables a campaign template may use (whole roots or dotted names).
TEMPLATE_VARIABLES = {
    "contact.name",
    "contact.first_name",
    "contact.external_id",
    "contact.locale",
    "contact.lifecycle_stage",
    "contact.attributes",
    "campaign.name",
    "links",
    "unsubscribe_url",
    "preferences_url",
    "company_address",
}


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Segment(models.Model):
    """A saved audience: filters over contact fields, or a static list of contacts.

    `filters` keys (all optional, combined with AND): lifecycle_stage [list], tags_any [names],
    consent_channel (opted in there), min_engagement (float), attributes {key: value},
    converted (conversion type code), not_converted (code), funnel_dropped (funnel id: the
    contact reached a step but not the next), timezone [list], created_after (ISO date).
    """

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    is_static = models.BooleanField(default=False, help_text="A fixed list instead of filters")
    filters = models.JSONField(default=dict, blank=True)
    contacts = models.ManyToManyField("contacts.Contact", blank=True, related_name="static_segments")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ChannelTemplate(models.Model):
    """Content for one channel: subject/HTML/text for email, text for DMs/SMS, or a WhatsApp
    template name + variables. Validated (syntax, variables, length) whenever it is saved."""

    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    subject = models.CharField(max_length=998, blank=True)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    whatsapp_template = models.CharField(max_length=200, blank=True, help_text="Approved template (ContentSid)")
    whatsapp_variables = models.JSONField(default=dict, blank=True, help_text='{"1": "{{ contact.first_name }}"}')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.channel})"

    def save(self, *args, **kwargs):
        self.full_clean()
        super().save(*args, **kwargs)

    def source_fields(self) -> dict[str, str]:
        fields = {"subject": self.subject, "html": self.html, "text": self.text}
        for key, value in (self.whatsapp_variables or {}).items():
            fields[f"whatsapp_variables.{key}"] = str(value)
        return fields

    def clean(self):
        errors = template_validate(
            channel=self.channel, fields=self.source_fields(), allowed_variables=TEMPLATE_VARIABLES
        )
        if self.channel == Channel.EMAIL and not self.subject:
            errors.append("subject: an email needs a subject")
        if self.channel != Channel.EMAIL and not (self.text or self.whatsapp_template):
            errors.append("text: a message needs text (or a WhatsApp template)")
        if errors:
            raise ValidationError(errors)


class OutreachCampaign(models.Model):
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, db_index=True
    )
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="campaigns")
    recurring = models.BooleanField(default=False, help_text="Re-evaluate the segment every day")
    goal_conversion = models.SlugField(
        max_length=50, blank=True, help_text="Conversion type code that ends a contact's journey"
    )
    holdout_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(50)], help_text="Control group that receives nothing"
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    window_start_hour = models.PositiveSmallIntegerField(
        default=9, validators=[MaxValueValidator(23)], help_text="Earliest local hour to send (contact's zone)"
    )
    window_end_hour = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(1), MaxValueValidator(24)], help_text="Sends stop at this hour"
    )
    send_weekdays = models.JSONField(
        default=list, blank=True, help_text="Local weekdays to send on, 0 = Monday … 6 = Sunday; empty: every day"
    )
    daily_volume_cap = models.PositiveIntegerField(null=True, blank=True)
    daily_spend_cap = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    sto_enabled = models.BooleanField(default=True, help_text="Send at each contact's best hour")
    sto_control_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(50)], help_text="Share sent without STO, to measure it"
    )
    links = models.JSONField(default=dict, blank=True, help_text='Tracked links: {"offer": "https://..."}')
    subject_test = models.ForeignKey(
        "abtesting.ABTest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A/B test whose variants carry {'subject': ...} for email sends",
    )
    copy_test = models.ForeignKey(
        "abtesting.ABTest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Copy experiment (message copy): each arm names the approved variants it sends, per channel",
    )
    send_test = models.ForeignKey(
        "abtesting.ABTest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=(
            "Send-time or channel experiment: each arm carries its own window "
            '({"window_start_hour": 8, "window_end_hour": 12}), weekdays ({"send_weekdays": [1, 2]}) or '
            'channel ({"channel": "sms", "steps": [step ids]}); the planner assigns the arms'
        ),
    )
    copy_personalised = models.BooleanField(
        default=False, help_text="After the copy experiment, send each contact their assigned (predicted best) arm"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("operate_outreachcampaign", "Can launch, pause, resume and cancel campaigns")]
        constraints = [
            models.CheckConstraint(condition=Q(holdout_percent__lte=50), name="campaign_holdout_at_most_50"),
            models.CheckConstraint(
                condition=Q(window_start_hour__lt=models.F("window_end_hour")), name="campaign_window_order"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == CampaignStatus.RUNNING

    def can_transition(self, to: str) -> bool:
        return to in CAMPAIGN_TRANSITIONS.get(self.status, set())

    def clean(self):
        errors = {}
        error = weekdays_error(self.send_weekdays)
        if error:
            errors["send_weekdays"] = error
        if self.send_test_id and self.send_test.surface not in CAMPAIGN_ARM_SURFACES:
            errors["send_test"] = "A send experiment's surface is Send time or Channel (its arms carry those)."
        if errors:
            raise ValidationError(errors)

    @property
    def weekdays(self) -> frozenset[int] | None:
        """The local weekdays the campaign sends on (None: every day)."""
        return frozenset(self.send_weekdays) if self.send_weekdays else None

    def _own_arm(self) -> "SendArm":
        return SendArm(key="", variant_id=None, weight=1.0, start=self.window_start_hour,
                       end=self.window_end_hour, weekdays=self.weekdays, channel="", steps=None)  # fmt: skip

    def send_arms(self, *, fresh: bool = False) -> list["SendArm"]:
        """How each arm of the send-time or channel experiment sends: one arm with the campaign's
        own settings when no experiment runs, the winner's once it is rolled out (not an arm then:
        its key is empty, nothing is exposed). `fresh`: the experiment as the database has it now
        (the planner's view), not as this instance last loaded it."""
        own, test = self._own_arm(), self.send_test
        if fresh:
            test_id = type(self).objects.filter(pk=self.pk).values_list("send_test_id", flat=True).first()
            model = self._meta.get_field("send_test").related_model
            test = model.objects.filter(pk=test_id).first() if test_id else None
        if test is None or test.status not in ("running", "rolled_out"):
            return [own]
        variants = sorted(test.variants.all(), key=lambda v: v.pk)
        if test.status == "rolled_out":
            winner = next((v for v in variants if v.pk == test.winner_id), None)
            return [own.with_content(winner.content or {})] if winner else [own]
        return [own.with_content(v.content or {}, key=v.key, variant_id=v.pk, test_id=test.pk,
                                 weight=max(v.weight, 0.0)) for v in variants]  # fmt: skip

    def send_arm(self, key: str, arms: list["SendArm"] | None = None) -> "SendArm":
        """The settings a planned send of arm `key` is sent under: its arm while the experiment
        runs, the winner's after a rollout, the campaign's own otherwise (`arms`: send_arms())."""
        if self.send_test_id is None:
            return self._own_arm()
        arms = arms if arms is not None else self.send_arms()
        if len(arms) == 1:
            return arms[0]
        return next((arm for arm in arms if key and arm.key == key), self._own_arm())


WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def weekdays_said(days) -> str:
    """'every day', or the weekdays' names, runs of three or more as a range: 'Mon–Fri', 'Tue, Wed'."""
    days = sorted(set(days))
    if not days or len(days) == 7:
        return "every day"
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        f"{WEEKDAY_NAMES[run[0]]}–{WEEKDAY_NAMES[run[-1]]}"
        if len(run) >= 3
        else ", ".join(WEEKDAY_NAMES[d] for d in run)
        for run in runs
    )


def weekdays_error(value) -> str:
    """Why a send_weekdays value is wrong ('' when right): a list of distinct weekdays 0-6."""
    if not isinstance(value, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in value):
        return "A list of weekday numbers, 0 = Monday … 6 = Sunday."
    if any(not 0 <= d <= 6 for d in value):
        return "Weekdays are 0 (Monday) to 6 (Sunday)."
    if len(set(value)) != len(value):
        return "A weekday is listed twice."
    return ""


@dataclass(frozen=True)
class SendArm:
    """One arm of a campaign's send-time or channel experiment, as the planner and the dispatcher
    apply it: the local window [start, end), the weekdays (None: every day), the channel of the
    steps it names (every send step when `steps` is None; '' keeps each step's own)."""

    key: str
    variant_id: int | None
    weight: float
    start: int
    end: int
    weekdays: frozenset[int] | None
    channel: str
    steps: frozenset[int] | None
    test_id: int | None = None  # the running experiment the arm belongs to

    def with_content(self, content: dict, **changes) -> "SendArm":
        start = content.get("window_start_hour", self.start)
        end = content.get("window_end_hour", self.end)
        days = content.get("send_weekdays")
        steps = content.get("steps")
        return replace(
            self,
            start=start,
            end=end,
            weekdays=self.weekdays if days is None else (frozenset(days) or None),
            channel=content.get("channel", self.channel),
            steps=None if steps is None else frozenset(steps),
            **changes,
        )

    def channel_for(self, step_id: int) -> str:
        """The channel this arm sends `step_id` on ('' : the step's own)."""
        return self.channel if self.channel and (self.steps is None or step_id in self.steps) else ""


CAMPAIGN_TRANSITIONS = {
    CampaignStatus.DRAFT: {CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.CANCELLED},
    CampaignStatus.SCHEDULED: {CampaignStatus.RUNNING, CampaignStatus.CANCELLED, CampaignStatus.DRAFT},
    CampaignStatus.RUNNING: {CampaignStatus.PAUSED, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED},
    CampaignStatus.PAUSED: {CampaignStatus.RUNNING, CampaignStatus.CANCELLED},
}


class StepKind(models.TextChoices):
    SEND = "send", "Send"
    WAIT = "wait", "Wait"
    BRANCH = "branch", "Branch"


class BranchOn(models.TextChoices):
    REPLY = "reply", "Replied"
    CLICK = "click", "Clicked"
    OPEN = "open", "Opened"
    CONVERSION = "conversion", "Converted"
    NO_RESPONSE = "no_response", "No response"


class CampaignStep(models.Model):
    """One step of a campaign's sequence (position 1, 2, ...).

    send: on `channel` (or auto) with the step's template for that channel; `fallback_channels`
    are tried in order when the send fails permanently. wait: `wait_hours`. branch: when the
    contact did `branch_on` (to the latest send) within `within_hours` go to `goto_position`,
    otherwise (once `within_hours` passed) to `else_position` (0 = next step). A branch on
    no_response to another channel's send is the fallback on silence.
    """

    campaign = models.ForeignKey(OutreachCampaign, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=StepKind.choices, default=StepKind.SEND)
    channel = models.CharField(max_length=16, choices=STEP_CHANNEL_CHOICES, blank=True)
    templates = models.ManyToManyField(ChannelTemplate, blank=True, related_name="steps")
    fallback_channels = models.JSONField(default=list, blank=True)
    wait_hours = models.PositiveIntegerField(default=0)
    branch_on = models.CharField(max_length=16, choices=BranchOn.choices, blank=True)
    within_hours = models.PositiveIntegerField(default=72)
    goto_position = models.PositiveSmallIntegerField(default=0, help_text="0 = next step")
    else_position = models.PositiveSmallIntegerField(default=0, help_text="0 = next step")

    class Meta:
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="step_unique_position"),
            models.CheckConstraint(condition=~Q(kind="send") | ~Q(channel=""), name="step_send_has_channel"),
        ]

    def __str__(self):
        detail = {"send": self.channel, "wait": f"{self.wait_hours} h", "branch": self.branch_on}[self.kind]
        return f"{self.position}. {self.kind} {detail}"

    def clean(self):
        for channel in self.fallback_channels or []:
            if channel not in Channel.values:
                raise ValidationError({"fallback_channels": f"Unknown channel '{channel}'."})


class EnrollmentState(models.TextChoices):
    ACTIVE = "active", "Active"
    HOLDOUT = "holdout", "Holdout (control)"
    GOAL = "goal", "Goal reached"
    COMPLETED = "completed", "Completed"
    EXITED = "exited", "Exited"


class CampaignEnrollment(models.Model):
    """A contact's journey through a campaign; long waits live here, not in broker ETAs."""

    campaign = models.ForeignKey(OutreachCampaign, on_delete=models.CASCADE, related_name="enrollments")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="enrollments")
    state = models.CharField(max_length=12, choices=EnrollmentState.choices, default=EnrollmentState.ACTIVE)
    position = models.PositiveSmallIntegerField(default=1)
    step_entered_at = models.DateTimeField(default=timezone.now)
    enrolled_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="enrollment_unique_contact"),
        ]
        indexes = [models.Index(fields=["campaign", "state", "position"])]

    def __str__(self):
        return f"{self.campaign_id}/{self.contact_id} {self.state} @{self.position}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CLAIMED = "claimed", "Claimed (being sent)"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Held back"
    CANCELLED = "cancelled", "Cancelled"


FINAL_OUTBOX = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SKIPPED, OutboxStatus.CANCELLED)


class HoldReason(models.TextChoices):
    NO_CHANNEL = "no_channel", "No reachable channel (identity/consent/rules)"
    SUPPRESSED = "suppressed", "Suppression list"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    FREQUENCY_CAP = "frequency_cap", "Frequency cap"
    BUDGET = "budget", "Budget"
    QUIET_HOURS = "quiet_hours", "Quiet hours (deferred)"
    GOAL = "goal", "Goal reached"
    CONTENT = "content", "Content error"


class OutboxMessage(models.Model):
    """One planned send; (campaign, step, contact) is unique so a contact never gets two
    messages for one step, whatever the channel, planner re-run or duplicated beat tick."""

    # Indexed through the composite indexes below (fewer indexes: faster planning inserts).
    campaign = models.ForeignKey(OutreachCampaign, on_delete=models.CASCADE, related_name="outbox", db_index=False)
    step = models.ForeignKey(CampaignStep, on_delete=models.CASCADE, related_name="outbox", db_index=False)
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="outbox", db_index=False)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=12, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    due_at = models.DateTimeField()
    reason = models.CharField(
        max_length=32, blank=True, help_text="Why this channel: fixed, contact, population, fallback"
    )
    channel_score = models.FloatField(null=True, blank=True)
    hold_reason = models.CharField(max_length=16, choices=HoldReason.choices, blank=True)
    sto_arm = models.CharField(max_length=8, blank=True, help_text="sto / control / '' (STO off)")
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    message = models.OneToOneField(
        "channels.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    fallback_from = models.JSONField(default=list, blank=True, help_text="Channels that failed before")
    variant_key = models.CharField(max_length=50, blank=True)
    send_arm = models.CharField(
        max_length=50,
        blank=True,
        default="",
        db_default="",  # rows written by raw SQL elsewhere (bulk tools, benches) need not name it
        help_text="Arm of the campaign's send-time or channel experiment ('' : none)",
    )
    cost = models.DecimalField(max_digits=12, decimal_places=5, default=Decimal("0"))
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # The (campaign, step, contact) key; step first so lookups by step and contact use it.
            models.UniqueConstraint(fields=["step", "contact", "campaign"], name="outbox_unique_step_contact"),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="outbox_due"),
            models.Index(fields=["contact", "due_at"], name="outbox_contact_due"),
            models.Index(fields=["campaign", "status"], name="outbox_campaign_status"),
        ]

    def __str__(self):
        return f"{self.campaign_id}/{self.step_id}/{self.contact_id} {self.channel} {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_OUTBOX


class SuppressionQuerySet(models.QuerySet):
    def matching(self, values) -> "SuppressionQuerySet":
        """Entries for any of `values`, kept as they are or as the digest an erasure left."""
        values = list(values)
        return self.filter(value__in=values + [digest(value) for value in values])

    def has_digests(self) -> bool:
        """Whether an erasure left any entry as a digest (raw SQL then also matches digests)."""
        return self.filter(value__startswith=DIGEST_PREFIX).exists()


class SuppressionEntry(models.Model):
    """An address never to contact (on one channel, or every channel when blank).

    Erasing a person keeps their entries as digests (`madansara.erasure.digest`): the address
    still matches on a re-import, and cannot be read back.
    """

    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    value = models.CharField(max_length=255, help_text="Normalised identity value")
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "suppression entries"
        constraints = [models.UniqueConstraint(fields=["channel", "value"], name="suppression_unique")]
        indexes = [models.Index(fields=["value"])]

    def __str__(self):
        if self.is_digest:  # an erased person's address: show a short fingerprint, not the whole digest
            return f"{self.channel or 'all'}:erased address ({self.value[:15]}…)"
        return f"{self.channel or 'all'}:{self.value}"

    @property
    def is_digest(self) -> bool:
        return self.value.startswith(DIGEST_PREFIX)

    def plain_value(self, values) -> str | None:
        """Which of `values` this entry stands for (itself, or the value its digest was made from)."""
        return next((v for v in values if v == self.value or (self.is_digest and digest(v) == self.value)), None)


class FrequencyCap(models.Model):
    """At most `per_day`/`per_week` campaign messages per contact, on one channel or all (blank)."""

    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True, unique=True)
    per_day = models.PositiveIntegerField(null=True, blank=True)
    per_week = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self):
        return f"{self.channel or 'all channels'}: {self.per_day}/day, {self.per_week}/week"


class ChannelCost(models.Model):
    """What one message costs on a channel (budgets and channel selection)."""

    channel = models.CharField(max_length=16, choices=Channel.choices, unique=True)
    cost_per_message = models.DecimalField(max_digits=10, decimal_places=5)

    def __str__(self):
        return f"{self.channel}: {unit_price_format(self.cost_per_message)}"


class CampaignSpend(models.Model):
    """Messages sent and money spent per campaign, day and channel."""

    campaign = models.ForeignKey(OutreachCampaign, on_delete=models.CASCADE, related_name="spend")
    day = models.DateField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    messages = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=5, default=Decimal("0"))

    class Meta:
        ordering = ["-day", "channel"]
        constraints = [models.UniqueConstraint(fields=["campaign", "day", "channel"], name="spend_unique_day")]

    def __str__(self):
        return f"{self.campaign_id} {self.day} {self.channel}: {self.cost}"


class ContactEngagement(models.Model):
    """Per contact and channel: what we sent and how they engaged (preference and STO)."""

    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="engagement")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    clicked = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    converted = models.PositiveIntegerField(default=0)
    responses = models.PositiveIntegerField(default=0, help_text="Messages that got an open, click or reply")
    hour_counts = models.JSONField(default=list, blank=True, help_text="Engagements per local hour (24)")
    best_hour = models.PositiveSmallIntegerField(null=True, blank=True)
    score = models.FloatField(default=0.0)
    last_engaged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "channel"], name="engagement_unique")]

    def __str__(self):
        return f"{self.contact_id} {self.channel}: {self.responses}/{self.sent}"

    @property
    def response_rate(self) -> float:
        return self.responses / self.sent if self.sent else 0.0
