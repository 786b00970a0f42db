from django.contrib import admin

from madansara.notifications.models import Delivery, Notification, NotificationPreference
from madansara.roles import ROLE_ADMIN


def _sees_all(request) -> bool:
    return request.user.is_superuser or request.user.groups.filter(name=ROLE_ADMIN).exists()


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("transport", "address", "status", "deliver_after", "attempts", "error", "sent_at")
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The admin notification list: everyone's for admins, one's own for the other roles."""

    list_display = ("created_at", "kind", "severity", "title")
    list_filter = ("kind", "severity", "created_at")
    search_fields = ("title", "dedup_key", "target_id")
    date_hierarchy = "created_at"
    readonly_fields = (
        "kind",
        "severity",
        "dedup_key",
        "title",
        "body",
        "url",
        "target_type",
        "target_id",
        "created_at",
    )
    inlines = [DeliveryInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if _sees_all(request) else queryset.filter(deliveries__user=request.user).distinct()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("notification", "transport", "address", "status", "attempts", "sent_at")
    list_filter = ("transport", "status")
    search_fields = ("address", "notification__title")
    list_select_related = ("notification",)
    readonly_fields = (
        "notification",
        "transport",
        "user",
        "address",
        "status",
        "deliver_after",
        "attempts",
        "error",
        "sent_at",
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if _sees_all(request) else queryset.filter(user=request.user)

    def has_add_permission(self, request):
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "email_enabled", "digest", "timezone", "quiet_start", "quiet_end")
    list_filter = ("email_enabled", "digest")
    search_fields = ("user__username", "user__email")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if _sees_all(request) else queryset.filter(user=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not _sees_all(request):  # one's own preferences only
            kwargs["queryset"] = db_field.remote_field.model.objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
