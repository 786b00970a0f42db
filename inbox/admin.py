"""The inbox in the Django admin, with the human-in-the-loop review console for drafts."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from inbox.classifier import strip_quoted
from inbox.models import (
    Agent,
    AIClassification,
    AutoSendPolicy,
    AutoSendSettings,
    BusinessHours,
    Conversation,
    ConversationMessage,
    ConversationStatus,
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
from inbox.selectors import contact_panorama, conversations_search, draft_neighbours, drafts_review_queue, sla_q
from inbox.services.assignment import conversation_assign
from inbox.services.conversations import conversation_status_set, note_add
from inbox.services.drafts import (
    DraftError,
    contact_facts,
    conversation_reply,
    conversation_version_token,
    draft_regenerate,
    draft_reject,
    draft_send,
    draft_whatsapp_window_closed,
    drafts_bulk_approve,
    template_context,
)
from madansara.channels.chat import chat_thread_for
from madansara.choices import Channel
from madansara.forms import LinesListField, ReadableJSONMixin
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


def rendered_templates(conversation) -> list:
    """[(template, text)]: the approved response templates for the channel, filled for the contact."""
    rendered = []
    context = template_context(conversation=conversation, agent=conversation.assignee)
    for template in ResponseTemplate.objects.filter(is_approved=True, channel__in=["", conversation.channel]):
        try:
            rendered.append((template, template_render(source=template.body, context=context)))
        except TemplateError:
            continue
    return rendered


class ThreadForm(forms.Form):
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6, "id": "reply-text"}))
    version = forms.CharField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(required=False, max_length=5000, widget=forms.TextInput(attrs={"id": "note-text"}))
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False)
    snooze_hours = forms.TypedChoiceField(
        coerce=int, choices=[(1, "1 hour"), (4, "4 hours"), (24, "1 day"), (72, "3 days")], initial=4
    )


# Each button of the conversation page and the permission it needs.
THREAD_ACTIONS = {
    "_reply": "inbox.approve_replydraft",
    "_note": "inbox.change_conversation",
    "_assign": "inbox.change_conversation",
    "_resolve": "inbox.change_conversation",
    "_reopen": "inbox.change_conversation",
    "_snooze": "inbox.change_conversation",
}


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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The conversation as a thread with a reply box and its actions; `?_edit=1` opens the
        model form (labels, priority, team) for those who may change conversations."""
        if "_edit" in request.GET:
            return super().change_view(request, object_id, form_url, extra_context)
        if not self.has_view_permission(request):
            raise PermissionDenied
        action = next((name for name in THREAD_ACTIONS if name in request.POST), None)
        if request.method == "POST" and (action is None or not request.user.has_perm(THREAD_ACTIONS[action])):
            raise PermissionDenied
        conversation = self.get_object(request, object_id)
        if conversation is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = ThreadForm(
            request.POST or None,
            initial={"assignee": conversation.assignee_id, "version": conversation_version_token(conversation)},
        )
        form.fields["assignee"].queryset = get_user_model().objects.filter(inbox_agent__isnull=False)
        if request.method == "POST" and form.is_valid():
            done = self._thread_act(request, conversation, form, action)
            if done:
                return redirect("admin:inbox_conversation_change", conversation.pk)
            conversation.refresh_from_db()
            data = request.POST.copy()
            data["version"] = conversation_version_token(conversation)
            form = ThreadForm(data)
            form.fields["assignee"].queryset = get_user_model().objects.filter(inbox_agent__isnull=False)
            form.is_valid()
        pending = conversation.drafts.filter(status=DraftStatus.PENDING).order_by("-id").first()
        context = {
            **self.admin_site.each_context(request),
            "title": f"Conversation #{conversation.pk}",
            "opts": self.opts,
            "conversation": conversation,
            "form": form,
            "pending": pending,
            "entries": conversation.entries.select_related("inbound", "outbound", "author").order_by(
                "created_at", "id"
            ),
            "notes": conversation.notes.select_related("author"),
            "templates": rendered_templates(conversation),
            "panorama": contact_panorama(conversation=conversation),
            "sla_text": _countdown(conversation.response_due) if conversation.awaiting_reply else "answered",
            "can_reply": request.user.has_perm(THREAD_ACTIONS["_reply"]),
            "can_change": request.user.has_perm(THREAD_ACTIONS["_assign"]),
            "chat": chat_thread_for(conversation) if conversation.channel == Channel.CHAT else None,
        }
        return TemplateResponse(request, "admin/inbox/conversation/thread.html", context)

    def _thread_act(self, request, conversation, form, action) -> bool:
        data = form.cleaned_data
        try:
            if action == "_reply":
                draft = conversation_reply(
                    conversation=conversation, actor=request.user, text=data["text"], expected_version=data["version"]
                )
                self.message_user(request, f"Reply sent: {draft.get_status_display()}.")
            elif action == "_note":
                note_add(conversation=conversation, author=request.user, text=data["note"])
                self.message_user(request, "Note added.")
            elif action == "_assign":
                conversation_assign(conversation=conversation, assignee=data["assignee"], actor=request.user)
                self.message_user(request, f"Assigned to {data['assignee'] or 'nobody'}.")
            elif action == "_snooze":
                until = timezone.now() + timedelta(hours=data["snooze_hours"])
                conversation_status_set(
                    conversation=conversation,
                    status=ConversationStatus.SNOOZED,
                    snoozed_until=until,
                    actor=request.user,
                )
                self.message_user(request, f"Snoozed until {until:%a %d %b %H:%M} UTC.")
            else:
                status = ConversationStatus.RESOLVED if action == "_resolve" else ConversationStatus.OPEN
                conversation_status_set(conversation=conversation, status=status, actor=request.user)
                self.message_user(request, f"Conversation {status.label.lower()}.")
        except PermissionError as exc:
            raise PermissionDenied(str(exc)) from exc
        except (DraftError, ValueError) as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return False
        return True

    @admin.action(description="Resolve selected conversations", permissions=["change"])
    def resolve(self, request, queryset):
        for conversation in queryset:
            conversation_status_set(conversation=conversation, status=ConversationStatus.RESOLVED, actor=request.user)

    @admin.action(description="Reopen selected conversations", permissions=["change"])
    def reopen(self, request, queryset):
        for conversation in queryset:
            conversation_status_set(conversation=conversation, status=ConversationStatus.OPEN, actor=request.user)

    @admin.action(description="Assign selected conversations to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        for conversation in queryset:
            conversation_assign(conversation=conversation, assignee=request.user, actor=request.user)


class ReviewForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 12, "id": "draft-text"}), required=False)
    version = forms.CharField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(required=False, max_length=500, widget=forms.TextInput(attrs={"id": "reject-reason"}))
    instruction = forms.CharField(
        required=False, max_length=500, widget=forms.TextInput(attrs={"id": "regenerate-instruction"})
    )
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False)


