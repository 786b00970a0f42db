from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from abtesting import charts, selectors, services
from abtesting.models import (
    SRM_THRESHOLD,
    ABTest,
    ABTestDailyStat,
    ABTestDecision,
    ABTestExposure,
    ABTestSnapshot,
    ABTestStatus,
    ABTestUnitMetric,
    ABTestVariant,
)
from abtesting.tasks import test_results_refresh_task
from madansara.forms import KeyValueField, LinesListField, ReadableJSONMixin


class VariantInline(ReadableJSONMixin, admin.TabularInline):
    readable_json = {"content": KeyValueField}
    model = ABTestVariant
    extra = 0
    fields = ["key", "name", "is_control", "weight", "content"]


class DecisionInline(admin.TabularInline):
    model = ABTestDecision
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "actor_label", "automatic", "reason"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    max_num = 0
    verbose_name_plural = "Decision log"


def _run(modeladmin, request, queryset, service, done: str, **kwargs):
    ok = 0
    for test in queryset:
        try:
            service(test=test, actor=request.user, reason="admin action", **kwargs)
            ok += 1
        except ValidationError as exc:
            modeladmin.message_user(request, f"{test.key}: {' '.join(exc.messages)}", messages.ERROR)
    if ok:
        modeladmin.message_user(request, f"{ok} test(s) {done}.", messages.SUCCESS)


