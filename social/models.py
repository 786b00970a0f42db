"""Social engagement: accounts, posts, comments and their handling, engagement events,
funnels, insights, scoring weights and advocates."""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from madansara.templating import template_validate


class Platform(models.TextChoices):
    INSTAGRAM = "instagram", "Instagram"
    FACEBOOK = "facebook", "Facebook"
    LINKEDIN = "linkedin", "LinkedIn"
    X = "x", "X (Twitter)"
    SANDBOX = "sandbox", "Sandbox"


# The channel-layer channel that carries a platform's DMs (sandbox pretends to be Instagram).
PLATFORM_CHANNEL = {
    Platform.INSTAGRAM: "instagram",
    Platform.FACEBOOK: "facebook",
    Platform.LINKEDIN: "linkedin",
    Platform.X: "x",
    Platform.SANDBOX: "instagram",
}
CHANNEL_PLATFORMS = {"instagram": (Platform.INSTAGRAM, Platform.SANDBOX), "facebook": (Platform.FACEBOOK,)}
CHANNEL_PLATFORMS |= {"linkedin": (Platform.LINKEDIN,), "x": (Platform.X,)}


class SocialAccount(models.Model):
    """A connected brand account; its token comes from the admin or, when blank, the environment."""

    platform = models.CharField(max_length=16, choices=Platform.choices, db_index=True)
    name = models.CharField(max_length=200)
    external_id = models.CharField(max_length=255, help_text="IG user id, Page id, organisation URN or X user id")
    handle = models.CharField(max_length=255, blank=True)
    access_token = models.CharField(
        max_length=1000, blank=True, help_text="Leave blank to use the platform's token from the environment"
    )
    is_active = models.BooleanField(default=True)
    auto_send_allowed = models.BooleanField(
        default=False, help_text="Policy: rules marked auto-send may reply without approval (never to complaints)"
    )
    max_replies_per_hour = models.PositiveIntegerField(default=20)
    min_seconds_between_replies = models.PositiveIntegerField(default=45)
    followers = models.PositiveIntegerField(default=0)
    posts_synced_until = models.DateTimeField(null=True, blank=True, help_text="Incremental watermark")
    mentions_cursor = models.CharField(max_length=255, blank=True, help_text="since_id / timestamp of last mention")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    retry_after_until = models.DateTimeField(null=True, blank=True, help_text="Rate-limited by the platform until")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["platform", "name"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="social_account_unique_external_id")
        ]

    def __str__(self):
        return f"{self.get_platform_display()}: {self.name}"

    @property
    def channel(self) -> str:
        return PLATFORM_CHANNEL[self.platform]

    @property
    def has_own_token(self) -> bool:
        return bool(self.access_token)

    def is_rate_limited(self, now=None) -> bool:
        return self.retry_after_until is not None and self.retry_after_until > (now or timezone.now())


class SyncStatus(models.TextChoices):
    RUNNING = "running", "Running"
    OK = "ok", "OK"
    RATE_LIMITED = "rate_limited", "Rate limited"
    FAILED = "failed", "Failed"


class SocialSyncRun(models.Model):
    """One sync of one account: what was fetched and how it ended."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="sync_runs")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    posts = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    mentions = models.PositiveIntegerField(default=0)
    engagements = models.PositiveIntegerField(default=0, help_text="New likes and shares")
    insights = models.PositiveIntegerField(default=0)
    deleted_posts = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.account} sync {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class SocialPost(models.Model):
    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="posts")
    external_id = models.CharField(max_length=255)
    url = models.URLField(max_length=1000, blank=True)
    text = models.TextField(blank=True)
    media_type = models.CharField(max_length=32, blank=True)
    published_at = models.DateTimeField(db_index=True)
    likes = models.PositiveIntegerField(default=0)
    comments_count = models.PositiveIntegerField(default=0)
    shares = models.PositiveIntegerField(default=0)
    saves = models.PositiveIntegerField(default=0)
    impressions = models.PositiveIntegerField(default=0)
    reach = models.PositiveIntegerField(default=0)
    metrics_updated_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="The platform says the post is gone")

    class Meta:
        ordering = ["-published_at"]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="social_post_unique")]

    def __str__(self):
        return f"{self.account.platform}:{self.external_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def engagement_total(self) -> int:
        """Likes, comments, shares and saves as the platform counts them."""
        return self.likes + self.comments_count + self.shares + self.saves

    @property
    def engagement_rate(self) -> float:
        """Engagements per reached person (0 when reach is unknown)."""
        return round(self.engagement_total / self.reach, 4) if self.reach else 0.0


class PlatformInsight(models.Model):
    """Account-level metrics of one day."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="insights")
    day = models.DateField()
    reach = models.PositiveIntegerField(default=0)
    impressions = models.PositiveIntegerField(default=0)
    followers = models.PositiveIntegerField(default=0)
    engagements = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="social_insight_unique_day")]

    def __str__(self):
        return f"{self.account} {self.day}"

    @property
    def engagement_rate(self) -> float:
        return round(self.engagements / self.reach, 4) if self.reach else 0.0