# Each button of the review page and the permission it needs (checked before anything is done).
REVIEW_ACTIONS = {
    "_send": "inbox.approve_replydraft",
    "_reject": "inbox.change_replydraft",
    "_regenerate": "inbox.change_replydraft",
    "_reassign": "inbox.change_conversation",
}
RISK_BADGES = (
    ("flag_legal", "legal", "Legal risk"),
    ("flag_urgent", "urgent", "Urgent"),
    ("flag_negative", "negative", "Negative"),
    ("flag_vip", "vip", "VIP"),
)


def _countdown(due) -> str:
    """'in 1 h 20 min' / '35 min late' for an SLA due time."""
    if due is None:
        return "no SLA"
    minutes = int((due - timezone.now()).total_seconds() // 60)
    span = abs(minutes)
    text = f"{span // 60} h {span % 60:02d} min" if span >= 60 else f"{span} min"
    return f"in {text}" if minutes >= 0 else f"{text} late"


@admin.register(ReplyDraft)
class ReplyDraftAdmin(admin.ModelAdmin):
    """The review queue: pending drafts by priority, then SLA due time; open one to review it."""

    list_display = ("queue_item", "sla_countdown", "assignee")
    list_display_links = None
    list_filter = ("status", "intent", "low_risk", "conversation__channel", "source")
    search_fields = ("text", "inbound__text", "conversation__participant", "conversation__contact__name")
    list_per_page = 50
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
        drafts = (
            super()
            .get_queryset(request)
            .select_related("conversation__assignee", "conversation__contact", "inbound__classification")
        )
        return drafts_review_queue(queryset=drafts)

    def get_ordering(self, request):
        return [F("priority_rank").desc(), F("sla_due_at").asc(nulls_last=True), "id"]

    def changelist_view(self, request, extra_context=None):
        """The queue opens on pending drafts; other statuses stay one filter click away."""
        if not any(key.startswith("status") for key in request.GET) and "_changelist_filters" not in request.GET:
            query = request.GET.copy()
            query["status__exact"] = DraftStatus.PENDING
            request.GET = query
            request.META["QUERY_STRING"] = query.urlencode()
        extra_context = {**(extra_context or {}), "title": "Review queue"}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path("<int:pk>/review/", self.admin_site.admin_view(self.review_view), name="inbox_replydraft_review"),
        ] + super().get_urls()

    @admin.display(description="Draft to review")
    def queue_item(self, draft):
        badges = format_html_join(
            "",
            '<span class="badge badge-{}">{}</span>',
            ((css, label) for attr, css, label in RISK_BADGES if getattr(draft, attr, 0)),
        )
        contact = draft.conversation.contact
        return format_html(
            '<a class="review-link" href="{}"><span class="q-head">{}<span class="badge badge-channel">{}</span>'
            '<strong>{}</strong> <span class="q-intent">{}</span></span>'
            '<span class="q-line q-msg">“{}”</span><span class="q-line q-draft">↳ {}</span></a>',
            reverse("admin:inbox_replydraft_review", args=[draft.pk]),
            badges,
            draft.conversation.get_channel_display(),
            (contact.name if contact else "") or draft.conversation.participant,
            draft.intent or "",
            Truncator(strip_quoted(draft.inbound.text)).chars(110),
            Truncator(draft.text).chars(110),
        )

    @admin.display(description="SLA", ordering="sla_due_at")
    def sla_countdown(self, draft):
        due = draft.sla_due_at
        late = due is not None and due <= timezone.now()
        return format_html('<span class="sla{}">{}</span>', " sla-late" if late else "", _countdown(due))

    @admin.display(description="Assignee")
    def assignee(self, draft):
        return draft.conversation.assignee or "—"

    def _skip_decided(self, request, queryset):
        """Name every selected draft that is no longer pending (decided since the page loaded, perhaps
        by someone else; the queue's pending filter hides those from `queryset`); returns how many."""
        selected = Q(pk__in=request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)) | Q(pk__in=queryset.values("pk"))
        decided = ReplyDraft.objects.filter(selected).exclude(status=DraftStatus.PENDING).order_by("pk")
        for draft in decided:
            self.message_user(
                request, f"#{draft.pk} skipped: already {draft.get_status_display().lower()}.", messages.WARNING
            )
        return len(decided)

    @admin.action(description="Approve and send selected drafts", permissions=["approve"])
    def approve_selected(self, request, queryset):
        self._skip_decided(request, queryset)
        sent = 0
        for draft in queryset.filter(status=DraftStatus.PENDING).select_related("conversation", "inbound"):
            try:
                draft_send(draft=draft, actor=request.user)
                sent += 1
            except (DraftError, PermissionError) as exc:
                self.message_user(request, f"#{draft.pk} skipped: {exc}", messages.WARNING)
        self.message_user(request, f"{sent} repl{'y' if sent == 1 else 'ies'} sent.")

    @admin.action(description="Bulk approve low-risk drafts", permissions=["approve"])
    def bulk_approve_low_risk(self, request, queryset):
        decided = self._skip_decided(request, queryset)
        sent, skipped = drafts_bulk_approve(drafts=queryset.filter(status=DraftStatus.PENDING), actor=request.user)
        for reason in skipped:
            self.message_user(request, f"Skipped {reason}", messages.WARNING)
        self.message_user(
            request, f"{sent} low-risk repl{'y' if sent == 1 else 'ies'} sent; {len(skipped) + decided} skipped."
        )

    def has_add_permission(self, request):
        return False  # drafts come from the composer or a reply on the conversation page

    def has_approve_permission(self, request):
        return request.user.has_perm("inbox.approve_replydraft")

    def review_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        action = next((name for name in REVIEW_ACTIONS if name in request.POST), None)
        if request.method == "POST":
            if action is None:
                return HttpResponseBadRequest("Unknown action.")
            if not request.user.has_perm(REVIEW_ACTIONS[action]):
                raise PermissionDenied
        draft = get_object_or_404(
            ReplyDraft.objects.select_related(
                "conversation__contact", "conversation__assignee", "inbound__classification"
            ),
            pk=pk,
        )
        form = ReviewForm(
            request.POST or None,
            initial={"text": draft.text, "assignee": draft.conversation.assignee_id, "version": draft.version_token()},
        )
        form.fields["assignee"].queryset = get_user_model().objects.filter(inbox_agent__isnull=False)
        if request.method == "POST" and form.is_valid():
            response = self._decide(request, draft, form, action)
            if response is not None:
                return response
            draft.refresh_from_db()
            draft.conversation.refresh_from_db()
            # Refused: show the current state, keep the reviewer's text, with the new token.
            data = request.POST.copy()
            data["version"] = draft.version_token()
            form = ReviewForm(data)
            form.fields["assignee"].queryset = get_user_model().objects.filter(inbox_agent__isnull=False)
            form.is_valid()
        return TemplateResponse(
            request, "admin/inbox/replydraft/review.html", self._review_context(request, draft, form)
        )

    def _review_context(self, request, draft, form):
        conversation = draft.conversation
        classification = getattr(draft.inbound, "classification", None)
        flagged = drafts_review_queue(queryset=ReplyDraft.objects.filter(pk=draft.pk)).first()
        prev_id, next_id = draft_neighbours(draft=draft)
        panorama = contact_panorama(conversation=conversation)
        flags = [(css, label) for attr, css, label in RISK_BADGES if getattr(flagged, attr, 0)]
        if classification is not None and classification.status == "needs_human":
            flags.append(("legal", "Needs a human: " + (classification.error or "classifier unsure")))
        if classification is not None and classification.confidence < 0.6:
            flags.append(("negative", f"Low confidence ({classification.confidence:.2f})"))
        if conversation.channel == "whatsapp" and draft_whatsapp_window_closed(conversation):
            flags.append(("urgent", "WhatsApp 24 h window closed: a template is needed"))
        unsubscribed = [c.channel for c in panorama["consents"] if c.is_unsubscribed]
        if unsubscribed:
            flags.append(("negative", "Unsubscribed on " + ", ".join(unsubscribed)))
        return {
            **self.admin_site.each_context(request),
            "title": f"Review draft #{draft.pk}",
            "opts": self.model._meta,
            "draft": draft,
            "form": form,
            "conversation": conversation,
            "classification": classification,
            "flags": flags,
            "sla_text": _countdown(draft.sla_due_at),
            "contact_language": (conversation.contact.locale if conversation.contact else "") or "unknown",
            "draft_language": draft.language or (classification.language if classification else "") or "unknown",
            "entries": conversation.entries.select_related("inbound", "outbound", "author").order_by(
                "created_at", "id"
            ),
            "facts": contact_facts(conversation),
            "notes": conversation.notes.select_related("author"),
            "templates": rendered_templates(conversation),
            "snippets": KnowledgeSnippet.objects.filter(is_active=True).order_by("language", "title"),
            "used_snippets": list(draft.snippets.all()),
            "panorama": panorama,
            "prev_id": prev_id,
            "next_id": next_id,
            "can_send": request.user.has_perm(REVIEW_ACTIONS["_send"]),
            "can_change": request.user.has_perm(REVIEW_ACTIONS["_reject"]),
            "can_reassign": request.user.has_perm(REVIEW_ACTIONS["_reassign"]),
        }

    def _next_page(self, draft, next_id):
        if next_id is not None:
            return redirect("admin:inbox_replydraft_review", next_id)
        return redirect("admin:inbox_replydraft_changelist")

    def _decide(self, request, draft, form, action):
        """Run one action; a redirect when done, None when refused (the page shows why)."""
        data = form.cleaned_data
        version = data["version"] or None
        if action != "_reassign" and not version:
            self.message_user(request, "The page is out of date: reload it and review again.", messages.ERROR)
            return None
        _, next_id = draft_neighbours(draft=draft)
        try:
            if action == "_send":
                draft = draft_send(draft=draft, actor=request.user, text=data["text"], expected_version=version)
                self.message_user(
                    request,
                    f"Reply #{draft.pk} sent{' (edited)' if draft.edited else ''}: {draft.get_status_display()}.",
                )
                return self._next_page(draft, next_id)
            if action == "_reject":
                draft_reject(draft=draft, actor=request.user, reason=data["reason"], expected_version=version)
                self.message_user(request, f"Draft #{draft.pk} rejected.")
                return self._next_page(draft, next_id)
            if action == "_regenerate":
                new = draft_regenerate(
                    draft=draft, actor=request.user, instruction=data["instruction"], expected_version=version
                )
                self.message_user(request, f"Draft regenerated ({new.source}).")
                return redirect("admin:inbox_replydraft_review", new.pk)
            conversation_assign(conversation=draft.conversation, assignee=data["assignee"], actor=request.user)
            self.message_user(request, "Conversation reassigned.")
            return redirect("admin:inbox_replydraft_review", draft.pk)
        except PermissionError as exc:
            raise PermissionDenied(str(exc)) from exc
        except DraftError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None


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
class BusinessHoursAdmin(ReadableJSONMixin, admin.ModelAdmin):
    readable_json = {"holidays": LinesListField}
    list_display = ("name", "timezone")
    search_fields = ("name",)
    list_filter = ("timezone",)


class AgentInline(admin.TabularInline):
    model = Agent
    extra = 0


@admin.register(Team)
class TeamAdmin(ReadableJSONMixin, admin.ModelAdmin):
    readable_json = {"channels": LinesListField}
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
