"""Admin for agents' actions held for approval (campaign drafts, conversions)."""

from django.contrib import admin, messages

from agents.models import ActionRequestStatus, AgentActionRequest
from agents.services import ActionRequestError, action_request_approve, action_request_reject


@admin.register(AgentActionRequest)
class AgentActionRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "action", "status", "api_key", "requested_by", "decided_by", "created_at"]
    list_filter = ["status", "action"]
    search_fields = ["arguments", "error"]
    list_select_related = ["api_key", "requested_by", "decided_by"]
    readonly_fields = [f.name for f in AgentActionRequest._meta.fields]
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm("agents.approve_agentactionrequest")

    def _decide(self, request, queryset, service, verb):
        done, errors = 0, []
        for pending in queryset.filter(status=ActionRequestStatus.PENDING):
            try:
                decided = service(request=pending, actor=request.user)
            except (ActionRequestError, PermissionError) as exc:
                errors.append(f"#{pending.pk}: {exc}")
                continue
            if decided.status == ActionRequestStatus.FAILED:
                errors.append(f"#{pending.pk} could not be carried out: {decided.error}")
            else:
                done += 1
        self.message_user(request, f"{done} request(s) {verb}.", messages.SUCCESS if done else messages.WARNING)
        for error in errors:
            self.message_user(request, error, messages.ERROR)

    @admin.action(description="Approve and carry out selected", permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset, action_request_approve, "approved")

    @admin.action(description="Reject selected", permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset, action_request_reject, "rejected")
