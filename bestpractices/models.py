from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

LOWER_IS_BETTER = {"unsubscribed", "complained"}


class PatternRun(models.Model):
    """One extraction over the sends in the database: its method, its model (for predictions)."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    since = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    n_sends = models.PositiveIntegerField(default=0)
    method = models.JSONField(default=dict, blank=True)
    outcomes = models.JSONField(default=dict, blank=True, help_text="{outcome: {n, rate, modelled}}")
    model = models.JSONField(default=dict, blank=True, help_text="Coefficients used for predictions")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Pattern run {self.created_at:%Y-%m-%d %H:%M} ({self.n_sends} sends)"


class PracticeStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate (observed in sends)"
    CONFIRMED = "confirmed", "Confirmed by an experiment"
    RETIRED = "retired", "Retired (contradicted)"


class BestPractice(models.Model):
    """What works: a feature value's adjusted effect on an outcome. Every re-estimate is a new
    version (the old one stays, not current); status moves candidate -> confirmed -> retired."""

    feature = models.CharField(max_length=40)
    value = models.CharField(max_length=100)
    baseline = models.CharField(max_length=100)
    outcome = models.CharField(max_length=40)
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=PracticeStatus.choices, default=PracticeStatus.CANDIDATE)
    lift = models.FloatField()
    ci_low = models.FloatField()
    ci_high = models.FloatField()
    n = models.PositiveIntegerField(default=0)
    significant = models.BooleanField(default=False)
    p_value = models.FloatField(default=1.0)
    evidence = models.JSONField(default=dict, blank=True, help_text="{sends, campaigns, experiments, ...}")
    run = models.ForeignKey(PatternRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="practices")
    experiment = models.ForeignKey(
        "abtesting.ABTest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The experiment that confirmed or contradicted it",
    )
    status_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["outcome", "feature", "value", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["feature", "value", "outcome", "version"], name="practice_version"),
            models.UniqueConstraint(
                fields=["feature", "value", "outcome"], condition=Q(is_current=True), name="practice_one_current"
            ),
            models.CheckConstraint(condition=Q(ci_low__lte=models.F("ci_high")), name="practice_ci_ordered"),
        ]
        indexes = [models.Index(fields=["status", "is_current"], name="practice_status")]

    def __str__(self):
        return f"{self.feature}={self.value} → {self.outcome} {self.lift:+.0%} (v{self.version}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.is_current and self.status != PracticeStatus.RETIRED

    def contradicted_by(self, *, ci_low: float, ci_high: float) -> bool:
        """A newer interval that excludes zero on the other side of this practice's lift."""
        return (self.lift > 0 and ci_high < 0) or (self.lift < 0 and ci_low > 0)

    @property
    def uncertainty(self) -> float:
        """Width of the interval: what a test would still teach."""
        return self.ci_high - self.ci_low

    @property
    def helps(self) -> bool:
        """The value improves the outcome (fewer unsubscribes and complaints, more of the rest)."""
        return self.lift < 0 if self.outcome in LOWER_IS_BETTER else self.lift > 0

    @property
    def parsed_value(self):
        """The value as the features carry it: 'true'/'false' back to booleans."""
        return {"true": True, "false": False}.get(self.value, self.value)


class RecommendationStatus(models.TextChoices):
    OPEN = "open", "Open"
    TESTING = "testing", "Being tested"
    WON = "won", "Tested: the change won"
    LOST = "lost", "Tested: the control won"
    DISMISSED = "dismissed", "Dismissed"
    DRAFTED = "drafted", "Draft change awaiting approval"
    APPLIED = "applied", "Applied to the campaign"


