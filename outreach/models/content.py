"""Message copy under review: variants of a template (a subject line, a text, or the whole
message) and newsletter drafts composed from a brief. Nothing here is sent until a human
approves it; the guards' findings are stored with each variant for the reviewer."""

from django.conf import settings
from django.db import models

from madansara.choices import Channel


class VariantStatus(models.TextChoices):
    DRAFT = "draft", "Draft (awaiting approval)"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class VariantField(models.TextChoices):
    SUBJECT = "subject", "Subject"
    TEXT = "text", "Text"
    MESSAGE = "message", "Whole message"


class ContentDraft(models.Model):
    """A newsletter drafted from a marketer's brief for a segment, in the segment's language:
    subject options, preview text, sections and calls to action. Its variants (one per subject
    option) are what reviewers approve."""

    brief = models.TextField(help_text="What to say, to whom, and why now")
    template = models.ForeignKey(
        "outreach.ChannelTemplate",
        on_delete=models.CASCADE,
        related_name="drafts",
        help_text="Whose variants these are",
    )
    segment = models.ForeignKey(
        "outreach.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts"
    )
    sources = models.JSONField(default=list, blank=True, help_text='[{"title": ..., "text": ..., "link": ...}]')
    language = models.CharField(max_length=8, default="en")
    source = models.CharField(max_length=32, help_text="llm model name or 'local'")
    structure = models.JSONField(default=dict, blank=True, help_text="subject_options, preview, sections, ctas")
    llm_error = models.CharField(max_length=300, blank=True, help_text="Why the LLM draft fell back to local")
    status = models.CharField(max_length=16, choices=VariantStatus.choices, default=VariantStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.brief[:60]} ({self.language}, {self.template.channel})"


class TemplateVariant(models.Model):
    """An alternative subject line, text, or whole message (subject, preview, body, call to
    action) of a template, written by the LLM, the local composer or a person; only approved
    variants are ever sent. Changing an approved variant's copy makes it a draft again."""

    COPY_FIELDS = ("content", "subject", "preview", "body", "html", "cta_label", "cta_link", "whatsapp_template")

    template = models.ForeignKey("outreach.ChannelTemplate", on_delete=models.CASCADE, related_name="variants")
    field = models.CharField(max_length=16, choices=VariantField.choices)
    content = models.TextField(blank=True, help_text="The subject or text (single-field variants)")
    subject = models.CharField(max_length=998, blank=True)
    preview = models.CharField(max_length=200, blank=True, help_text="Preview text (email preheader)")
    body = models.TextField(blank=True, help_text="Text body (Jinja2, the template's variables)")
    html = models.TextField(blank=True, help_text="HTML body (email); built from the text when blank")
    cta_label = models.CharField(max_length=100, blank=True)
    cta_link = models.CharField(max_length=50, blank=True, help_text="Name of a tracked campaign link")
    whatsapp_template = models.CharField(
        max_length=200, blank=True, help_text="Approved WhatsApp template of this copy (business-initiated sends)"
    )
    language = models.CharField(max_length=8, blank=True)
    draft = models.ForeignKey(ContentDraft, null=True, blank=True, on_delete=models.CASCADE, related_name="variants")
    checks = models.JSONField(default=dict, blank=True, help_text="Guard findings: errors, warnings, claims")
    status = models.CharField(max_length=16, choices=VariantStatus.choices, default=VariantStatus.DRAFT)
    source = models.CharField(max_length=32, help_text="llm model name or 'local'")
    brief = models.TextField(blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("approve_templatevariant", "Can approve LLM-written variants for use")]

    def __str__(self):
        return f"{self.field}: {(self.subject or self.content or self.body)[:60]}"

    @property
    def key(self) -> str:
        """The variant key sends carry (outbox rows and message context)."""
        return f"v{self.pk}"

    @property
    def channel(self) -> str:
        return self.template.channel

    @property
    def is_sendable(self) -> bool:
        return self.status == VariantStatus.APPROVED

    def copy_fields(self) -> dict[str, str]:
        """The copy this variant changes, by template field name (for validation and rendering)."""
        if self.field == VariantField.SUBJECT:
            return {"subject": self.content}
        if self.field == VariantField.TEXT:
            return {"text": self.content}
        fields = {"subject": self.subject, "preview": self.preview, "text": self.body, "html": self.html}
        if self.cta_label:
            fields["cta_label"] = self.cta_label
        return {name: value for name, value in fields.items() if value}

    def is_whatsapp_template_send(self) -> bool:
        return self.template.channel == Channel.WHATSAPP and bool(
            self.whatsapp_template or self.template.whatsapp_template
        )


class CopyGroup(models.TextChoices):
    PERSONALISED = "personalised", "Personalised (predicted best arm)"
    HOLDOUT = "holdout", "Holdout (the single winner)"


class CopyAssignment(models.Model):
    """After a copy experiment: the arm a contact of a campaign is sent instead of the rolled-out
    winner — the one predicted best for them, or the winner itself for the holdout that measures
    the personalisation. Written by the best-practices engine through copy_personalise."""

    campaign = models.ForeignKey("outreach.OutreachCampaign", on_delete=models.CASCADE, related_name="copy_assignments")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="copy_assignments")
    arm = models.SlugField(max_length=50)
    group = models.CharField(max_length=16, choices=CopyGroup.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "contact"], name="copyassignment_unique_contact")]

    def __str__(self):
        return f"{self.campaign_id}/{self.contact_id} → {self.arm} ({self.group})"
