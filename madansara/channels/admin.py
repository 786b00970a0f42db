from django.conf import settings
from django.contrib import admin, messages

from madansara.channels import registry
from madansara.channels.models import (
    ChatThread,
    DeliveryAttempt,
    InboundMessage,
    Message,
    MessageEvent,
    RateLimitBucket,
    SandboxMessage,
    WebhookEvent,
    WebhookStatus,
)
from madansara.channels.simulate import sandbox_simulate
from madansara.channels.webhooks.processing import webhook_event_retry
from madansara.forms import KeyValueField, LinesListField, ReadableJSONMixin
from madansara.money import money_column


def webhook_status() -> list[tuple[str, bool]]:
    """Which webhook secrets are set (booleans only, never the values)."""
    return [
        ("SendGrid Event Webhook (SENDGRID_EVENT_PUBLIC_KEY)", bool(settings.SENDGRID_EVENT_PUBLIC_KEY)),
        ("SendGrid Inbound Parse (SENDGRID_INBOUND_SECRET)", bool(settings.SENDGRID_INBOUND_SECRET)),
        ("Twilio (TWILIO_AUTH_TOKEN)", bool(settings.TWILIO_AUTH_TOKEN)),
        ("Meta (META_APP_SECRET, META_VERIFY_TOKEN)", bool(settings.META_APP_SECRET and settings.META_VERIFY_TOKEN)),
        ("X (X_CONSUMER_SECRET)", bool(settings.X_CONSUMER_SECRET)),
        ("LinkedIn (LINKEDIN_CLIENT_SECRET)", bool(settings.LINKEDIN_CLIENT_SECRET)),
    ]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = [
        "created_at",
        "provider",
        "outcome",
        "error_code",
        "error_message",
        "retry_after",
        "latency_ms",
        "provider_message_id",
    ]

    def has_add_permission(self, request, obj=None):
        return False


class MessageEventInline(admin.TabularInline):
    model = MessageEvent
    extra = 0
    can_delete = False
    readonly_fields = ["occurred_at", "kind", "provider_event_id", "data"]

    def has_add_permission(self, request, obj=None):
        return False


def _simulate_action(event: str):
    def action(modeladmin, request, queryset):
        done = skipped = 0
        for message in queryset:
            try:
                sandbox_simulate(message=message, event=event)
                done += 1
            except ValueError:
                skipped += 1
        modeladmin.message_user(request, f"Simulated '{event}' on {done} message(s); {skipped} skipped (not sandbox).")

    action.__name__ = f"simulate_{event}"
    action.short_description = f"Sandbox: simulate {event}"
    action.allowed_permissions = ("simulate",)
    return action


class SimulateMixin:
    """Simulating provider events changes message statuses: it needs the change permission."""

    def has_simulate_permission(self, request):
        return request.user.has_perm("channels.change_message")


SIMULATE_ACTIONS = [_simulate_action(e) for e in ("delivered", "open", "click", "reply", "failure")]


@admin.register(Message)
class MessageAdmin(SimulateMixin, ReadableJSONMixin, admin.ModelAdmin):
    readable_json = {
        "media_urls": LinesListField,
        "categories": LinesListField,
        "template_variables": KeyValueField,
        "headers": KeyValueField,
        "context": KeyValueField,
    }
    list_display = ["created_at", "channel", "to", "status", "provider", "source", "attempts_count", "cost_money"]
    list_filter = ["channel", "status", "provider", "source"]
    search_fields = ["to", "subject", "provider_message_id", "=id"]
    raw_id_fields = ["contact", "in_reply_to"]
    exclude = ["cost"]  # recorded by the dispatcher; shown as money below
    readonly_fields = [
        "cost_money",
        "provider_message_id",
        "attempts_count",
        "failure_code",
        "failure_reason",
        "sent_at",
        "delivered_at",
        "opened_at",
        "clicked_at",
        "replied_at",
        "failed_at",
    ]
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline, MessageEventInline]
    cost_money = money_column("cost", description="cost", currency_field="currency", unit=True)
    actions = SIMULATE_ACTIONS

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "channel_status": registry.channel_status(),
            "webhook_status": webhook_status(),
        }
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(SandboxMessage)
class SandboxMessageAdmin(SimulateMixin, admin.ModelAdmin):
    list_display = ["created_at", "channel", "to", "subject", "text_preview", "status"]
    list_filter = ["channel", "status"]
    search_fields = ["to", "subject", "text"]
    actions = SIMULATE_ACTIONS
    inlines = [MessageEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(provider="sandbox")

    @admin.display(description="Text")
    def text_preview(self, obj):
        return (obj.text or obj.template_name)[:80]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ["created_at", "operation", "provider", "outcome", "error_code", "latency_ms", "about"]
    list_filter = ["operation", "provider", "outcome"]
    search_fields = ["error_code", "provider_message_id", "reference", "=message__id"]
    raw_id_fields = ["message"]
    readonly_fields = ["target_type", "target_id", "reference"]
    list_select_related = ["target_type"]
    date_hierarchy = "created_at"

    @admin.display(description="About")
    def about(self, obj):
        """The message sent, or the object another operation acted on (its type and ids)."""
        if obj.message_id:
            return f"message {obj.message_id}"
        return f"{obj.target_type.model if obj.target_type_id else '?'} #{obj.target_id} ({obj.reference})"


@admin.register(MessageEvent)
class MessageEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "message", "provider_event_id"]
    list_filter = ["kind"]
    search_fields = ["provider_event_id", "=message__id"]
    raw_id_fields = ["message"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "provider", "kind", "verification", "status", "attempts", "processed_at"]
    list_filter = ["provider", "kind", "status"]
    search_fields = ["dedup_key", "last_error"]
    readonly_fields = [
        "provider",
        "kind",
        "dedup_key",
        "received_at",
        "verification",
        "headers",
        "body",
        "status",
        "attempts",
        "last_error",
        "processed_at",
    ]
    actions = ["retry_processing"]

    @admin.action(description="Retry processing of the selected events", permissions=["change"])
    def retry_processing(self, request, queryset):
        events = list(queryset.exclude(status=WebhookStatus.PROCESSED))
        for event in events:
            webhook_event_retry(event=event)
        self.message_user(request, f"{len(events)} event(s) queued for processing.", messages.SUCCESS)


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "channel", "kind", "sender", "subject", "contact", "in_reply_to_message"]
    list_filter = ["channel", "kind"]
    search_fields = ["sender", "subject", "external_id", "thread_id", "post_id"]
    raw_id_fields = ["contact", "identity", "in_reply_to_message", "raw_event"]
    list_select_related = ["contact", "in_reply_to_message"]


@admin.register(RateLimitBucket)
class RateLimitBucketAdmin(admin.ModelAdmin):
    list_display = ["key", "tokens", "blocked_until"]
    search_fields = ["key"]


@admin.register(ChatThread)
class ChatThreadAdmin(admin.ModelAdmin):
    """Website chats as the chat channel holds them: presence, the e-mail left, the rating."""

    list_display = ["created_at", "key", "site_key", "name", "email", "status", "last_seen_at", "csat_score"]
    list_filter = ["status", "csat_score"]
    search_fields = ["key", "email", "name", "visitor_id"]
    readonly_fields = [f.name for f in ChatThread._meta.fields]

    def has_add_permission(self, request):
        return False