class EngagementKind(models.TextChoices):
    LIKE = "like", "Like"
    COMMENT = "comment", "Comment"
    REPLY = "reply", "Reply"
    SHARE = "share", "Share"
    MENTION = "mention", "Mention"
    SAVE = "save", "Save"
    DM = "dm", "Direct message"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class SocialEngagement(models.Model):
    """One engagement event by a person, deduplicated by the platform's id."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="engagements")
    post = models.ForeignKey(SocialPost, null=True, blank=True, on_delete=models.SET_NULL, related_name="engagements")
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="social_engagements"
    )
    kind = models.CharField(max_length=16, choices=EngagementKind.choices)
    external_id = models.CharField(max_length=255, help_text="Platform id of the event (comment id, share id…)")
    author_handle = models.CharField(max_length=255, blank=True)
    author_followers = models.PositiveIntegerField(default=0, help_text="The engager's reach")
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "kind", "external_id"], name="social_engagement_unique")
        ]
        indexes = [models.Index(fields=["contact", "occurred_at"]), models.Index(fields=["occurred_at"])]

    def __str__(self):
        return f"{self.platform} {self.kind} by {self.author_handle or self.contact_id}"


class EngagementWeight(models.Model):
    """Score points of one engagement kind; a platform row overrides the any-platform row."""

    kind = models.CharField(max_length=16, choices=EngagementKind.choices)
    platform = models.CharField(max_length=16, choices=Platform.choices, blank=True, help_text="Blank: any platform")
    weight = models.FloatField()

    class Meta:
        ordering = ["kind", "platform"]
        constraints = [models.UniqueConstraint(fields=["kind", "platform"], name="social_weight_unique")]

    def __str__(self):
        return f"{self.kind}/{self.platform or '*'} = {self.weight}"


class CommentAction(models.TextChoices):
    REPLY = "reply", "Reply publicly"
    HIDE = "hide", "Hide"
    ROUTE_INBOX = "route_inbox", "Route to the inbox"
    IGNORE = "ignore", "Ignore"


class CommentRule(models.Model):
    """How an account answers comments: first matching rule (lowest priority number) wins."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="comment_rules")
    name = models.CharField(max_length=200)
    priority = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    keywords = models.JSONField(default=list, blank=True, help_text="Any of these words (case-insensitive)")
    intent = models.CharField(max_length=32, blank=True, help_text="question, praise, complaint, spam, purchase…")
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices, blank=True)
    post = models.ForeignKey(SocialPost, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=16, choices=CommentAction.choices, default=CommentAction.REPLY)
    reply_template = models.TextField(blank=True, help_text="Jinja2; variables: author, text, post_url")
    use_ai_draft = models.BooleanField(default=True)
    auto_send = models.BooleanField(default=False, help_text="Only if the account's policy allows auto-send")

    class Meta:
        ordering = ["account", "priority", "id"]

    def __str__(self):
        return self.name

    def clean(self):
        """The reply template is checked in the sandbox when saved (syntax, variables, unsafe expressions)."""
        errors = template_validate(
            channel="", fields={"text": self.reply_template}, allowed_variables={"author", "text", "post_url"}
        )
        if errors:
            raise ValidationError({"reply_template": errors})

    def matches(self, *, text: str, intent: str, sentiment: str, post_id: int | None) -> bool:
        """Do all of the rule's conditions hold for this comment?"""
        if self.post_id and self.post_id != post_id:
            return False
        if self.intent and self.intent != intent:
            return False
        if self.sentiment and self.sentiment != sentiment:
            return False
        if self.keywords:
            lowered = text.lower()
            return any(str(word).lower() in lowered for word in self.keywords)
        return True


