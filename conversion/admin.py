from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html

from conversion import charts, selectors, services
from conversion.models import (
    AttributionCredit,
    AttributionModel,
    ChannelCost,
    ChannelPerformance,
    ConversionEvent,
    ConversionRule,
    ConversionSource,
    ConversionType,
    CustomerTouchpoint,
    JourneyTouch,
)
from madansara.contacts.models import Contact
from madansara.money import money_column, money_format


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services: viewable, not editable by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ConversionType)
class ConversionTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "lookback_days", "default_value_money", "is_active"]
    default_value_money = money_column("default_value", description="default value")
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


@admin.register(ConversionRule)
class ConversionRuleAdmin(admin.ModelAdmin):
    list_display = ["event_name", "conversion_type", "site", "value_property", "id_property", "is_active"]
    list_filter = ["is_active", "conversion_type"]
    search_fields = ["event_name"]
    raw_id_fields = ["site"]


class JourneyInline(admin.TabularInline):
    model = JourneyTouch
    fields = ["position", "channel", "campaign", "occurred_at", "age_days"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class CreditInline(admin.TabularInline):
    model = AttributionCredit
    fields = ["model", "channel", "campaign", "conversions", "revenue"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ConversionEvent)
class ConversionEventAdmin(admin.ModelAdmin):
    list_display = ["external_id", "conversion_type", "value_money", "contact_link", "occurred_at", "source"]
    value_money = money_column("value", description="value", currency_field="currency")
    list_filter = ["conversion_type", "source", "currency", "occurred_at"]
    search_fields = ["external_id", "visitor_id", "contact__name", "contact__external_id"]
    date_hierarchy = "occurred_at"
    raw_id_fields = ["contact"]
    list_select_related = ["conversion_type", "contact"]
    inlines = [JourneyInline, CreditInline]
    actions = ["rebuild_attribution"]
    fields = ["external_id", "conversion_type", "value", "currency", "contact", "visitor_id", "occurred_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.fields, "source", "recorded_at", "attributed_at"] if obj else []

    def get_fields(self, request, obj=None):
        return [*self.fields, "source", "recorded_at", "attributed_at"] if obj else self.fields

    @admin.display(description="contact")
    def contact_link(self, obj):
        if not obj.contact_id:
            return obj.visitor_id or "—"
        url = reverse("admin:conversion_contact_journey", args=[obj.contact_id])
        return format_html('<a href="{}">{} (journey)</a>', url, obj.contact)

    def save_model(self, request, obj, form, change):
        if change:
            return
        conversion, _ = services.conversion_record(
            external_id=obj.external_id,
            type=obj.conversion_type.code,
            value=obj.value,
            currency=obj.currency,
            contact_id=obj.contact_id,
            visitor_id=obj.visitor_id,
            occurred_at=obj.occurred_at,
            source=ConversionSource.ADMIN,
        )
        obj.pk = conversion.pk

    @admin.action(description="Rebuild journey and attribution", permissions=["change"])
    def rebuild_attribution(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        credits = services.conversions_attribute(conversion_ids=ids)
        for day in {c.astimezone(timezone.UTC).date() for c in queryset.values_list("occurred_at", flat=True)}:
            services.channel_performance_refresh(day=day)
        self.message_user(request, f"{len(ids)} conversions attributed ({credits} credit rows).", messages.SUCCESS)

    def get_urls(self):
        view = self.admin_site.admin_view(self.contact_journey_view)
        return [path("journey/<int:contact_id>/", view, name="conversion_contact_journey"), *super().get_urls()]

    def contact_journey_view(self, request, contact_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        contact = get_object_or_404(Contact, pk=contact_id)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Journey of {contact}",
            "contact": contact,
            "journey": selectors.contact_journey(contact_id=contact.pk),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/conversion/journey.html", context)


@admin.register(CustomerTouchpoint)
class CustomerTouchpointAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "channel", "kind", "campaign", "contact", "visitor_id", "source"]
    list_filter = ["channel", "kind", "source"]
    search_fields = ["campaign", "visitor_id", "source_key", "contact__name"]
    date_hierarchy = "occurred_at"
    list_select_related = ["contact"]


@admin.register(JourneyTouch)
class JourneyTouchAdmin(ReadOnlyAdmin):
    list_display = ["conversion", "position", "channel", "campaign", "occurred_at", "age_days"]
    list_filter = ["channel"]
    search_fields = ["conversion__external_id", "campaign"]
    list_select_related = ["conversion"]


@admin.register(AttributionCredit)
class AttributionCreditAdmin(ReadOnlyAdmin):
    list_display = ["conversion", "model", "channel", "campaign", "day", "conversions", "revenue_money"]
    revenue_money = money_column("revenue", description="revenue")
    list_filter = ["model", "channel", "day"]
    search_fields = ["conversion__external_id", "campaign"]
    list_select_related = ["conversion"]


@admin.register(ChannelCost)
class ChannelCostAdmin(admin.ModelAdmin):
    list_display = ["day", "channel", "campaign", "amount_money", "note"]
    amount_money = money_column("amount", description="amount", currency_field="currency")
    list_filter = ["channel", "day"]
    search_fields = ["campaign", "note"]
    date_hierarchy = "day"


@admin.register(ChannelPerformance)
class ChannelPerformanceAdmin(ReadOnlyAdmin):
    list_display = ["day", "channel", "campaign", "sent", "delivered", "engaged", "replies", "sessions",
                    "cost_money", "markov_conversions", "markov_roi"]  # fmt: skip
    cost_money = money_column("cost", description="cost")
    list_filter = ["channel", "day"]
    search_fields = ["campaign"]
    date_hierarchy = "day"
    actions = ["refresh_days"]
    change_list_template = "admin/conversion/channelperformance_change_list.html"

    @admin.display(description="conv. (Markov)")
    def markov_conversions(self, obj):
        return f"{obj.conversions_under(AttributionModel.MARKOV):.2f}"

    @admin.display(description="ROI (Markov)")
    def markov_roi(self, obj):
        roi = obj.roi(AttributionModel.MARKOV)
        return "—" if roi is None else f"{roi:.2%}"

    def has_refresh_permission(self, request):
        return request.user.has_perm("conversion.change_channelperformance")

    @admin.action(description="Refresh these days", permissions=["refresh"])
    def refresh_days(self, request, queryset):
        days = sorted(set(queryset.values_list("day", flat=True)))
        for day in days:
            services.channel_performance_refresh(day=day)
        self.message_user(request, f"{len(days)} days refreshed.", messages.SUCCESS)

    def get_urls(self):
        view = self.admin_site.admin_view(self.attribution_view)
        return [path("attribution/", view, name="conversion_attribution"), *super().get_urls()]

    def attribution_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.now().date()
        until = parse_date(request.GET.get("until", "")) or today
        since = parse_date(request.GET.get("since", "")) or until - timedelta(days=29)
        by = "value" if request.GET.get("by") == "value" else "conversions"
        model = request.GET.get("model") if request.GET.get("model") in AttributionModel.values else "markov"
        table = selectors.attribution_comparison(since=since, until=until, by=by)
        shown = money_format if by == "value" else "{:,.2f}".format
        series = selectors.performance_series(since=since, until=until, model=model)
        roi: dict[str, list] = {}
        for item in series:
            if item["roi"] is not None:
                roi.setdefault(item["channel"], []).append((item["day"].isoformat(), float(item["roi"])))
        per_day: dict[str, dict[str, float]] = {}
        for row in selectors.conversion_stats(since=since, until=until):
            day = row["period"].isoformat()[:10]
            per_day.setdefault(row["conversion_type__code"], {}).setdefault(day, 0.0)
            per_day[row["conversion_type__code"]][day] += row["conversions"]
        context = {
            **self.admin_site.each_context(request),
            "title": "Conversions and attribution across models",
            "conversions_chart": charts.lines({code: sorted(days.items()) for code, days in per_day.items()}),
            "opts": self.model._meta,
            "since": since,
            "until": until,
            "by": by,
            "model": model,
            "models": AttributionModel.choices,
            "table": table,
            "rows": [
                (channel, [shown(values[m]) for m in table["models"]]) for channel, values in table["channels"].items()
            ],
            "totals": [shown(table["totals"][m]) for m in table["models"]],
            "bar_chart": charts.grouped_bars(table["channels"], table["models"]),
            "roi_chart": charts.lines(roi),
        }
        return TemplateResponse(request, "admin/conversion/attribution.html", context)
