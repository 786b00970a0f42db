from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from bestpractices import campaigns, selectors, services
from bestpractices.models import (
    BestPractice,
    CampaignChange,
    CampaignChangeStatus,
    DraftEditPattern,
    PatternRun,
    PracticeStatus,
    ProposedTest,
    Recommendation,
    RecommendationStatus,
)
from outreach.models import ChannelTemplate, OutreachCampaign

PREDICTED = ("delivered", "opened", "clicked", "replied", "converted", "unsubscribed")


def _percent(value) -> str:
    return "-" if value is None else f"{value:+.1%}"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the engine: browsable, not hand-editable."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PatternRun)
class PatternRunAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "n_sends", "since", "until"]
    list_filter = ["created_at"]
    search_fields = ["id"]
    readonly_fields = ["created_at", "since", "until", "n_sends", "method", "outcomes"]
    exclude = ["model"]


@admin.register(BestPractice)
class BestPracticeAdmin(admin.ModelAdmin):
    list_display = ["feature", "value", "outcome", "lift_shown", "interval", "n", "significant", "status", "version"]
    list_filter = ["status", "is_current", "significant", "outcome", "feature"]
    search_fields = ["feature", "value", "outcome", "status_reason"]
    readonly_fields = [
        "feature", "value", "baseline", "outcome", "version", "is_current", "status", "status_reason", "lift",
        "ci_low", "ci_high", "n", "significant", "p_value", "evidence", "run", "experiment", "created_at",
    ]  # fmt: skip
    actions = ["retire"]

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("run", "experiment")

    @admin.display(description="lift", ordering="lift")
    def lift_shown(self, obj):
        return _percent(obj.lift)

    @admin.display(description="interval")
    def interval(self, obj):
        return f"[{_percent(obj.ci_low)}, {_percent(obj.ci_high)}] vs {obj.baseline}"

    @admin.action(description="Retire (no longer recommended)", permissions=["change"])
    def retire(self, request, queryset):
        for practice in queryset.exclude(status=PracticeStatus.RETIRED):
            services.practice_retire(practice=practice, reason=f"retired by {request.user}", actor=request.user)
        self.message_user(request, "Retired.", messages.SUCCESS)


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = [
        "title", "template", "campaign", "expected_lift_shown", "evidence", "status", "experiment", "test_button",
    ]  # fmt: skip
    list_filter = ["status", "practice__outcome", "practice__feature"]
    search_fields = ["title", "template__name", "campaign__name"]
    readonly_fields = [
        "practice",
        "template",
        "campaign",
        "title",
        "expected_lift",
        "change",
        "experiment",
        "created_at",
    ]
    actions = ["create_tests", "dismiss"]

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("practice", "template", "campaign", "experiment")

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.create_test_view))
        draft = self.admin_site.admin_view(require_POST(self.draft_change_view))
        return [
            path("<int:pk>/create-test/", view, name="bestpractices_recommendation_create_test"),
            path("<int:pk>/draft-change/", draft, name="bestpractices_recommendation_draft_change"),
            *super().get_urls(),
        ]

    @admin.display(description="expected lift", ordering="expected_lift")
    def expected_lift_shown(self, obj):
        return f"{_percent(obj.expected_lift)} on {obj.practice.outcome}"

    @admin.display(description="evidence")
    def evidence(self, obj):
        found = obj.practice.evidence or {}
        return f"{found.get('sends', 0)} sends, {found.get('campaigns', 0)} campaigns, {found.get('experiments', 0)} experiments"

    @admin.display(description="")
    def test_button(self, obj):
        # A button of the change list's own form (which carries the CSRF token), posting elsewhere.
        buttons = []
        if obj.can_test:
            url = reverse("admin:bestpractices_recommendation_create_test", args=[obj.pk])
            buttons.append(
                format_html('<button type="submit" formaction="{}" class="button">Create test</button>', url)
            )
        if obj.can_draft_change:
            url = reverse("admin:bestpractices_recommendation_draft_change", args=[obj.pk])
            buttons.append(
                format_html(
                    '<button type="submit" formaction="{}" class="button" title="Apply without a test, once '
                    'approved">Draft change</button>',
                    url,
                )
            )
        return format_html_join(" ", "{}", ((b,) for b in buttons)) if buttons else "-"

    def draft_change_view(self, request, pk):
        if not (self.has_change_permission(request) and request.user.has_perm("bestpractices.add_campaignchange")):
            raise PermissionDenied
        recommendation = get_object_or_404(Recommendation, pk=pk)
        try:
            change = campaigns.recommendation_draft_change(recommendation=recommendation, actor=request.user)
        except ValidationError as exc:
            self.message_user(request, f"{recommendation}: {'; '.join(exc.messages)}", messages.ERROR)
        else:
            link = reverse("admin:bestpractices_campaignchange_change", args=[change.pk])
            self.message_user(request, format_html('Draft <a href="{}">change</a> awaits approval.', link))
        return redirect("admin:bestpractices_recommendation_changelist")

    def _create(self, request, recommendation) -> bool:
        try:
            test = services.recommendation_create_test(recommendation=recommendation, actor=request.user)
        except ValidationError as exc:
            self.message_user(request, f"{recommendation}: {'; '.join(exc.messages)}", messages.ERROR)
            return False
        link = reverse("admin:abtesting_abtest_change", args=[test.pk])
        self.message_user(request, format_html('Draft experiment <a href="{}">{}</a> created.', link, test.key))
        return True

    def create_test_view(self, request, pk):
        if not (self.has_change_permission(request) and request.user.has_perm("abtesting.add_abtest")):
            raise PermissionDenied
        self._create(request, get_object_or_404(Recommendation, pk=pk))
        return redirect("admin:bestpractices_recommendation_changelist")

    @admin.action(description="Create a draft experiment for each", permissions=["change"])
    def create_tests(self, request, queryset):
        if not request.user.has_perm("abtesting.add_abtest"):
            raise PermissionDenied
        for recommendation in queryset.filter(status=RecommendationStatus.OPEN):
            self._create(request, recommendation)

    @admin.action(description="Dismiss", permissions=["change"])
    def dismiss(self, request, queryset):
        for recommendation in queryset.filter(status=RecommendationStatus.OPEN):
            services.recommendation_dismiss(recommendation=recommendation, actor=request.user)