class CommentStatus(models.TextChoices):
    NEW = "new", "New"
    PENDING_APPROVAL = "pending_approval", "Draft awaiting approval"
    NEEDS_HUMAN = "needs_human", "Needs a human"
    APPROVED = "approved", "Approved, to send"
    SENDING = "sending", "Sending"
    REPLIED = "replied", "Replied"
    HIDDEN = "hidden", "Hidden"
    ROUTED = "routed", "Routed to the inbox"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class SocialComment(models.Model):
    """A comment, mention or story reply and its handling (classification, draft, approval, reply)."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="comments")
    post = models.ForeignKey(SocialPost, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments")
    kind = models.CharField(max_length=16, default="comment", help_text="comment, mention or story_reply")
    external_id = models.CharField(max_length=255)
    parent_external_id = models.CharField(max_length=255, blank=True)
    author_handle = models.CharField(max_length=255, blank=True)
    author_id = models.CharField(max_length=255, blank=True)
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="social_comments"
    )
    inbound = models.ForeignKey(
        "channels.InboundMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(blank=True)
    commented_at = models.DateTimeField(default=timezone.now, db_index=True)
    intent = models.CharField(max_length=32, blank=True)
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices, blank=True)
    status = models.CharField(max_length=20, choices=CommentStatus.choices, default=CommentStatus.NEW, db_index=True)
    rule = models.ForeignKey(CommentRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    draft_text = models.TextField(blank=True)
    draft_source = models.CharField(max_length=16, blank=True, help_text="ai, template or human")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    reply_external_id = models.CharField(max_length=255, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True, db_index=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text="An approved reply that failed transiently is not retried before"
    )
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Every platform call on the comment (public reply, hide): the channel layer's attempt rows.
    attempts = GenericRelation(
        "channels.DeliveryAttempt",
        content_type_field="target_type",
        object_id_field="target_id",
        related_query_name="social_comment",
    )

    class Meta:
        ordering = ["-commented_at"]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="social_comment_unique")]
        indexes = [models.Index(fields=["account", "status"])]
        permissions = [("approve_socialcomment", "Can approve and send replies to social comments")]

    def __str__(self):
        return f"{self.kind} {self.external_id} by {self.author_handle}"

    @property
    def must_go_to_human(self) -> bool:
        """Complaints and negative comments are never answered automatically."""
        return self.sentiment == Sentiment.NEGATIVE or self.intent == "complaint"

    @property
    def can_be_approved(self) -> bool:
        return self.status in (CommentStatus.PENDING_APPROVAL, CommentStatus.NEEDS_HUMAN, CommentStatus.FAILED)


PRIVATE_REPLY_WINDOW = timedelta(days=7)


class PrivateReply(models.Model):
    """The one private reply (DM) a comment may get; the unique key enforces Instagram's rule."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    comment_external_id = models.CharField(max_length=255)
    comment = models.ForeignKey(SocialComment, on_delete=models.CASCADE, related_name="private_replies")
    message = models.ForeignKey("channels.Message", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "comment_external_id"], name="social_one_private_reply")
        ]

    def __str__(self):
        return f"private reply to {self.comment_external_id}"


class FunnelTrigger(models.TextChoices):
    COMMENT_KEYWORD = "comment_keyword", "Keyword in a comment"
    MENTION = "mention", "Mention"
    STORY_REPLY = "story_reply", "Story reply"