@admin.register(ABTest)
class ABTestAdmin(ReadableJSONMixin, admin.ModelAdmin):
    readable_json = dict.fromkeys(["secondary_metrics", "guardrail_metrics", "mean_metrics"], LinesListField)
    list_display = ["key", "name", "surface", "status", "mode", "primary_metric", "started_at", "winner", "srm"]
    list_filter = ["status", "surface", "mode", "auto_rollout", "rollout_hold"]
    search_fields = ["key", "name", "hypothesis"]
    readonly_fields = ["status", "winner", "started_at", "stopped_at", "rolled_out_at", "results_panel"]
    inlines = [VariantInline, DecisionInline]
    actions = ["start", "stop", "roll_out_leader", "revert_rollout", "hold", "release", "refresh"]
    fieldsets = [
        ("Results", {"fields": ["results_panel"]}),
        (None, {"fields": ["key", "name", "hypothesis", "surface", "status", "winner"]}),
        ("Metrics", {"fields": ["primary_metric", "secondary_metrics", "guardrail_metrics", "mean_metrics"]}),
        ("Targeting", {"fields": ["site", "segment", "url_pattern", "channel"]}),
        (
            "Analysis and rollout policy",
            {
                "fields": [
                    "mode",
                    "alpha",
                    "sequential_tuning",
                    "auto_rollout",
                    "rollout_hold",
                    "min_units_per_arm",
                    "min_runtime_days",
                    "started_at",
                    "stopped_at",
                    "rolled_out_at",
                ]  # fmt: skip
            },
        ),
    ]

    def get_queryset(self, request):
        latest = ABTestSnapshot.objects.filter(test=OuterRef("pk")).order_by("-computed_at", "-id")
        return (
            super()
            .get_queryset(request)
            .select_related("winner")
            .annotate(latest_srm=Subquery(latest.values("srm_p_value")[:1]))
        )

    def get_urls(self):
        extra = [
            path(
                "calculator/",
                self.admin_site.admin_view(self.calculator_view),
                name="abtesting_abtest_calculator",
            )
        ]
        return extra + super().get_urls()

    @admin.display(description="SRM")
    def srm(self, obj):
        p_value = getattr(obj, "latest_srm", None)
        return "⚠ mismatch" if obj.is_running and p_value is not None and p_value < SRM_THRESHOLD else ""

    @admin.display(description="Results")
    def results_panel(self, obj):
        if obj.pk is None:
            return "—"
        snapshot = selectors.latest_snapshot(test=obj)
        if snapshot is None:
            return "No results yet: they are computed on schedule (or use the “Refresh results” action)."
        parts = [format_html("<p>Computed {}.</p>", snapshot.computed_at.strftime("%Y-%m-%d %H:%M UTC"))]
        if snapshot.has_srm:
            parts.append(
                format_html(
                    '<p style="color:#b91c1c;font-weight:bold">⚠ Sample ratio mismatch: p = {} (&lt; {}). '
                    "Traffic split does not match the weights; do not trust these results.</p>",
                    f"{snapshot.srm_p_value:.2g}",
                    SRM_THRESHOLD,
                )
            )
        results = snapshot.results
        for metric, block in results.get("metrics", {}).items():
            parts.append(format_html("<h3>{}{}</h3>", metric, " (primary)" if metric == obj.primary_metric else ""))
            parts.append(self._table(block))
            rows = [
                {"label": key, "expected": e["sequential"]["expected"], "low": e["sequential"]["ci"][0],
                 "high": e["sequential"]["ci"][1]}
                for key, e in block["variants"].items()
                if "sequential" in e and e["sequential"]["ci"]
            ]  # fmt: skip
            parts.append(mark_safe(charts.interval_chart(rows)))  # noqa: S308 - built from numbers and escaped labels
        history = selectors.estimate_history(test=obj)
        chart = charts.history_chart(history)
        if chart:
            parts.append(format_html("<h3>{} over time (sequential estimate)</h3>", obj.primary_metric))
            parts.append(mark_safe(chart))  # noqa: S308 - see above
        return mark_safe("".join(str(p) for p in parts))  # noqa: S308 - every part is escaped

    @staticmethod
    def _table(block):
        def pct(value):
            return "—" if value is None else f"{value * 100:.2f}%"

        def row(key, r):
            seq, freq, bay = r.get("sequential") or {}, r.get("frequentist") or {}, r.get("bayesian") or {}
            ci = seq.get("ci") or [None, None]
            return (
                key,
                r["units"],
                r["conversions"],
                "—" if r["value"] is None else f"{r['value']:.4g}",
                pct(seq.get("expected")),
                f"[{pct(ci[0])}, {pct(ci[1])}]" if seq else "—",
                "—" if seq.get("p_value") is None else f"{seq['p_value']:.4f}",
                "—" if freq.get("p_value_adjusted") is None else f"{freq['p_value_adjusted']:.4f}",
                pct(bay.get("chance_to_win")),
                seq.get("error") or "",
            )

        body = format_html_join(
            "", "<tr>" + "<td>{}</td>" * 10 + "</tr>", (row(k, r) for k, r in block["variants"].items())
        )
        head = "".join(
            f"<th>{h}</th>"
            for h in ("Variant", "Units", "Converted", "Mean", "Lift", "Always-valid CI", "Seq. p",
                      "Holm p (fixed)", "Chance to win", "Note")
        )  # fmt: skip
        return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", mark_safe(head), body)  # noqa: S308

    def calculator_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = CalculatorForm(request.GET or None)
        plan = None
        if form.is_valid():
            try:
                plan = selectors.sample_size_plan(**form.cleaned_data)
            except ValueError as exc:
                form.add_error(None, str(exc))
        context = {**self.admin_site.each_context(request), "title": "Sample size / MDE calculator", "form": form,
                   "plan": plan, "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "admin/abtesting/calculator.html", context)

    @admin.action(description="Start (or resume) selected tests", permissions=["change"])
    def start(self, request, queryset):
        _run(self, request, queryset.prefetch_related("variants"), services.abtest_start, "started")

    @admin.action(description="Stop selected tests", permissions=["change"])
    def stop(self, request, queryset):
        _run(self, request, queryset, services.abtest_stop, "stopped")

    @admin.action(description="Roll out the leading variant (override the policy)", permissions=["change"])
    def roll_out_leader(self, request, queryset):
        for test in queryset:
            leader = _leader(test)
            if leader is None:
                self.message_user(request, f"{test.key}: no results to pick a leader from.", messages.ERROR)
                continue
            _run(self, request, [test], services.abtest_roll_out, f"rolled out ({leader.key})", variant=leader)

    @admin.action(description="Revert rollout (back to running, hold automatic rollout)", permissions=["change"])
    def revert_rollout(self, request, queryset):
        _run(self, request, queryset, services.abtest_revert_rollout, "reverted")

    @admin.action(description="Hold automatic rollout", permissions=["change"])
    def hold(self, request, queryset):
        _run(self, request, queryset, services.abtest_set_hold, "held", hold=True)

    @admin.action(description="Release automatic rollout", permissions=["change"])
    def release(self, request, queryset):
        _run(self, request, queryset, services.abtest_set_hold, "released", hold=False)

    @admin.action(description="Refresh results now", permissions=["change"])
    def refresh(self, request, queryset):
        ids = list(queryset.filter(status=ABTestStatus.RUNNING).values_list("id", flat=True))
        for test_id in ids:
            transaction.on_commit(lambda test_id=test_id: test_results_refresh_task.delay(test_id))
        self.message_user(request, f"Refresh queued for {len(ids)} running test(s).", messages.SUCCESS)


def _leader(test: ABTest) -> ABTestVariant | None:
    snapshot = selectors.latest_snapshot(test=test)
    if snapshot is None:
        return None
    block = snapshot.results.get("metrics", {}).get(test.primary_metric, {}).get("variants", {})
    best, best_lift = None, 0.0
    for key, r in block.items():
        lift = (r.get("sequential") or {}).get("expected")
        if lift is not None and lift > best_lift:
            best, best_lift = key, lift
    if best is None:
        return test.variants.filter(is_control=True).first()
    return test.variants.filter(key=best).first()


class CalculatorForm(forms.Form):
    baseline = forms.FloatField(min_value=0.0001, max_value=0.9999, help_text="Baseline conversion rate, e.g. 0.05")
    mde = forms.FloatField(required=False, label="Relative MDE", help_text="e.g. 0.1 for +10% (leave empty to get it)")
    n = forms.IntegerField(required=False, min_value=2, label="Units per arm", help_text="Leave empty to get it")
    alpha = forms.FloatField(initial=0.05, min_value=0.0001, max_value=0.5)
    power = forms.FloatField(initial=0.8, min_value=0.05, max_value=0.9999)

    def clean(self):
        data = super().clean()
        if (data.get("mde") is None) == (data.get("n") is None):
            raise forms.ValidationError("Give either the relative MDE or the units per arm.")
        return data


@admin.register(ABTestVariant)
class ABTestVariantAdmin(admin.ModelAdmin):
    list_display = ["__str__", "test", "key", "is_control", "weight"]
    list_filter = ["is_control", "test__status"]
    search_fields = ["key", "name", "test__key"]
    list_select_related = ["test"]
    actions = ["roll_out_as_winner"]

    @admin.action(description="Roll out this variant as the winner (override)", permissions=["change"])
    def roll_out_as_winner(self, request, queryset):
        for variant in queryset:
            _run(
                self, request, [variant.test], services.abtest_roll_out, f"rolled out ({variant.key})", variant=variant
            )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ABTestExposure)
