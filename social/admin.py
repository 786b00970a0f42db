from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.utils.html import format_html

from madansara.channels.models import DeliveryAttempt
from madansara.charts import line_chart
from madansara.forms import LinesListField, ReadableJSONMixin
from social import selectors
from social.models import (
    CommentRule,
    CommentStatus,
    EngagementWeight,
    FunnelRun,
    FunnelStep,
    PlatformInsight,
    PrivateReply,
    SocialAccount,
    SocialAdvocate,
    SocialComment,
    SocialEngagement,
    SocialEngagementFunnel,
    SocialPost,
    SocialSyncRun,
)
from social.services import comments, funnels, scoring
from social.tasks import account_sync_task


class SocialAccountForm(forms.ModelForm):
    """The token is write-only: never rendered back; blank keeps the stored one."""

    access_token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave blank to keep the current token (or to use the environment's).",
    )
    clear_token = forms.BooleanField(required=False, help_text="Forget the stored token (use the environment's)")

    class Meta:
        model = SocialAccount
        fields = [
            "platform",
            "name",
            "external_id",
            "handle",
            "access_token",
            "is_active",
            "auto_send_allowed",
            "max_replies_per_hour",
            "min_seconds_between_replies",
            "posts_synced_until",
            "mentions_cursor",
        ]

    def clean_access_token(self):
        token = self.cleaned_data.get("access_token", "")
        return token or (self.instance.access_token if self.instance.pk else "")

    def save(self, commit=True):
        if self.cleaned_data.get("clear_token"):
            self.instance.access_token = ""
        return super().save(commit)


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin):
    form = SocialAccountForm
    list_display = ("name", "platform", "handle", "is_active", "token_source", "followers", "last_synced_at")
    list_filter = ("platform", "is_active", "auto_send_allowed")
    search_fields = ("name", "handle", "external_id")
    readonly_fields = ("followers", "last_synced_at", "retry_after_until", "insights_chart")
    actions = ["sync_now"]

    @admin.display(description="Token")
    def token_source(self, obj):
        return "account" if obj.has_own_token else "environment / sandbox"

    @admin.display(description="Insights (30 days)")
    def insights_chart(self, obj):
        rows = selectors.insight_series(account_id=obj.pk) if obj.pk else []
        return line_chart(
            per_series_scale=True,
            title=f"{obj} insights",
            labels=[row.day.strftime("%d %b") for row in rows],
            series={
                "Reach": [row.reach for row in rows],
                "Impressions": [row.impressions for row in rows],
                "Followers": [row.followers for row in rows],
                "Engagement rate": [row.engagement_rate for row in rows],
            },
        )

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request, queryset):
        for account in queryset:
            account_sync_task.delay(account.pk)
        self.message_user(request, f"Queued a sync of {queryset.count()} account(s).")


@admin.register(SocialSyncRun)
class SocialSyncRunAdmin(admin.ModelAdmin):
    list_display = ("account", "started_at", "status", "posts", "comments", "mentions", "insights", "deleted_posts")
    list_filter = ("status", "account__platform")
    search_fields = ("account__name", "error")
    list_select_related = ("account",)


@admin.register(SocialPost)
class SocialPostAdmin(admin.ModelAdmin):
    list_display = (
        "external_id",
        "account",
        "published_at",
        "likes",
        "comments_count",
        "shares",
        "reach",
        "deleted_at",
    )
    list_filter = ("account__platform", "account")
    search_fields = ("external_id", "text")
    list_select_related = ("account",)
    date_hierarchy = "published_at"


@admin.register(PlatformInsight)
class PlatformInsightAdmin(admin.ModelAdmin):
    list_display = ("account", "day", "reach", "impressions", "followers", "engagements", "engagement_rate")
    list_filter = ("account__platform", "account")
    search_fields = ("account__name",)
    list_select_related = ("account",)
    date_hierarchy = "day"


@admin.register(SocialEngagement)
class SocialEngagementAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "platform", "kind", "author_handle", "contact", "sentiment", "author_followers")
    list_filter = ("platform", "kind", "sentiment")
    search_fields = ("external_id", "author_handle")
    raw_id_fields = ("contact", "post", "account")
    list_select_related = ("contact",)


@admin.register(EngagementWeight)
class EngagementWeightAdmin(admin.ModelAdmin):
    list_display = ("kind", "platform", "weight")
    list_filter = ("platform", "kind")
    search_fields = ("kind",)
    actions = ["recompute_scores"]

    @admin.action(description="Recompute engagement scores and advocates now", permissions=["change"])
    def recompute_scores(self, request, queryset):
        changed = scoring.engagement_scores_recompute()
        result = scoring.advocates_recompute()
        self.message_user(request, f"{changed} contact scores changed; advocates: {result}.")


@admin.register(CommentRule)
class CommentRuleAdmin(ReadableJSONMixin, admin.ModelAdmin):
    readable_json = {"keywords": LinesListField}
    list_display = ("name", "account", "priority", "action", "intent", "sentiment", "auto_send", "is_active")
    list_filter = ("account", "action", "is_active", "auto_send")
    search_fields = ("name", "reply_template")
    raw_id_fields = ("post",)