class SocialEngagementFunnel(models.Model):
    """Comment-to-DM funnel: a trigger opens a private reply, then a sequence of steps."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="funnels")
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    trigger = models.CharField(max_length=20, choices=FunnelTrigger.choices, default=FunnelTrigger.COMMENT_KEYWORD)
    post = models.ForeignKey(
        SocialPost, null=True, blank=True, on_delete=models.CASCADE, related_name="+", help_text="Blank: any post"
    )
    keywords = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def is_triggered_by(self, *, kind: str, text: str, post_id: int | None) -> bool:
        """Does a comment/mention/story reply start this funnel?"""
        if not self.is_active:
            return False
        if self.trigger == FunnelTrigger.COMMENT_KEYWORD:
            if kind != "comment" or (self.post_id and self.post_id != post_id):
                return False
            words = set(text.lower().replace("!", " ").replace(".", " ").replace(",", " ").split())
            return any(str(keyword).lower() in words for keyword in self.keywords)
        return kind == self.trigger


class StepAction(models.TextChoices):
    SEND_DM = "send_dm", "Send a DM"
    ASK_EMAIL = "ask_email", "Ask for an email address (waits for the reply)"
    SEND_LINK = "send_link", "Deliver a link"
    HANDOVER_CAMPAIGN = "handover_campaign", "Hand over to a campaign (tag)"
    HANDOVER_INBOX = "handover_inbox", "Hand over to the inbox"


class FunnelStep(models.Model):
    TEMPLATE_VARIABLES = frozenset({"name", "link", "email"})

    funnel = models.ForeignKey(SocialEngagementFunnel, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=20, choices=StepAction.choices)
    text = models.TextField(blank=True, help_text="Message; {{ link }} and {{ name }} are available")
    link = models.URLField(max_length=1000, blank=True)
    campaign_tag = models.CharField(max_length=100, blank=True, help_text="Tag that enrols the contact in a campaign")

    class Meta:
        ordering = ["funnel", "position"]
        constraints = [models.UniqueConstraint(fields=["funnel", "position"], name="social_funnel_step_unique")]

    def __str__(self):
        return f"{self.funnel_id}#{self.position} {self.action}"

    def clean(self):
        """The message is checked in the sandbox when saved (syntax, variables, unsafe expressions)."""
        errors = template_validate(channel="", fields={"text": self.text}, allowed_variables=self.TEMPLATE_VARIABLES)
        if errors:
            raise ValidationError({"text": errors})


class RunStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    WAITING_REPLY = "waiting_reply", "Waiting for a reply"
    COMPLETED = "completed", "Completed"
    HANDED_OVER = "handed_over", "Handed over"
    FAILED = "failed", "Failed"


OPEN_RUN_STATUSES = (RunStatus.ACTIVE, RunStatus.WAITING_REPLY)


class FunnelRun(models.Model):
    """One contact's way through a funnel."""

    funnel = models.ForeignKey(SocialEngagementFunnel, on_delete=models.CASCADE, related_name="runs")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="social_funnel_runs")
    comment = models.ForeignKey(SocialComment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.ACTIVE, db_index=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Next step to run")
    email = models.EmailField(blank=True)
    pending_message = models.ForeignKey(
        "channels.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    dm_sent_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["funnel", "contact"],
                condition=Q(status__in=["active", "waiting_reply"]),
                name="social_one_open_run_per_contact",
            )
        ]

    def __str__(self):
        return f"{self.funnel_id} run for {self.contact_id} ({self.status})"


class AdvocateTier(models.TextChoices):
    NONE = "none", "Not (or no longer) an advocate"
    RISING = "rising", "Rising"
    ADVOCATE = "advocate", "Advocate"
    CHAMPION = "champion", "Champion"


class ReviewStatus(models.TextChoices):
    TO_REVIEW = "to_review", "To review"
    ENROLLED = "enrolled", "Enrolled"
    DISMISSED = "dismissed", "Dismissed"


class SocialAdvocate(models.Model):
    """A contact who repeatedly engages positively, shares and mentions, weighted by reach."""

    contact = models.OneToOneField("contacts.Contact", on_delete=models.CASCADE, related_name="social_advocate")
    score = models.FloatField(default=0.0, db_index=True)
    tier = models.CharField(max_length=16, choices=AdvocateTier.choices, default=AdvocateTier.NONE, db_index=True)
    positive_comments = models.PositiveIntegerField(default=0)
    shares = models.PositiveIntegerField(default=0)
    mentions = models.PositiveIntegerField(default=0)
    reach = models.PositiveIntegerField(default=0)
    last_engaged_at = models.DateTimeField(null=True, blank=True)
    review_status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.TO_REVIEW)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-score"]

    def __str__(self):
        return f"{self.contact_id} {self.tier} ({self.score:.1f})"
