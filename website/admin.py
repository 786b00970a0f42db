from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from madansara.charts import line_chart
from madansara.forms import FunnelStepsField, LinesListField, ReadableJSONMixin
from website import charts, recommendations, selectors, services
from website.funnels import FunnelSpec, funnel_compute
from website.ingest.endpoint import snippet
from website.models import (
    PRECHAT_FIELDS,
    WIDGET_LANGUAGES,
    ChatWidget,
    FunnelAnalytics,
    FunnelDefinition,
    IngestSpoolReceipt,
    OptimizationRecommendation,
    Site,
    WebsiteEvent,
    WebsiteSession,
    WebsiteVisitor,
)

DASHBOARD_DAYS = 30
LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish", "ht": "Haitian Creole"}


class ChatWidgetForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        choices=[(code, LANGUAGE_NAMES[code]) for code in WIDGET_LANGUAGES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The widget speaks the visitor's browser language when offered here (first one otherwise).",
    )
    prechat_fields = forms.MultipleChoiceField(
        choices=[(name, name.capitalize()) for name in PRECHAT_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Asked (and required) before the first message.",
    )

    class Meta:
        model = ChatWidget
        fields = [
            "is_enabled",
            "title",
            "greeting",
            "away_message",
            "languages",
            "translations",
            "primary_colour",
            "text_colour",
            "position",
            "timezone",
            "business_hours",
            "prechat_fields",
            "ask_csat",
        ]
        widgets = {
            "primary_colour": forms.TextInput(attrs={"type": "color"}),
            "text_colour": forms.TextInput(attrs={"type": "color"}),
            "greeting": forms.Textarea(attrs={"rows": 2}),
            "away_message": forms.Textarea(attrs={"rows": 2}),
        }


class ChatWidgetInline(admin.StackedInline):
    """The site's chat widget: look, greeting, business hours, pre-chat fields, languages."""

    model = ChatWidget
    form = ChatWidgetForm
    extra = 0
    max_num = 1
    verbose_name = "website chat"
    verbose_name_plural = "website chat"


@admin.register(Site)
class SiteAdmin(ReadableJSONMixin, admin.ModelAdmin):
    readable_json = {"allowed_origins": LinesListField}
    list_display = ["name", "domain", "public_key", "respect_dnt", "cookieless", "is_active", "dashboard_link"]
    list_filter = ["is_active", "respect_dnt", "cookieless"]
    search_fields = ["name", "domain", "public_key"]
    readonly_fields = ["public_key", "identity_secret", "tracking_snippet", "created_at"]
    actions = ["generate_recommendations", "rebuild_sessions"]
    inlines = [ChatWidgetInline]

    def get_fields(self, request, obj=None):
        """The identity secret signs identifies: only those who may change the site see it."""
        fields = super().get_fields(request, obj)
        if not self.has_change_permission(request, obj):
            fields = [field for field in fields if field != "identity_secret"]
        return fields

    @admin.display(description="Snippet for the site's pages")
    def tracking_snippet(self, site):
        if not site.pk:
            return "Save the site first."
        return format_html(
            '<textarea readonly rows="3" cols="100">{}</textarea>'
            '<p class="help">Paste into every page\'s &lt;head&gt;. Mark clicks with data-ms-event="name"; '
            "add data-autocapture to capture every button and link; data-chat shows the website chat.</p>",
            snippet(site, settings.PUBLIC_BASE_URL),
        )

    @admin.display(description="Dashboard")
    def dashboard_link(self, site):
        return format_html('<a href="{}">Charts</a>', reverse("admin:website_site_dashboard", args=[site.pk]))

    def get_urls(self):
        custom = [
            path(
                "<int:site_id>/dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name="website_site_dashboard",
            )
        ]
        return custom + super().get_urls()

    def dashboard_view(self, request, site_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        site = self.get_object(request, str(site_id))
        if site is None:
            raise Http404("No such site.")
        end = timezone.now()
        start = end - timedelta(days=DASHBOARD_DAYS)
        series = selectors.time_series(site_id=site.pk, start=start, end=end, interval="day")
        labels = [row["bucket"].strftime("%d %b") for row in series]
        trend = line_chart(
            labels=labels,
            series={name: [row[name] for row in series] for name in ("visitors", "sessions", "pageviews")},
            title="Trend chart",
            empty_text="No data in this range yet.",
        )
        funnels = [
            (funnel, charts.funnel_bars(funnel_compute(FunnelSpec.for_funnel(funnel, start=start, end=end)).steps))
            for funnel in site.funnels.filter(is_active=True)
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"{site.name}: last {DASHBOARD_DAYS} days",
            "site_obj": site,
            "trend": trend,
            "funnels": funnels,
            "pages": selectors.top_pages(site_id=site.pk, start=start, end=end, limit=10),
            "sources": selectors.top_sources(site_id=site.pk, start=start, end=end),
            "recommendations": site.recommendations.filter(status="open")[:5],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/website/dashboard.html", context)

    @admin.action(description="Generate optimisation recommendations (last 28 days)", permissions=["change"])
    def generate_recommendations(self, request, queryset):
        end = timezone.now()
        total = sum(
            len(recommendations.recommendations_generate(site_id=site.pk, start=end - timedelta(days=28), end=end))
            for site in queryset
        )
        self.message_user(request, f"{total} recommendations stored.")

    @admin.action(description="Rebuild sessions of the last 2 days", permissions=["change"])
    def rebuild_sessions(self, request, queryset):
        end = timezone.now()
        total = sum(
            services.sessions_rebuild(site_id=site.pk, start=end - timedelta(days=2), end=end) for site in queryset
        )
        self.message_user(request, f"{total} sessions rebuilt.")


@admin.register(WebsiteVisitor)
class WebsiteVisitorAdmin(admin.ModelAdmin):
    list_display = ["anonymous_id", "site", "contact", "sessions_count", "first_seen_at", "last_seen_at"]
    list_filter = ["site", ("contact", admin.EmptyFieldListFilter)]
    search_fields = ["anonymous_id", "contact__name", "contact__external_id"]
    list_select_related = ["site", "contact"]
    raw_id_fields = ["contact"]
    show_full_result_count = False


@admin.register(WebsiteSession)
class WebsiteSessionAdmin(admin.ModelAdmin):
    list_display = [
        "session_key", "site", "started_at", "duration_seconds", "pageviews", "entry_path", "exit_path",
        "traffic_class", "source", "campaign", "device", "customer_type", "is_returning",
    ]  # fmt: skip
    list_filter = ["site", "traffic_class", "device", "customer_type", "is_returning", "started_at"]
    search_fields = ["session_key", "entry_path", "campaign", "source"]
    list_select_related = ["site"]
    raw_id_fields = ["visitor", "contact"]
    date_hierarchy = "started_at"
    show_full_result_count = False


@admin.register(WebsiteEvent)
class WebsiteEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "name", "path", "visitor_id", "contact_id", "session_id", "device"]
    list_filter = ["site", "name", "device"]
    search_fields = ["visitor_id", "session_id", "path"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FunnelDefinition)
class FunnelDefinitionAdmin(ReadableJSONMixin, admin.ModelAdmin):
    readable_json = {"steps": FunnelStepsField}
    list_display = ["name", "site", "order_mode", "window_days", "step_count", "is_active"]
    list_filter = ["site", "order_mode", "is_active"]
    search_fields = ["name"]
    readonly_fields = ["funnel_chart"]
    actions = ["snapshot_yesterday"]

    @admin.display(description="Steps")
    def step_count(self, funnel):
        return len(funnel.steps or [])

    @admin.display(description=f"Last {DASHBOARD_DAYS} days")
    def funnel_chart(self, funnel):
        if not funnel.pk:
            return "Save the funnel to see its chart."
        end = timezone.now()
        result = funnel_compute(FunnelSpec.for_funnel(funnel, start=end - timedelta(days=DASHBOARD_DAYS), end=end))
        return charts.funnel_bars(result.steps)

    @admin.action(description="Snapshot yesterday's cohort now", permissions=["change"])
    def snapshot_yesterday(self, request, queryset):
        day = (timezone.now() - timedelta(days=1)).date()
        for funnel in queryset:
            services.funnel_snapshot(funnel=funnel, day=day)
        self.message_user(request, f"{queryset.count()} funnel snapshots stored for {day}.")


@admin.register(FunnelAnalytics)
class FunnelAnalyticsAdmin(admin.ModelAdmin):
    list_display = ["funnel", "day", "entered", "converted", "rate", "computed_at"]
    list_filter = ["funnel__site", "funnel", "day"]
    search_fields = ["funnel__name"]
    list_select_related = ["funnel"]
    readonly_fields = ["funnel", "day", "entered", "converted", "result", "computed_at", "chart"]
    date_hierarchy = "day"

    @admin.display(description="Conversion")
    def rate(self, snapshot):
        return f"{snapshot.conversion_rate:.1%}"

    @admin.display(description="Funnel")
    def chart(self, snapshot):
        return charts.funnel_bars(snapshot.result.get("steps", []))


@admin.register(OptimizationRecommendation)
class OptimizationRecommendationAdmin(admin.ModelAdmin):
    list_display = ["title", "site", "kind", "impact_score", "status", "experiment_ref", "updated_at"]
    list_filter = ["site", "kind", "status"]
    search_fields = ["title", "fingerprint"]
    list_select_related = ["site"]
    readonly_fields = ["evidence", "proposed_test", "experiment_ref", "fingerprint"]
    actions = ["create_tests", "dismiss"]

    @admin.action(description="Create the proposed A/B test (draft)", permissions=["change"])
    def create_tests(self, request, queryset):
        created = []
        for recommendation in queryset:
            try:
                created.append(
                    recommendations.recommendation_create_test(recommendation=recommendation, actor=request.user).key
                )
            except ValueError as exc:
                self.message_user(request, f"{recommendation}: {exc}", messages.WARNING)
        if created:
            self.message_user(request, f"Draft A/B tests created: {', '.join(created)}.")

    @admin.action(description="Dismiss", permissions=["change"])
    def dismiss(self, request, queryset):
        for recommendation in queryset:
            recommendations.recommendation_dismiss(recommendation=recommendation)
        self.message_user(request, f"{queryset.count()} dismissed.")


@admin.register(IngestSpoolReceipt)
class IngestSpoolReceiptAdmin(admin.ModelAdmin):
    list_display = ["batch_id", "events", "stored_at"]
    search_fields = ["batch_id"]
    date_hierarchy = "stored_at"