class AttemptInline(GenericTabularInline):
    """The platform calls made on the comment: the channel layer's attempt rows that name it."""

    model = DeliveryAttempt
    ct_field, ct_fk_field = "target_type", "target_id"
    fields = readonly_fields = (
        "created_at", "operation", "provider", "outcome", "error_code", "error_message", "retry_after", "latency_ms",
        "provider_message_id",
    )  # fmt: skip
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SocialComment)
class SocialCommentAdmin(admin.ModelAdmin):
    list_display = ("commented_at", "account", "author_handle", "short_text", "intent", "sentiment", "status")
    list_filter = ("status", "kind", "sentiment", "intent", "account")
    search_fields = ("text", "author_handle", "external_id")
    list_select_related = ("account",)
    raw_id_fields = ("contact", "post", "inbound", "rule")
    readonly_fields = ("approved_by", "approved_at", "reply_external_id", "replied_at", "hidden_at", "last_error")
    inlines = [AttemptInline]
    actions = ["approve_and_send", "dismiss", "hide"]

    @admin.display(description="Text")
    def short_text(self, obj):
        return obj.text[:80]

    def _can_approve(self, request):
        return request.user.has_perm("social.approve_socialcomment") or request.user.has_perm(
            "inbox.approve_replydraft"
        )

    @admin.action(description="Approve the draft and send the reply", permissions=["change"])
    def approve_and_send(self, request, queryset):
        if not self._can_approve(request):
            self.message_user(request, "Your role cannot approve replies.", messages.ERROR)
            return
        done = 0
        for comment in queryset.filter(status__in=[CommentStatus.PENDING_APPROVAL, CommentStatus.NEEDS_HUMAN]):
            try:
                comments.comment_reply_approve(comment=comment, actor=request.user)
                done += 1
            except comments.CommentStateError as exc:
                self.message_user(request, f"{comment}: {exc}", messages.WARNING)
        self.message_user(request, f"Approved {done} repl(ies); they are sent as the account's budget allows.")

    @admin.action(description="Dismiss (no reply)", permissions=["change"])
    def dismiss(self, request, queryset):
        for comment in queryset:
            try:
                comments.comment_dismiss(comment=comment, actor=request.user)
            except comments.CommentStateError:
                continue

    @admin.action(description="Hide on the platform", permissions=["change"])
    def hide(self, request, queryset):
        for comment in queryset.select_related("account"):
            comments.comment_hide(comment=comment, actor=request.user)


class FunnelStepInline(admin.TabularInline):
    model = FunnelStep
    extra = 1


@admin.register(SocialEngagementFunnel)
class SocialEngagementFunnelAdmin(ReadableJSONMixin, admin.ModelAdmin):
    readable_json = {"keywords": LinesListField}
    list_display = ("name", "account", "trigger", "is_active", "triggered", "dm_sent", "replied", "converted")
    list_filter = ("trigger", "is_active", "account")
    search_fields = ("name",)
    raw_id_fields = ("post",)
    inlines = [FunnelStepInline]

    def get_queryset(self, request):
        return selectors.funnels_with_stats(super().get_queryset(request).select_related("account"))

    @admin.display(ordering="triggered")
    def triggered(self, obj):
        return obj.triggered

    @admin.display(ordering="dm_sent", description="DM sent")
    def dm_sent(self, obj):
        return obj.dm_sent

    @admin.display(ordering="replied")
    def replied(self, obj):
        return obj.replied

    @admin.display(ordering="converted")
    def converted(self, obj):
        return format_html("<strong>{}</strong>", obj.converted)


@admin.register(FunnelRun)
class FunnelRunAdmin(admin.ModelAdmin):
    list_display = ("funnel", "contact", "status", "position", "dm_sent_at", "replied_at", "converted_at")
    list_filter = ("status", "funnel")
    search_fields = ("contact__name", "email")
    raw_id_fields = ("contact", "comment")
    list_select_related = ("funnel", "contact")
    actions = ["cancel"]

    @admin.action(description="Cancel the run", permissions=["change"])
    def cancel(self, request, queryset):
        for run in queryset:
            funnels.funnel_run_cancel(run=run, actor=request.user)


@admin.register(PrivateReply)
class PrivateReplyAdmin(admin.ModelAdmin):
    list_display = ("comment_external_id", "platform", "created_at", "message")
    list_filter = ("platform",)
    search_fields = ("comment_external_id",)
    raw_id_fields = ("comment", "message")


@admin.register(SocialAdvocate)
class SocialAdvocateAdmin(admin.ModelAdmin):
    list_display = ("contact", "tier", "score", "positive_comments", "shares", "mentions", "reach", "review_status")
    list_filter = ("tier", "review_status")
    search_fields = ("contact__name",)
    list_select_related = ("contact",)
    raw_id_fields = ("contact",)
    actions = ["enrol", "dismiss"]

    @admin.action(description="Enrol in the advocate campaign", permissions=["change"])
    def enrol(self, request, queryset):
        count = scoring.advocates_enrol(advocates=queryset, actor=request.user)
        self.message_user(request, f"Enrolled {count} advocate(s).")

    @admin.action(description="Dismiss from the review list", permissions=["change"])
    def dismiss(self, request, queryset):
        scoring.advocates_dismiss(advocates=queryset, actor=request.user)
