"""Admin for marketers reviewing copy: newsletter drafts composed from a brief, variants with
the guards' findings, a per-contact preview, and approve / reject (services do the work)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from madansara.contacts.models import Contact
from outreach.models import ContentDraft, OutreachCampaign, TemplateVariant, VariantStatus
from outreach.services.composer import content_draft_compose
from outreach.services.content import ContentError
from outreach.services.copy import (
    content_draft_approve,
    content_draft_reject,
    variant_approve,
    variant_audience,
    variant_check,
    variant_preview,
    variant_reject,
    variant_update,
)

AUDIENCE_CHOICES = 30  # contacts offered in the preview's picker (any contact id can be typed)


def findings_html(checks: dict) -> str:
    """The guards' findings as a short list (errors first); '' when there are none."""
    checks = checks or {}
    items = [("error", e) for e in checks.get("errors", [])]
    items += [("warning", w) for w in checks.get("warnings", [])]
    if checks.get("claims"):
        items.append(("claim", "Not in the brief or sources — check: " + ", ".join(checks["claims"])))
    if checks.get("sms_segments"):
        items.append(("info", f"SMS: {checks['sms_segments']} segment(s)"))
    if not items:
        return format_html('<span class="copy-ok">No findings</span>')
    return format_html(
        '<ul class="copy-findings">{}</ul>',
        format_html_join("", '<li class="copy-{}">{}</li>', items),
    )


