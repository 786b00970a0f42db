"""The inbox in the Django admin, with the human-in-the-loop review console for drafts."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from inbox.models import (
    Agent,
    AIClassification,
    AutoSendPolicy,
    AutoSendSettings,
    BusinessHours,
    Conversation,
    ConversationMessage,
    DraftStatus,
    Intent,
    InternalNote,
    KnowledgeSnippet,
    Label,
    ReplyDraft,
    ResponseTemplate,
    SLAEvent,
    SLAPolicy,
    Team,
)
from inbox.selectors import conversations_search, sla_q
from inbox.services.assignment import conversation_assign
from inbox.services.conversations import conversation_status_set
from inbox.services.drafts import (
    DraftError,
    contact_facts,
    draft_reject,
    draft_send,
    drafts_bulk_approve,
    template_context,
)
from madansara.templating import TemplateError, template_render


class InternalNoteInline(admin.TabularInline):
    model = InternalNote
    extra = 1
    fields = ("text", "author", "created_at")
    readonly_fields = ("author", "created_at")


class ConversationMessageInline(admin.TabularInline):
    model = ConversationMessage
    extra = 0
    can_delete = False
    fields = ("created_at", "direction", "content", "delivery", "author", "auto_sent")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("inbound", "outbound", "author")

    @admin.display(description="Message")
    def content(self, entry):
        source = entry.inbound if entry.inbound_id else entry.outbound
        return Truncator(source.text).chars(200)

    @admin.display(description="Delivery status")
    def delivery(self, entry):
        return entry.outbound.get_status_display() if entry.outbound_id else "received"


class SLAStateFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("at_risk", "At risk"), ("breached", "Breached")]

    def queryset(self, request, queryset):
        return queryset.filter(sla_q(self.value())) if self.value() else queryset


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "channel",
        "participant",
        "subject",
        "status",
        "priority",
        "assignee",
        "team",
        "latest_intent",
        "latest_sentiment",
        "last_message_at",
        "sla_breached",
    )
    list_filter = (
        SLAStateFilter,
        "status",
        "channel",
        "priority",
        "team",
        "latest_intent",
        "latest_sentiment",
        "sla_breached",
        ("assignee", admin.EmptyFieldListFilter),
    )
    search_fields = ("participant", "subject", "contact__name")
    raw_id_fields = ("contact", "campaign_message")
    autocomplete_fields = ("labels",)
    readonly_fields = (
        "reply_token",
        "first_response_due",
        "next_response_due",
        "resolution_due",
        "first_responded_at",
        "resolved_at",
        "created_at",
        "last_message_at",
        "last_inbound_at",
    )
    inlines = [ConversationMessageInline, InternalNoteInline]
    actions = ["resolve", "reopen", "assign_to_me"]
    list_select_related = ("assignee", "team")

    def get_search_results(self, request, queryset, search_term):
        return conversations_search(queryset=queryset, text=search_term), False

    def save_formset(self, request, form, formset, change):
        for note in formset.save(commit=False):
            if isinstance(note, InternalNote) and note.author_id is None:
                note.author = request.user
            note.save()
        formset.save_m2m()

    @admin.action(description="Resolve selected conversations", permissions=["change"])
    def resolve(self, request, queryset):
        for conversation in queryset:
            conversation_status_set(conversation=conversation, status="resolved", actor=request.user)

    @admin.action(description="Reopen selected conversations", permissions=["change"])
    def reopen(self, request, queryset):
        for conversation in queryset:
            conversation_status_set(conversation=conversation, status="open", actor=request.user)

    @admin.action(description="Assign selected conversations to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        for conversation in queryset:
            conversation_assign(conversation=conversation, assignee=request.user, actor=request.user)


class ReviewForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 12, "cols": 70, "id": "draft-text"}), required=False)
    reason = forms.CharField(required=False, max_length=500)
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False)


@admin.register(ReplyDraft)
class ReplyDraftAdmin(admin.ModelAdmin):
    """The review queue: pending drafts by SLA due time; open one to review side by side."""

    list_display = (
        "review_link",
        "sla_due_at",
        "channel",
        "customer_message",
        "intent",
        "confidence",
        "sentiment",
        "draft_preview",
        "status",
        "assignee",
    )
    list_filter = ("status", "intent", "low_risk", "conversation__channel", "source")
    search_fields = ("text", "inbound__text", "conversation__participant")
    ordering = ("sla_due_at", "id")
    list_select_related = ("conversation__assignee", "inbound__classification")
    readonly_fields = (
        "conversation",
        "inbound",
        "message",
        "decided_by",
        "decided_at",
        "sent_text",
        "rejection_reason",
        "status",
        "source",
        "edited",
    )
    actions = ["approve_selected", "bulk_approve_low_risk"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("conversation__assignee", "inbound__classification")

    def changelist_view(self, request, extra_context=None):
        """The queue opens on pending drafts; other statuses stay one filter click away."""
        if not any(key.startswith("status") for key in request.GET) and "_changelist_filters" not in request.GET:
            query = request.GET.copy()
            query["status__exact"] = DraftStatus.PENDING
            request.GET = query
            request.META["QUERY_STRING"] = query.urlencode()
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path("<int:pk>/review/", self.admin_site.admin_view(self.review_view), name="inbox_replydraft_review"),
        ] + super().get_urls()

    @admin.display(description="Review")
    def review_link(self, draft):
        return format_html(
            '<a href="{}">Review #{}</a>', reverse("admin:inbox_replydraft_review", args=[draft.pk]), draft.pk
        )

    @admin.display(description="Channel")
    def channel(self, draft):
        return draft.conversation.channel

    @admin.display(description="Customer message")
    def customer_message(self, draft):
        return Truncator(draft.inbound.text).chars(120)

    @admin.display(description="Sentiment")
    def sentiment(self, draft):
        classification = getattr(draft.inbound, "classification", None)
        return f"{classification.sentiment_label} ({classification.sentiment_score:+.2f})" if classification else "—"

    @admin.display(description="Draft")
    def draft_preview(self, draft):
        return Truncator(draft.text).chars(120)

    @admin.display(description="Assignee")
    def assignee(self, draft):
        return draft.conversation.assignee

    def _can_approve(self, request) -> bool:
        return request.user.has_perm("inbox.approve_replydraft")

    @admin.action(description="Approve and send selected drafts", permissions=["approve"])
    def approve_selected(self, request, queryset):
        sent = 0
        for draft in queryset.filter(status=DraftStatus.PENDING).select_related("conversation", "inbound"):
            try:
                draft_send(draft=draft, actor=request.user)
                sent += 1
            except DraftError as exc:
                self.message_user(request, f"#{draft.pk}: {exc}", messages.WARNING)
        self.message_user(request, f"{sent} repl{'y' if sent == 1 else 'ies'} sent.")

    @admin.action(description="Bulk approve low-risk drafts", permissions=["approve"])
    def bulk_approve_low_risk(self, request, queryset):
        sent, skipped = drafts_bulk_approve(drafts=queryset.filter(status=DraftStatus.PENDING), actor=request.user)
        self.message_user(request, f"{sent} low-risk repl{'y' if sent == 1 else 'ies'} sent; {len(skipped)} skipped.")

    def has_approve_permission(self, request):
        return self._can_approve(request)

    def review_view(self, request, pk):
        draft = get_object_or_404(
            ReplyDraft.objects.select_related("conversation__contact", "conversation__assignee", "inbound"), pk=pk
        )
        if not self.has_view_permission(request, draft):
            raise PermissionDenied
        form = ReviewForm(
            request.POST or None, initial={"text": draft.text, "assignee": draft.conversation.assignee_id}
        )
        form.fields["assignee"].queryset = get_user_model().objects.filter(inbox_agent__isnull=False)
        if request.method == "POST" and form.is_valid():
            return self._decide(request, draft, form)
        conversation = draft.conversation
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review draft #{draft.pk}",
            "opts": self.model._meta,
            "draft": draft,
            "form": form,
            "conversation": conversation,
            "classification": getattr(draft.inbound, "classification", None),
            "entries": conversation.entries.select_related("inbound", "outbound", "author").order_by(
                "created_at", "id"
            ),
            "facts": contact_facts(conversation),
            "notes": conversation.notes.select_related("author"),
            "templates": self._rendered_templates(conversation),
            "can_approve": self._can_approve(request),
        }
        return TemplateResponse(request, "admin/inbox/replydraft/review.html", context)

    def _rendered_templates(self, conversation):
        rendered = []
        context = template_context(conversation=conversation, agent=conversation.assignee)
        for template in ResponseTemplate.objects.filter(is_approved=True, channel__in=["", conversation.channel]):
            try:
                rendered.append((template, template_render(source=template.body, context=context)))
            except TemplateError:
                continue
        return rendered

    def _decide(self, request, draft, form):
        back = redirect("admin:inbox_replydraft_changelist")
        try:
            if "_approve" in request.POST or "_send_edited" in request.POST:
                if not self._can_approve(request):
                    raise PermissionDenied
                text = form.cleaned_data["text"] if "_send_edited" in request.POST else None
                draft = draft_send(draft=draft, actor=request.user, text=text)
                self.message_user(request, f"Reply sent (status: {draft.get_status_display()}).")
            elif "_reject" in request.POST:
                draft_reject(draft=draft, actor=request.user, reason=form.cleaned_data["reason"])
                self.message_user(request, "Draft rejected.")
            elif "_reassign" in request.POST:
                conversation_assign(
                    conversation=draft.conversation, assignee=form.cleaned_data["assignee"], actor=request.user
                )
                self.message_user(request, "Conversation reassigned.")
                return redirect("admin:inbox_replydraft_review", draft.pk)
        except DraftError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return redirect("admin:inbox_replydraft_review", draft.pk)
        return back


@admin.register(AIClassification)
class AIClassificationAdmin(admin.ModelAdmin):
    list_display = (
        "inbound",
        "status",
        "intent",
        "confidence",
        "sentiment_label",
        "urgency",
        "language",
        "engine",
        "model",
        "prompt_version",
        "latency_ms",
        "created_at",
    )
    list_filter = ("status", "intent", "sentiment_label", "urgency", "engine", "language", "legal_risk")
    search_fields = ("inbound__text",)
    raw_id_fields = ("inbound",)


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "intent", "language", "is_approved", "updated_at")
    list_filter = ("channel", "intent", "language", "is_approved")
    search_fields = ("name", "body")


@admin.register(KnowledgeSnippet)
class KnowledgeSnippetAdmin(admin.ModelAdmin):
    list_display = ("title", "keywords", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("title", "body", "keywords")


@admin.register(AutoSendPolicy)
class AutoSendPolicyAdmin(admin.ModelAdmin):
    list_display = ("intent", "channel", "min_confidence", "enabled")
    list_filter = ("enabled", "channel", "intent")
    list_editable = ("min_confidence", "enabled")
    search_fields = ("intent",)


@admin.register(AutoSendSettings)
class AutoSendSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "enabled", "negative_sentiment_threshold", "minimum_confidence")
    list_filter = ("enabled",)
    search_fields = ()


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "team",
        "priority",
        "business_hours",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
    )
    list_filter = ("team", "priority")
    search_fields = ("name",)


@admin.register(SLAEvent)
class SLAEventAdmin(admin.ModelAdmin):
    list_display = ("conversation", "kind", "met", "auto", "due_at", "occurred_at")
    list_filter = ("kind", "met", "auto")
    search_fields = ("conversation__participant",)
    raw_id_fields = ("conversation",)


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone")
    search_fields = ("name",)
    list_filter = ("timezone",)


class AgentInline(admin.TabularInline):
    model = Agent
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "business_hours", "channels")
    search_fields = ("name",)
    list_filter = ("business_hours",)
    inlines = [AgentInline]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "capacity", "is_available")
    list_filter = ("team", "is_available")
    list_editable = ("capacity", "is_available")
    search_fields = ("user__username",)


@admin.register(Intent)
class IntentAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "needs_reply", "low_risk")
    list_filter = ("needs_reply", "low_risk")
    search_fields = ("code", "label")


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(ConversationMessage)
class ConversationMessageAdmin(admin.ModelAdmin):
    """The timeline of every conversation; auto-sent replies filter apart from human ones."""

    list_display = ("id", "conversation", "direction", "auto_sent", "author", "created_at")
    list_filter = ("direction", "auto_sent")
    search_fields = ("inbound__text", "outbound__text")
    raw_id_fields = ("conversation", "inbound", "outbound", "author")
    list_select_related = ("conversation", "author")


@admin.register(InternalNote)
class InternalNoteAdmin(admin.ModelAdmin):
    list_display = ("conversation", "author", "created_at")
    list_filter = ("created_at",)
    search_fields = ("text",)
    raw_id_fields = ("conversation", "author")
