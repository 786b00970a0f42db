"""The unified inbox: conversations, their timeline, AI classification, drafts, SLA, policies."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from madansara.choices import Channel
from madansara.templating import template_validate


class ConversationStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Resolved"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class SLAState(models.TextChoices):
    OK = "ok", "On time"
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached", "Breached"


class BusinessHours(models.Model):
    """A weekly schedule in one time zone, with holidays (dates on which nothing counts)."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # {"0": [["09:00", "17:00"]], ... "6": []}: Monday is 0, like date.weekday().
    schedule = models.JSONField(default=dict, blank=True)
    holidays = models.JSONField(default=list, blank=True, help_text='["2026-12-25", ...]')

    class Meta:
        verbose_name_plural = "business hours"

    def __str__(self):
        return f"{self.name} ({self.timezone})"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    business_hours = models.ForeignKey(BusinessHours, null=True, blank=True, on_delete=models.SET_NULL)
    channels = models.JSONField(default=list, blank=True, help_text="Channels routed to this team ([] = all)")
    round_robin_cursor = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Agent(models.Model):
    """A user who answers conversations, in one team, with a capacity of open conversations."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_agent")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="agents")
    capacity = models.PositiveIntegerField(default=20)
    is_available = models.BooleanField(default=True)

    class Meta:
        ordering = ["team", "user__username"]
        constraints = [models.CheckConstraint(condition=models.Q(capacity__gte=0), name="agent_capacity_gte_0")]

    def __str__(self):
        return f"{self.user.get_username()} ({self.team})"


class Label(models.Model):
    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Intent(models.Model):
    """The configurable set of intents; `low_risk` ones may be bulk-approved."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=100)
    needs_reply = models.BooleanField(default=True)
    low_risk = models.BooleanField(default=False)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


class SLAPolicy(models.Model):
    """Targets in business minutes; the most specific policy (team+priority) wins."""

    name = models.CharField(max_length=100)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.CharField(max_length=8, choices=Priority.choices, blank=True)
    business_hours = models.ForeignKey(BusinessHours, null=True, blank=True, on_delete=models.SET_NULL)
    first_response_minutes = models.PositiveIntegerField(default=60)
    next_response_minutes = models.PositiveIntegerField(default=240)
    resolution_minutes = models.PositiveIntegerField(default=2880)
    at_risk_ratio = models.FloatField(default=0.8, help_text="Share of the target elapsed before 'at risk'")

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self):
        return self.name


def _reply_token() -> str:
    return secrets.token_hex(10)


