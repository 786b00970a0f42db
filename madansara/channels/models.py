"""Outbound messages and their attempts/events; raw webhook events; normalised inbound messages."""

import uuid

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from madansara.choices import Channel


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    REPLIED = "replied", "Replied"
    FAILED = "failed", "Failed"


# How far along a status is; a late event never moves a message backwards.
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.OPENED: 4,
    MessageStatus.CLICKED: 5,
    MessageStatus.REPLIED: 6,
    MessageStatus.FAILED: 7,
}


class Message(models.Model):
    """One outbound message to one contact on one channel; its id travels to the provider."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,  # covered by the (contact, channel, created_at) index
    )
    to = models.CharField(max_length=255, help_text="Identity value at send time")
    provider = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    source = models.CharField(max_length=32, blank=True, help_text="campaign, inbox, social, test…")
    subject = models.CharField(max_length=998, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    media_urls = models.JSONField(default=list, blank=True)
    template_name = models.CharField(max_length=200, blank=True)
    template_variables = models.JSONField(default=dict, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    reply_to = models.CharField(max_length=255, blank=True)
    categories = models.JSONField(default=list, blank=True)
    context = models.JSONField(default=dict, blank=True)
    human_approved = models.BooleanField(default=False)
    in_reply_to = models.ForeignKey(
        "channels.InboundMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
        db_index=False,  # partial index below: most messages reply to nothing
    )
    provider_message_id = models.CharField(max_length=255, null=True, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=5, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    attempts_count = models.PositiveIntegerField(default=0)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_message_id"],
                condition=models.Q(provider_message_id__isnull=False),
                name="message_unique_provider_id",
            )
        ]
        # Few, lean indexes: every send inserts and updates a row here (hot path of the dispatcher).
        indexes = [
            models.Index(fields=["contact", "channel", "created_at"]),
            models.Index(
                fields=["status"],
                condition=models.Q(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]),
                name="message_pending_status",
            ),
            models.Index(
                fields=["in_reply_to"], condition=models.Q(in_reply_to__isnull=False), name="message_in_reply_to"
            ),
        ]

    def __str__(self):
        return f"{self.channel} → {self.to} ({self.status})"

    @property
    def is_final(self) -> bool:
        """Sent (or further) or failed: never to be sent again."""
        return self.status not in (MessageStatus.QUEUED, MessageStatus.SENDING)


class AttemptOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    TRANSIENT = "transient", "Transient error"
    PERMANENT = "permanent", "Permanent error"


class AttemptOperation(models.TextChoices):
    SEND = "send", "Send a message"
    COMMENT_REPLY = "comment_reply", "Reply to a comment"
    COMMENT_HIDE = "comment_hide", "Hide a comment"


class DeliveryAttempt(models.Model):
    """Every call to a provider, successful or not: the one attempt record of the project.

    A send (`operation` send) is about an outbound `message`. Any other provider operation (a
    public reply to a social comment, hiding one) is about an object of the app that asked for it,
    named by a generic relation (`target_type`, `target_id`: Django's content types), so the channel
    layer records it without importing that app; the app reads its object's attempts through a
    GenericRelation (which also deletes them with the object, as a foreign key would), and
    `reference` keeps the provider's id of what the call acted on (the comment's id on the
    platform). A check constraint holds the two shapes apart. `provider_message_id` is the
    provider's id of what the call created (the message, the published reply)."""

    operation = models.CharField(
        max_length=16, choices=AttemptOperation.choices, default=AttemptOperation.SEND, db_default=AttemptOperation.SEND
    )
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attempts")
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    reference = models.CharField(
        max_length=255, blank=True, db_default="", help_text="The provider's id of the object acted on"
    )
    provider = models.CharField(max_length=32)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    retry_after = models.FloatField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    provider_message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(operation=AttemptOperation.SEND, message__isnull=False, target_id__isnull=True)
                    | (
                        ~models.Q(operation=AttemptOperation.SEND)
                        & models.Q(message__isnull=True, target_type__isnull=False, target_id__isnull=False)
                    )
                ),
                name="attempt_message_or_target",
            )
        ]
        # Sends (the dispatcher's hot path) have no target: the index holds the other operations only.
        indexes = [
            models.Index(
                fields=["target_type", "target_id"], condition=models.Q(target_id__isnull=False), name="attempt_target"
            )
        ]

    def __str__(self):
        return f"{self.operation} {self.provider} {self.outcome} {self.error_code}".strip()


