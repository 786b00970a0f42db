"""Admin for direct sends: the review queue of messages API keys and agents asked to send."""

from django.contrib import admin, messages

from outreach.models import DirectSend, DirectSendStatus
from outreach.services.direct import DirectSendError, direct_send_approve, direct_send_reject


@admin.register(DirectSend)
class DirectSendAdmin(admin.ModelAdmin):
    list_display = ["id", "contact", "channel", "status", "hold_reason", "via", "api_key", "due_at", "created_at"]
    list_filter = ["status", "channel", "via", "hold_reason"]
    search_fields = ["contact__name", "contact__identities__value", "text", "template_name", "idempotency_key"]
    list_select_related = ["contact", "api_key"]
    raw_id_fields = ["contact", "message", "requested_by", "decided_by"]
    readonly_fields = [f.name for f in DirectSend._meta.fields]
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm("outreach.approve_directsend")

    def _decide(self, request, queryset, service, verb):
        done, errors = 0, []
        for send in queryset.filter(status=DirectSendStatus.AWAITING_APPROVAL):
            try:
                service(send=send, actor=request.user)
                done += 1
            except (DirectSendError, PermissionError) as exc:
                errors.append(f"#{send.pk}: {exc}")
        self.message_user(request, f"{done} send(s) {verb}.", messages.SUCCESS if done else messages.WARNING)
        for error in errors:
            self.message_user(request, error, messages.ERROR)

    @admin.action(description="Approve and send selected", permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset, direct_send_approve, "approved")

    @admin.action(description="Reject selected", permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset, direct_send_reject, "rejected")