@admin.register(TemplateVariant)
class TemplateVariantAdmin(admin.ModelAdmin):
    list_display = ["summary", "template", "channel", "field", "status", "findings_count", "language", "source",
                    "approved_by", "preview_link"]  # fmt: skip
    list_filter = ["status", "field", "template__channel", "language", "source"]
    search_fields = ["content", "subject", "body", "template__name"]
    list_select_related = ["template", "approved_by"]
    raw_id_fields = ["template"]
    readonly_fields = ["status", "source", "draft", "approved_by", "approved_at", "review_note", "findings",
                       "preview_link"]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["template", "field", "status", "preview_link", "findings"]}),
        (
            "Copy",
            {
                "fields": [
                    "subject",
                    "preview",
                    "body",
                    "html",
                    "cta_label",
                    "cta_link",
                    "whatsapp_template",
                    "content",
                    "language",
                ]
            },
        ),  # fmt: skip
        ("Review", {"fields": ["source", "draft", "review_note", "approved_by", "approved_at"]}),
    ]
    actions = ["approve", "reject"]

    @admin.display(description="Copy")
    def summary(self, obj):
        return (obj.subject or obj.content or obj.body or obj.whatsapp_template)[:80]

    @admin.display(description="Channel", ordering="template__channel")
    def channel(self, obj):
        return obj.template.channel

    @admin.display(description="Findings")
    def findings_count(self, obj):
        checks = obj.checks or {}
        errors, notes = len(checks.get("errors", [])), len(checks.get("warnings", [])) + len(checks.get("claims", []))
        if errors:
            return format_html('<span class="copy-error">{} error(s)</span>', errors)
        return f"{notes} to check" if notes else "—"

    @admin.display(description="Findings")
    def findings(self, obj):
        return findings_html(obj.checks) if obj.pk else "—"

    @admin.display(description="Preview")
    def preview_link(self, obj):
        if obj.pk is None:
            return "—"
        return format_html('<a class="button" href="{}">Review per contact</a>', self._preview_url(obj))

    def _preview_url(self, obj):
        return reverse("admin:outreach_templatevariant_preview", args=[obj.pk])

    def save_model(self, request, obj, form, change):
        """New copy is checked; changed copy goes through the service (approved copy → draft)."""
        if not change:
            obj.source = obj.source or "person"
            super().save_model(request, obj, form, change)
            variant_check(variant=obj)
            return
        changed = {name: form.cleaned_data[name] for name in form.changed_data if name in TemplateVariant.COPY_FIELDS}
        rest = [name for name in form.changed_data if name not in TemplateVariant.COPY_FIELDS]
        if rest:
            TemplateVariant.objects.filter(pk=obj.pk).update(**{name: form.cleaned_data[name] for name in rest})
        current = TemplateVariant.objects.get(pk=obj.pk)
        variant_update(variant=current, actor=request.user, **changed)
        if current.status == VariantStatus.DRAFT and changed and obj.status == VariantStatus.APPROVED:
            self.message_user(request, "The copy changed: it needs approving again.", messages.WARNING)

    def _decide(self, request, queryset, service, verb):
        done = 0
        for variant in queryset.select_related("template", "draft"):
            try:
                service(variant=variant, actor=request.user)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{variant.key}: {'; '.join(exc.messages)}", messages.ERROR)
        if done:
            self.message_user(request, f"{verb} {done} variant(s).", messages.SUCCESS)

    @admin.action(description="Approve for sending", permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset.exclude(status=VariantStatus.APPROVED), variant_approve, "Approved")

    @admin.action(description="Reject (never sent; queued sends are withdrawn)", permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset.exclude(status=VariantStatus.REJECTED), variant_reject, "Rejected")

    def has_approve_permission(self, request):
        return request.user.has_perm("outreach.approve_templatevariant")

    def get_urls(self):
        view = self.admin_site.admin_view(self.preview_view)
        return [path("<int:pk>/preview/", view, name="outreach_templatevariant_preview"), *super().get_urls()]

    def preview_view(self, request, pk):
        """The variant as one contact would get it, the findings, and the decision buttons."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        variant = get_object_or_404(TemplateVariant.objects.select_related("template", "draft"), pk=pk)
        if request.method == "POST":
            return self._preview_decision(request, variant)
        audience = variant_audience(variant=variant)
        picked = request.GET.get("contact")
        contact = None
        if picked and picked.isdigit():
            contact = Contact.objects.filter(pk=int(picked)).first()
        contact = contact or audience.order_by("pk").first() or Contact.objects.order_by("pk").first()
        campaign = OutreachCampaign.objects.filter(steps__templates=variant.template).order_by("-pk").first()
        rendered, error = None, ""
        if contact is not None:
            try:
                rendered = variant_preview(variant=variant, contact=contact, campaign=campaign)
            except ContentError as exc:
                error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review variant {variant.key}",
            "opts": self.model._meta,
            "variant": variant,
            "findings": findings_html(variant.checks),
            "missing": (variant.checks or {}).get("missing") or {},
            "contact": contact,
            "choices": list(audience.order_by("pk")[:AUDIENCE_CHOICES]),
            "campaign": campaign,
            "rendered": rendered,
            "error": error,
            "can_decide": self.has_approve_permission(request),
            "change_url": reverse("admin:outreach_templatevariant_change", args=[variant.pk]),
        }
        return TemplateResponse(request, "admin/outreach/templatevariant/preview.html", context)

    def _preview_decision(self, request, variant):
        if not self.has_approve_permission(request):
            raise PermissionDenied
        note = request.POST.get("note", "")[:500]
        service = variant_approve if request.POST.get("decision") == "approve" else variant_reject
        try:
            service(variant=variant, actor=request.user, note=note)
            verb = "approved" if service is variant_approve else "rejected"
            self.message_user(request, f"Variant {variant.key} {verb}.", messages.SUCCESS)
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
        return redirect(self._preview_url(variant))


class DraftVariantInline(admin.TabularInline):
    model = TemplateVariant
    extra = 0
    can_delete = False
    fields = ["subject", "body_start", "status", "findings_count", "review"]
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Body")
    def body_start(self, obj):
        return obj.body[:120]

    @admin.display(description="Findings")
    def findings_count(self, obj):
        return TemplateVariantAdmin.findings_count(None, obj)

    @admin.display(description="Review")
    def review(self, obj):
        url = reverse("admin:outreach_templatevariant_preview", args=[obj.pk])
        return format_html('<a class="button" href="{}">Review per contact</a>', url)


class ComposeForm(forms.ModelForm):
    sources_text = forms.CharField(
        label="Sources",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 90}),
        help_text="Product updates, posts… one per block, blocks separated by a blank line: first line the "
        "title, then the text; a last line starting with http is its link (tracked).",
    )
    subject_count = forms.IntegerField(min_value=1, max_value=5, initial=3, label="Subject options")
    language = forms.ChoiceField(
        choices=[
            ("", "The segment's language"),
            ("en", "English"),
            ("fr", "French"),
            ("es", "Spanish"),
            ("ht", "Haitian Creole"),
        ],  # fmt: skip
        required=False,
    )

    class Meta:
        model = ContentDraft
        fields = ["brief", "template", "segment", "language"]

    def sources(self) -> list[dict]:
        blocks = [b.strip() for b in self.cleaned_data.get("sources_text", "").replace("\r", "").split("\n\n")]
        sources = []
        for block in filter(None, blocks):
            lines = block.splitlines()
            link = lines.pop() if len(lines) > 1 and lines[-1].strip().startswith("http") else ""
            sources.append({"title": lines[0], "text": "\n".join(lines[1:]), "link": link.strip()})
        return sources


@admin.register(ContentDraft)
class ContentDraftAdmin(admin.ModelAdmin):
    list_display = ["__str__", "template", "segment", "language", "source", "status", "created_by", "created_at"]
    list_filter = ["status", "language", "source", "template__channel"]
    search_fields = ["brief", "template__name"]
    list_select_related = ["template", "segment", "created_by"]
    raw_id_fields = ["template", "segment"]
    inlines = [DraftVariantInline]
    actions = ["approve", "reject"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ComposeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["brief", "template", "segment", "language", "subject_count", "sources_text"]
        return ["brief", "template", "segment", "language", "status", "source", "llm_error", "outline", "created_by"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return self.get_fields(request, obj)

    @admin.display(description="Draft")
    def outline(self, obj):
        structure = obj.structure or {}
        sections = format_html_join(
            "", "<li><strong>{}</strong> — {}</li>", ((s["heading"], s["body"]) for s in structure.get("sections", []))
        )
        return format_html(
            "<p><strong>Subject options:</strong> {}</p><p><strong>Preview:</strong> {}</p><ol>{}</ol>"
            "<p><strong>Call to action:</strong> {} → {}</p>",
            " | ".join(structure.get("subject_options", [])),
            structure.get("preview", ""),
            sections,
            (structure.get("cta") or {}).get("label", ""),
            (structure.get("cta") or {}).get("link", "") or "—",
        )

    def save_model(self, request, obj, form, change):
        """Adding composes the draft (LLM, or the local composer); drafts are not edited, variants are."""
        if change:
            return
        draft = content_draft_compose(
            brief=form.cleaned_data["brief"],
            template=form.cleaned_data["template"],
            segment=form.cleaned_data.get("segment"),
            sources=form.sources(),
            language=form.cleaned_data.get("language") or "",
            subject_count=form.cleaned_data["subject_count"],
            actor=request.user,
        )
        obj.pk = draft.pk
        obj.__dict__.update({k: v for k, v in draft.__dict__.items() if not k.startswith("_")})
        obj._state.adding = False
        if draft.llm_error:
            self.message_user(request, f"The LLM failed ({draft.llm_error}); composed locally.", messages.WARNING)

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def _decide(self, request, queryset, service, verb):
        for draft in queryset:
            try:
                service(draft=draft, actor=request.user)
                self.message_user(request, f"{verb}: {draft}", messages.SUCCESS)
            except ValidationError as exc:
                self.message_user(request, f"{draft}: {'; '.join(exc.messages)}", messages.ERROR)

    @admin.action(description="Approve (every variant without an error)", permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset, content_draft_approve, "Approved")

    @admin.action(description="Reject (with all its variants)", permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset, content_draft_reject, "Rejected")

    def has_approve_permission(self, request):
        return request.user.has_perm("outreach.approve_templatevariant")