class Conversation(models.Model):
    channel = models.CharField(max_length=16, choices=Channel.choices, db_index=True)
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    participant = models.CharField(max_length=255, help_text="The contact's identity value on the channel")
    thread_key = models.CharField(max_length=255, blank=True, db_index=True)
    reply_token = models.CharField(max_length=32, unique=True, default=_reply_token, editable=False)
    subject = models.CharField(max_length=998, blank=True)
    status = models.CharField(max_length=10, choices=ConversationStatus.choices, default=ConversationStatus.OPEN)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbox_conversations"
    )
    labels = models.ManyToManyField(Label, blank=True, related_name="conversations")
    campaign_message = models.ForeignKey(
        "channels.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The outreach message this conversation answers",
    )
    is_first_for_contact = models.BooleanField(default=True)
    latest_intent = models.CharField(max_length=40, blank=True)
    latest_sentiment = models.CharField(max_length=10, blank=True)
    last_message_at = models.DateTimeField(default=timezone.now)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    awaiting_reply = models.BooleanField(default=False)
    first_response_due = models.DateTimeField(null=True, blank=True)
    next_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    sla_breached = models.BooleanField(default=False)
    search_text = models.TextField(
        blank=True, editable=False, help_text="Subject, participant and the customer's words (full-text search)"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [
            # The agent's lists: every filter combination ends in the list's order, so a page is an index range.
            models.Index(fields=["status", "-last_message_at", "-id"], name="inbox_conv_status_recent"),
            models.Index(fields=["status", "channel", "-last_message_at", "-id"], name="inbox_conv_channel_recent"),
            models.Index(
                fields=["latest_intent", "status", "-last_message_at", "-id"], name="inbox_conv_intent_recent"
            ),
            models.Index(fields=["assignee", "status", "-last_message_at", "-id"], name="inbox_conv_assignee_recent"),
            models.Index(fields=["team", "status", "-last_message_at", "-id"], name="inbox_conv_team_recent"),
            models.Index(fields=["contact", "channel", "-last_message_at"], name="inbox_conv_contact_recent"),
            models.Index(fields=["channel", "participant", "-last_message_at"], name="inbox_conv_participant"),
            models.Index(fields=["next_response_due"], name="inbox_conv_next_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="snoozed") | models.Q(snoozed_until__isnull=False),
                name="inbox_conv_snoozed_has_until",
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.channel} {self.participant}"

    @property
    def reply_address(self) -> str:
        """The per-conversation Reply-To address (threads replies that lose their headers)."""
        return f"reply+{self.reply_token}@{settings.EMAIL_REPLY_DOMAIN}"

    @property
    def response_due(self):
        """The next SLA deadline for a reply, if one is awaited."""
        if not self.awaiting_reply:
            return None
        return self.first_response_due if self.first_responded_at is None else self.next_response_due

    def sla_state(self, now=None) -> str:
        now = now or timezone.now()
        due = self.response_due
        if self.sla_breached or (due and due <= now):
            return SLAState.BREACHED
        if due and due - now <= timezone.timedelta(minutes=30):
            return SLAState.AT_RISK
        return SLAState.OK


class Direction(models.TextChoices):
    INBOUND = "in", "Inbound"
    OUTBOUND = "out", "Outbound"


class ConversationMessage(models.Model):
    """One entry of a conversation's timeline: an inbound message or a reply we sent."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="entries")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    inbound = models.OneToOneField(
        "channels.InboundMessage", null=True, blank=True, on_delete=models.CASCADE, related_name="inbox_entry"
    )
    outbound = models.OneToOneField(
        "channels.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="inbox_entry"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    auto_sent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="inbox_entry_conv_time")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(direction="in", inbound__isnull=False, outbound__isnull=True)
                    | models.Q(direction="out", outbound__isnull=False, inbound__isnull=True)
                ),
                name="inbox_entry_one_side",
            )
        ]

    def __str__(self):
        return f"{self.get_direction_display()} #{self.pk}"


class InternalNote(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Note #{self.pk}"


class ClassificationStatus(models.TextChoices):
    DONE = "done", "Done"
    NEEDS_HUMAN = "needs_human", "Needs a human"


class AIClassification(models.Model):
    inbound = models.OneToOneField("channels.InboundMessage", on_delete=models.CASCADE, related_name="classification")
    status = models.CharField(max_length=12, choices=ClassificationStatus.choices, default=ClassificationStatus.DONE)
    intent = models.CharField(max_length=40, blank=True, db_index=True)
    sentiment_score = models.FloatField(default=0.0, help_text="-1 (negative) … 1 (positive)")
    sentiment_label = models.CharField(max_length=10, blank=True)
    urgency = models.CharField(max_length=8, blank=True)
    language = models.CharField(max_length=8, blank=True)
    confidence = models.FloatField(default=0.0)
    legal_risk = models.BooleanField(default=False)
    engine = models.CharField(max_length=10, help_text="llm or local")
    model = models.CharField(max_length=100, blank=True)
    prompt_version = models.CharField(max_length=20, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=1)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "AI classification"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0, confidence__lte=1), name="inbox_cls_confidence_0_1"
            )
        ]

    def __str__(self):
        return f"{self.intent or self.status} ({self.confidence:.2f})"


class ResponseTemplate(models.Model):
    """A pre-approved reply; Jinja2 sandboxed variables: contact.*, conversation.*, agent.*."""

    name = models.CharField(max_length=100, unique=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True, help_text="Blank: any channel")
    intent = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=8, blank=True)
    body = models.TextField()
    whatsapp_template_name = models.CharField(
        max_length=200, blank=True, help_text="Approved WhatsApp template (ContentSid) for closed windows"
    )
    is_approved = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        """Syntax, unknown variables and the channel's length limit, checked when saved."""
        from django.core.exceptions import ValidationError

        errors = template_validate(
            channel=self.channel or "email",
            fields={"text": self.body},
            allowed_variables={"contact.*", "conversation.*", "agent.*", "snippet"},
        )
        if errors:
            raise ValidationError({"body": errors})


class KnowledgeSnippet(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField()
    keywords = models.CharField(max_length=500, blank=True, help_text="Comma-separated words that select it")
    language = models.CharField(max_length=8, blank=True, help_text="Blank: any language")
    intent = models.CharField(max_length=40, blank=True, help_text="Blank: any intent")
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title


class DraftStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    SENT = "sent", "Sent"
    AUTO_SENT = "auto_sent", "Auto-sent"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"
    FAILED = "failed", "Send failed"


class ReplyDraft(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="drafts")
    inbound = models.ForeignKey("channels.InboundMessage", on_delete=models.CASCADE, related_name="inbox_drafts")
    status = models.CharField(max_length=10, choices=DraftStatus.choices, default=DraftStatus.PENDING)
    source = models.CharField(max_length=10, help_text="llm, template or local")
    template = models.ForeignKey(ResponseTemplate, null=True, blank=True, on_delete=models.SET_NULL)
    subject = models.CharField(max_length=998, blank=True)
    text = models.TextField()
    whatsapp_template_name = models.CharField(max_length=200, blank=True)
    intent = models.CharField(max_length=40, blank=True)
    confidence = models.FloatField(default=0.0)
    low_risk = models.BooleanField(default=False)
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sent_text = models.TextField(blank=True)
    edited = models.BooleanField(default=False)
    rejection_reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(null=True, blank=True)
    message = models.OneToOneField(
        "channels.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbox_draft"
    )
    snippets = models.ManyToManyField(
        KnowledgeSnippet, blank=True, related_name="drafts", help_text="Knowledge the draft was grounded in"
    )
    language = models.CharField(max_length=8, blank=True, help_text="Language the draft is written in")
    instruction = models.CharField(max_length=500, blank=True, help_text="Reviewer's instruction when regenerated")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sla_due_at", "id"]
        permissions = [("approve_replydraft", "Can approve and send reply drafts")]
        indexes = [models.Index(fields=["status", "sla_due_at", "id"], name="inbox_draft_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["inbound"], condition=models.Q(status="pending"), name="inbox_one_pending_draft_per_message"
            )
        ]

    def __str__(self):
        return f"Draft #{self.pk} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == DraftStatus.PENDING

    def version_token(self) -> str:
        """What the reviewer saw: changes when the draft is decided or regenerated, or when its
        conversation gets a message, a new status or a new assignee (optimistic concurrency)."""
        conversation = self.conversation
        state = (
            self.pk,
            self.status,
            self.text,
            conversation.status,
            conversation.assignee_id,
            conversation.last_message_at.isoformat() if conversation.last_message_at else "",
        )
        return hashlib.sha256(repr(state).encode()).hexdigest()[:20]


class AutoSendSettings(models.Model):
    """Global switches of the auto-send policy (one row)."""

    enabled = models.BooleanField(default=False, help_text="Kill switch: off stops every auto-send")
    negative_sentiment_threshold = models.FloatField(
        default=-0.3, help_text="Never auto-send when the sentiment score is below this"
    )
    # 0.98: the local model's out-of-fold threshold for auto-send precision >= 0.98 is 0.97-0.98 across retrains
    # (train_classifier prints it); on the independent split, precision at 0.98 is 0.985 (bench/RESULTS.md).
    minimum_confidence = models.FloatField(default=0.98, help_text="Floor under every rule's own minimum")

    class Meta:
        verbose_name = "auto-send settings"
        verbose_name_plural = "auto-send settings"

    def __str__(self):
        return "Auto-send " + ("on" if self.enabled else "off")

    @classmethod
    def current(cls) -> "AutoSendSettings":
        return cls.objects.order_by("pk").first() or cls(enabled=False)


class AutoSendPolicy(models.Model):
    """Auto-send is allowed for `intent` on `channel` (blank: any) at or above `min_confidence`."""

    intent = models.CharField(max_length=40)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    min_confidence = models.FloatField(default=0.9)
    enabled = models.BooleanField(default=True)

    class Meta:
        verbose_name = "auto-send policy"
        verbose_name_plural = "auto-send policies"
        constraints = [
            models.UniqueConstraint(fields=["intent", "channel"], name="inbox_autosend_unique"),
            models.CheckConstraint(
                condition=models.Q(min_confidence__gte=0, min_confidence__lte=1), name="inbox_autosend_conf_0_1"
            ),
        ]

    def __str__(self):
        return f"{self.intent} on {self.channel or 'any channel'} ≥ {self.min_confidence}"


class SLAEventKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class SLAEvent(models.Model):
    """A recorded breach (or a met target, with `met=True`) of one SLA target."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="sla_events")
    kind = models.CharField(max_length=16, choices=SLAEventKind.choices)
    met = models.BooleanField(default=False)
    auto = models.BooleanField(default=False, help_text="Answered by an auto-sent reply")
    due_at = models.DateTimeField()
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "SLA event"
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "kind", "due_at"], condition=models.Q(met=False), name="inbox_sla_breach_once"
            )
        ]

    def __str__(self):
        return f"{self.kind} {'met' if self.met else 'breached'}"


class PresenceState(models.TextChoices):
    VIEWING = "viewing", "Viewing"
    REPLYING = "replying", "Replying"


class AgentPresence(models.Model):
    """An agent's console page open on a conversation, as of its last heartbeat (stale after
    LIVE_PRESENCE_TTL_SECONDS: the tab was closed or lost the network)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=PresenceState.choices, default=PresenceState.VIEWING)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="inbox_presence_unique_agent"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.state} #{self.conversation_id}"