class ABTestExposureAdmin(ReadOnlyAdmin):
    list_display = ["unit_id", "test", "variant", "contact", "exposed_at"]
    list_filter = ["test"]
    search_fields = ["unit_id", "test__key"]
    list_select_related = ["test", "variant", "variant__test"]
    raw_id_fields = ["contact"]


@admin.register(ABTestDailyStat)
class ABTestDailyStatAdmin(ReadOnlyAdmin):
    list_display = ["day", "test", "variant", "metric", "units", "total", "sum_squares"]
    list_filter = ["test", "metric"]
    search_fields = ["test__key", "metric"]
    list_select_related = ["test", "variant", "variant__test"]
    date_hierarchy = "day"


@admin.register(ABTestSnapshot)
class ABTestSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["test", "computed_at", "srm_p_value"]
    list_filter = ["test"]
    search_fields = ["test__key"]
    list_select_related = ["test"]


@admin.register(ABTestDecision)
class ABTestDecisionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "test", "action", "actor_label", "automatic", "reason"]
    list_filter = ["action", "automatic", "test"]
    search_fields = ["test__key", "reason", "actor_label"]
    list_select_related = ["test"]


@admin.register(ABTestUnitMetric)
class ABTestUnitMetricAdmin(ReadOnlyAdmin):
    list_display = ["unit_id", "test", "variant", "metric", "value", "first_at"]
    list_filter = ["metric", "test"]
    search_fields = ["unit_id", "test__key"]
    list_select_related = ["test", "variant", "variant__test"]