class Recommendation(models.Model):
    """Change a template (its subject or text: tested by a draft experiment) or a campaign (its send
    window, weekdays or a step's channel: tested by a draft send experiment whose arms the planner
    assigns, or applied by a draft CampaignChange a marketer approves) the way a practice says
    works, with the expected lift and the evidence."""

    practice = models.ForeignKey(BestPractice, on_delete=models.CASCADE, related_name="recommendations")
    template = models.ForeignKey(
        "outreach.ChannelTemplate", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    campaign = models.ForeignKey(
        "outreach.OutreachCampaign", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=10, choices=RecommendationStatus.choices, default=RecommendationStatus.OPEN)
    title = models.CharField(max_length=200)
    expected_lift = models.FloatField()
    change = models.JSONField(default=dict, blank=True, help_text='{"field": "subject", "from": ..., "to": ...}')
    experiment = models.ForeignKey(
        "abtesting.ABTest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-expected_lift"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "template"],
                condition=Q(status="open"),
                name="recommendation_open_once",
            ),
            models.UniqueConstraint(
                fields=["practice", "campaign"],
                condition=Q(status="open", template__isnull=True),
                name="recommendation_campaign_open_once",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def changes_campaign(self) -> bool:
        """A send-time, weekday or channel change of a campaign (tested by the campaign's send
        experiment, or applied to the campaign on a marketer's approval)."""
        return self.template_id is None and self.change.get("field") in CAMPAIGN_FIELDS

    @property
    def can_test(self) -> bool:
        return self.status == RecommendationStatus.OPEN and bool(self.change.get("to"))

    @property
    def can_draft_change(self) -> bool:
        return self.status == RecommendationStatus.OPEN and self.changes_campaign


SEND_WINDOW, SEND_WEEKDAYS, STEP_CHANNEL = "send_window", "send_weekdays", "channel"
CAMPAIGN_FIELDS = (SEND_WINDOW, SEND_WEEKDAYS, STEP_CHANNEL)


class CampaignChangeStatus(models.TextChoices):
    DRAFT = "draft", "Draft (awaiting approval)"
    APPLIED = "applied", "Applied"
    REJECTED = "rejected", "Rejected"


class CampaignChange(models.Model):
    """A concrete change to a campaign that a recommendation asks for: its send window (send time),
    its weekdays or the channel of some send steps, applied once a marketer approves it (without
    testing it first: the other way is the campaign's send experiment, see Recommendation)."""

    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="campaign_changes")
    campaign = models.ForeignKey("outreach.OutreachCampaign", on_delete=models.CASCADE, related_name="+")
    field = models.CharField(
        max_length=20,
        choices=[(SEND_WINDOW, "Send window"), (SEND_WEEKDAYS, "Send weekdays"), (STEP_CHANNEL, "Step channel")],
    )
    before = models.JSONField(default=dict, help_text="The campaign as the draft found it")
    after = models.JSONField(default=dict, help_text="The campaign once approved")
    status = models.CharField(max_length=10, choices=CampaignChangeStatus.choices, default=CampaignChangeStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recommendation"], condition=Q(status="draft"), name="campaign_change_one_draft"
            )
        ]

    def __str__(self):
        return f"{self.campaign_id}: {self.field} {self.before} → {self.after} ({self.status})"

    @property
    def is_draft(self) -> bool:
        return self.status == CampaignChangeStatus.DRAFT


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", "Awaiting approval"
    APPROVED = "approved", "Approved (draft experiment made)"
    STARTED = "started", "Started"
    FINISHED = "finished", "Finished (the experiment has a winner)"
    REJECTED = "rejected", "Rejected"


class ProposedTest(models.Model):
    """The scheduler's pick for the week: the test with the highest expected value
    (uncertainty x reach x lift) whose audience and surface are free."""

    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="proposals")
    week = models.DateField(help_text="Monday of the testing week")
    surface = models.CharField(max_length=20)
    audience = models.CharField(max_length=100, help_text="segment:<id> or channel:<name>")
    reach = models.PositiveIntegerField(default=0, help_text="Sends expected in a week")
    uncertainty = models.FloatField()
    expected_value = models.FloatField()
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week", "-expected_value"]
        constraints = [
            # never two tests on one audience and surface at once (proposed or running)
            models.UniqueConstraint(
                fields=["audience", "surface"],
                condition=Q(status__in=["proposed", "approved", "started"]),
                name="proposal_one_per_audience_surface",
            )
        ]

    def __str__(self):
        return f"{self.recommendation} ({self.audience}, week of {self.week})"

    @property
    def is_open(self) -> bool:
        return self.status == ProposalStatus.PROPOSED


class DraftEditPattern(models.Model):
    """What reviewers change in AI drafts of one intent, channel and language: read by the draft
    composer (through madansara.guidance) to write the next draft the way reviewers would."""

    intent = models.CharField(max_length=40)
    channel = models.CharField(max_length=16)
    language = models.CharField(max_length=16)
    drafts = models.PositiveIntegerField(default=0)
    edited = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    length_ratio = models.FloatField(null=True, blank=True, help_text="Median sent/drafted length of edited drafts")
    suggested_max_length = models.PositiveIntegerField(null=True, blank=True)
    wrong_language = models.PositiveIntegerField(default=0, help_text="Drafts not written in the expected language")
    removed_phrases = models.JSONField(default=list, blank=True)
    added_phrases = models.JSONField(default=list, blank=True)
    notes = models.JSONField(default=list, blank=True, help_text="Guidance lines for the prompt")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["intent", "channel", "language"]
        constraints = [models.UniqueConstraint(fields=["intent", "channel", "language"], name="draft_edit_pattern_key")]

    def __str__(self):
        return f"{self.intent} / {self.channel} / {self.language}"

    @property
    def edit_rate(self) -> float:
        return (self.edited + self.rejected) / self.drafts if self.drafts else 0.0
