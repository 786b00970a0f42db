"""Admin: endpoints (enable, rotate the secret), the delivery log with every attempt, and replay."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from madansara.webhooks_out.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from madansara.webhooks_out.services import (
    UnsafeAddress,
    url_resolve,
    webhook_delivery_replay,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)


class WebhookEndpointForm(admin.ModelAdmin.form):
    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            url_resolve(url)
        except UnsafeAddress as exc:
            raise ValidationError(str(exc)) from exc
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "is_active", "event_types", "owner", "api_key", "consecutive_failures", "disabled_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description", "owner__username"]
    readonly_fields = [
        "secret",
        "disabled_at",
        "disabled_reason",
        "consecutive_failures",
        "failing_since",
        "created_at",
    ]
    raw_id_fields = ["owner", "api_key"]
    actions = ["enable", "rotate_secret"]

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk}

    @admin.action(description="Enable selected endpoints (reset their failures)", permissions=["change"])
    def enable(self, request, queryset):
        for endpoint in queryset.filter(is_active=False):
            webhook_endpoint_update(endpoint=endpoint, actor=request.user, is_active=True)
        self.message_user(request, "Endpoints enabled.")

    @admin.action(description="Rotate the signing secret", permissions=["change"])
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
        self.message_user(request, "New secrets set: tell the receivers.", messages.WARNING)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["attempted_at", "status_code", "succeeded", "error", "duration_ms"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event_type", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["event_id", "endpoint__url", "last_error"]
    list_select_related = ["endpoint"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = [AttemptInline]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Replay selected deliveries now", permissions=["change"])
    def replay(self, request, queryset):
        done = 0
        for delivery in queryset.select_related("endpoint"):
            try:
                webhook_delivery_replay(delivery=delivery, actor=request.user)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"#{delivery.pk}: {' '.join(exc.messages)}", messages.ERROR)
        self.message_user(request, f"{done} deliver{'y' if done == 1 else 'ies'} replayed.")