class MessageEventKind(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    DEFERRED = "deferred", "Deferred"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    REPLIED = "replied", "Replied"
    BOUNCED = "bounced", "Bounced"
    DROPPED = "dropped", "Dropped"
    FAILED = "failed", "Failed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    SPAM_REPORT = "spam_report", "Spam report"


class MessageEvent(models.Model):
    """The status timeline of an outbound message."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=MessageEventKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    provider_event_id = models.CharField(max_length=255, null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        # Every send inserts a `sent` event (dispatcher hot path): no varchar_pattern_ops twins,
        # and the uniqueness of provider event ids is a partial index our own events (NULL) skip.
        constraints = [
            models.UniqueConstraint(
                fields=["provider_event_id"],
                condition=models.Q(provider_event_id__isnull=False),
                name="event_unique_provider_id",
            )
        ]
        indexes = [models.Index(fields=["kind"], name="event_kind")]

    def __str__(self):
        return f"{self.kind} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class WebhookStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


class WebhookEvent(models.Model):
    """A verified raw webhook request, stored before processing (only verified ones are stored)."""

    provider = models.CharField(max_length=32, db_index=True)
    kind = models.CharField(max_length=32, blank=True)
    dedup_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    verification = models.CharField(max_length=100, blank=True, help_text="How the request was verified")
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=WebhookStatus.choices, default=WebhookStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text="Failed: when the sweep retries it (WEBHOOK policy); pending: when re-enqueued"
    )
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.provider}/{self.kind} {self.received_at:%Y-%m-%d %H:%M:%S} ({self.status})"


class InboundKind(models.TextChoices):
    MESSAGE = "message", "Message"
    COMMENT = "comment", "Comment"
    MENTION = "mention", "Mention"
    POSTBACK = "postback", "Postback"
    STORY_REPLY = "story_reply", "Story reply"


class InboundMessage(models.Model):
    """A normalised inbound message: the single hand-off to the inbox and social apps."""

    channel = models.CharField(max_length=16, choices=Channel.choices, db_index=True)
    kind = models.CharField(max_length=16, choices=InboundKind.choices, default=InboundKind.MESSAGE)
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    identity = models.ForeignKey(
        "contacts.ContactIdentity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender = models.CharField(max_length=255, help_text="Normalised sender identity value")
    recipient = models.CharField(max_length=255, blank=True)
    external_id = models.CharField(max_length=255, help_text="Provider's id of this message/comment")
    thread_id = models.CharField(max_length=255, blank=True, db_index=True)
    post_id = models.CharField(max_length=255, blank=True, help_text="Post a comment/mention belongs to")
    parent_id = models.CharField(max_length=255, blank=True, help_text="Comment this one replies to")
    subject = models.CharField(max_length=998, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="Sanitised HTML")
    attachments = models.JSONField(default=list, blank=True)
    headers = models.JSONField(default=dict, blank=True, help_text="message_id, in_reply_to, references")
    in_reply_to_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_replies"
    )
    raw_event = models.ForeignKey(
        WebhookEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="inbound_unique_external_id"),
        ]

    def __str__(self):
        return f"{self.channel} {self.kind} from {self.sender}"


class RateLimitBucket(models.Model):
    """A provider account's token bucket when Redis is not configured (see ratelimit.py)."""

    key = models.CharField(max_length=200, primary_key=True)
    tokens = models.FloatField()
    updated = models.FloatField(help_text="Epoch seconds of the last refill")
    blocked_until = models.FloatField(default=0.0, help_text="Epoch seconds; set from Retry-After")

    def __str__(self):
        return f"{self.key}: {self.tokens:.2f}"


class SandboxMessage(Message):
    """Messages that went through the sandbox provider: what would have been sent."""

    class Meta:
        proxy = True
        verbose_name = "sandbox outbox message"


class ChatThreadStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


def _chat_thread_key() -> str:
    return "ct_" + uuid.uuid4().hex


class ChatThread(models.Model):
    """One website-chat conversation as the chat channel sees it: what a provider would hold for
    the other channels (the visitor's presence, the e-mail left for offline replies, the rating).

    `key` is the conversation's identity on the chat channel (Message.to, InboundMessage.sender);
    the visitor's token is signed over it (website/chat)."""

    key = models.CharField(max_length=40, unique=True, default=_chat_thread_key, editable=False)
    site_key = models.CharField(max_length=64, help_text="The website's public key")
    visitor_id = models.CharField(max_length=64, blank=True, help_text="The tracker's anonymous id")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True, help_text="Where replies go while the visitor is away")
    language = models.CharField(max_length=8, blank=True)
    prechat = models.JSONField(default=dict, blank=True, help_text="Answers to the widget's pre-chat fields")
    status = models.CharField(max_length=8, choices=ChatThreadStatus.choices, default=ChatThreadStatus.OPEN)
    last_seen_at = models.DateTimeField(null=True, blank=True, help_text="Last poll of an open page")
    closed_at = models.DateTimeField(null=True, blank=True)
    csat_score = models.PositiveSmallIntegerField(null=True, blank=True)
    csat_comment = models.CharField(max_length=1000, blank=True)
    csat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["site_key", "visitor_id"], name="chat_thread_visitor")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat_score__isnull=True) | models.Q(csat_score__gte=1, csat_score__lte=5),
                name="chat_thread_csat_1_5",
            )
        ]

    def __str__(self):
        return self.key

    @property
    def topic(self) -> str:
        """The live topic the visitor's page polls."""
        return f"chat:{self.key}"