@admin.register(ProposedTest)
class ProposedTestAdmin(admin.ModelAdmin):
    list_display = ["recommendation", "week", "audience", "surface", "reach", "uncertainty", "expected_value", "status"]
    list_filter = ["status", "week", "surface"]
    search_fields = ["recommendation__title", "audience"]
    readonly_fields = [
        "recommendation", "week", "surface", "audience", "reach", "uncertainty", "expected_value", "status",
        "decided_by", "decided_at", "created_at",
    ]  # fmt: skip
    actions = ["approve", "approve_and_start", "reject"]

    def has_add_permission(self, request):
        return False

    def _approve(self, request, queryset, *, start: bool):
        if not request.user.has_perm("abtesting.add_abtest"):
            raise PermissionDenied
        for proposal in queryset:
            try:
                services.proposal_approve(proposal=proposal, actor=request.user, start=start)
            except ValidationError as exc:
                self.message_user(request, f"{proposal}: {'; '.join(exc.messages)}", messages.ERROR)

    @admin.action(description="Approve (make the draft experiment)", permissions=["change"])
    def approve(self, request, queryset):
        self._approve(request, queryset, start=False)

    @admin.action(description="Approve and start", permissions=["change"])
    def approve_and_start(self, request, queryset):
        self._approve(request, queryset, start=True)

    @admin.action(description="Reject", permissions=["change"])
    def reject(self, request, queryset):
        for proposal in queryset.filter(status="proposed"):
            services.proposal_reject(proposal=proposal, actor=request.user)


@admin.register(CampaignChange)
class CampaignChangeAdmin(admin.ModelAdmin):
    list_display = ["recommendation", "campaign", "field", "before", "after", "status", "decided_by", "created_at"]
    list_filter = ["status", "field"]
    search_fields = ["recommendation__title", "campaign__name"]
    readonly_fields = [
        "recommendation", "campaign", "field", "before", "after", "status", "created_by", "decided_by",
        "decided_at", "created_at",
    ]  # fmt: skip
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recommendation", "campaign", "decided_by")

    @admin.action(description="Approve (apply to the campaign)", permissions=["change"])
    def approve(self, request, queryset):
        if not request.user.has_perm("outreach.change_outreachcampaign"):
            raise PermissionDenied
        for change in queryset.filter(status=CampaignChangeStatus.DRAFT):
            try:
                campaigns.campaign_change_approve(change=change, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{change}: {'; '.join(exc.messages)}", messages.ERROR)

    @admin.action(description="Reject", permissions=["change"])
    def reject(self, request, queryset):
        for change in queryset.filter(status=CampaignChangeStatus.DRAFT):
            campaigns.campaign_change_reject(change=change, actor=request.user)


@admin.register(DraftEditPattern)
class DraftEditPatternAdmin(ReadOnlyAdmin):
    list_display = ["intent", "channel", "language", "drafts", "edited", "rejected", "length_ratio", "wrong_language"]
    list_filter = ["channel", "language", "intent"]
    search_fields = ["intent"]
    readonly_fields = [
        "intent", "channel", "language", "drafts", "edited", "rejected", "length_ratio", "suggested_max_length",
        "wrong_language", "removed_phrases", "added_phrases", "notes", "updated_at",
    ]  # fmt: skip


def prediction_html(prediction: dict | None):
    if not prediction:
        return "No prediction yet: the best-practices engine has not learnt from sends (job bestpractices.learn)."
    return format_html_join(
        " · ", "{}: {}", ((o, f"{prediction[o]:.1%}") for o in PREDICTED if prediction.get(o) is not None)
    )


def recommendations_html(recommendations):
    if not recommendations:
        return "No recommendation: it already follows every significant practice that applies."
    url = reverse("admin:bestpractices_recommendation_changelist")
    return format_html(
        '<ul>{}</ul><a href="{}?status__exact=open">Test them</a>',
        format_html_join(
            "",
            "<li>{} (evidence: {} sends)</li>",
            ((r.title, r.practice.evidence.get("sends", 0)) for r in recommendations),
        ),
        url,
    )


class BestPracticesPanel:
    """Adds 'Predicted performance' and 'Recommendations' to an admin change page of the app
    below (outreach) without that app knowing about this one: the registered admin is subclassed."""

    panel_fields = ("predicted_performance", "best_practice_recommendations")

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.panel_fields]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        fieldsets[0] = (fieldsets[0][0], {**fieldsets[0][1], "fields": [
            f for f in fieldsets[0][1]["fields"] if f not in self.panel_fields
        ]})  # fmt: skip
        return [*fieldsets, ("Best practices", {"fields": self.panel_fields})]


