from django.contrib import admin

from madansara.channels.models import DeliveryAttempt, InboundMessage, Message, MessageEvent, WebhookEvent


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
        "latency_ms",
        "provider_message_id",
    ]


class MessageEventInline(admin.TabularInline):
    model = MessageEvent
    extra = 0
    can_delete = False
    readonly_fields = ["occurred_at", "kind", "provider_event_id", "data"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "to", "status", "provider", "source", "cost"]
    list_filter = ["channel", "status", "provider", "source"]
    search_fields = ["to", "subject", "provider_message_id", "=id"]
    raw_id_fields = ["contact", "in_reply_to"]
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline, MessageEventInline]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "provider", "kind", "status", "attempts", "verification"]
    list_filter = ["provider", "kind", "status"]
    search_fields = ["dedup_key"]


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "channel", "kind", "sender", "subject"]
    list_filter = ["channel", "kind"]
    search_fields = ["sender", "subject", "external_id", "thread_id"]
    raw_id_fields = ["contact", "identity", "in_reply_to_message", "raw_event"]