class TemplatePanel(BestPracticesPanel):
    @admin.display(description="Predicted performance")
    def predicted_performance(self, obj):
        return prediction_html(selectors.prediction_for_template(template=obj))

    @admin.display(description="Recommendations")
    def best_practice_recommendations(self, obj):
        return recommendations_html(selectors.recommendations_for(templates=[obj]))


def personalise_copy(modeladmin, request, queryset):
    """Admin action: after each campaign's copy experiment is rolled out, send every contact the
    arm predicted best for them (20 % holdout keeps the winner)."""
    for campaign in queryset.select_related("copy_test"):
        try:
            counts = services.campaign_personalise(campaign=campaign, holdout_percent=20, actor=request.user)
            modeladmin.message_user(
                request,
                f"{campaign}: {counts['personalised']} contacts get their predicted best copy, "
                f"{counts['holdout']} keep the winner (holdout).",
                messages.SUCCESS,
            )
        except ValidationError as exc:
            modeladmin.message_user(request, f"{campaign}: {'; '.join(exc.messages)}", messages.ERROR)


def _rate(group: dict) -> str:
    return "—" if group["rate"] is None else f"{group['rate']:.1%}"


personalise_copy.short_description = "Personalise copy after the experiment (predicted best arm per contact)"


class CampaignPanel(BestPracticesPanel):
    panel_fields = (*BestPracticesPanel.panel_fields, "personalised_copy")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request.user.has_perm("outreach.operate_outreachcampaign"):
            actions["personalise_copy"] = (personalise_copy, "personalise_copy", personalise_copy.short_description)
        return actions

    @admin.display(description="Personalised copy")
    def personalised_copy(self, obj):
        if not obj.copy_personalised:
            return "Off: after a copy experiment's rollout, use the action “Personalise copy”."
        result = services.campaign_personalised_result(campaign=obj)
        mine, holdout = result["personalised"], result["holdout"]
        lift = (
            f", lift {result['lift']:+.1%} [{result['ci_low']:+.1%}, {result['ci_high']:+.1%}]"
            if "lift" in result
            else ""
        )
        return (
            f"Clicks: personalised {_rate(mine)} of {mine['n']}, holdout (single winner) {_rate(holdout)} "
            f"of {holdout['n']}{lift}"
        )

    @admin.display(description="Predicted performance")
    def predicted_performance(self, obj):
        by_template = selectors.prediction_for_campaign(campaign=obj)
        if not by_template:
            return "No templates in this campaign yet."
        return format_html_join(
            "", "<p><b>{}</b>: {}</p>", ((name, prediction_html(p)) for name, p in by_template.items())
        )

    @admin.display(description="Recommendations")
    def best_practice_recommendations(self, obj):
        templates = ChannelTemplate.objects.filter(steps__campaign=obj).distinct()
        return recommendations_html(selectors.recommendations_for(templates=templates, campaign=obj))


def _extend(model, panel) -> None:
    registered = admin.site._registry.get(model)
    if registered is None or isinstance(registered, panel):
        return
    extended = type(f"{type(registered).__name__}WithBestPractices", (panel, type(registered)), {})
    admin.site.unregister(model)
    admin.site.register(model, extended)


_extend(ChannelTemplate, TemplatePanel)
_extend(OutreachCampaign, CampaignPanel)
