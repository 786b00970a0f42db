"""Admin for campaigns, templates and the outbox; actions call services; charts are inline SVG."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from madansara.charts import bar_chart
from madansara.erasure import digest
from madansara.forms import KeyValueField, LinesListField, ReadableJSONMixin
from madansara.money import money_column, money_format
from outreach import selectors
from outreach.models import (
    CampaignEnrollment,
    CampaignSpend,
    CampaignStep,
    ChannelCost,
    ChannelTemplate,
    ContactEngagement,
    FrequencyCap,
    OutboxMessage,
    OutreachCampaign,
    Segment,
    SuppressionEntry,
    TemplateVariant,
)
from outreach.models.campaigns import weekdays_said
from outreach.services import campaigns as services
from outreach.services.content import variants_generate
from outreach.services.copy import arms_from_approved, copy_experiment_start
from outreach.services.dispatch import outbox_retry_now

FUNNEL = ["planned", "sent", "delivered", "opened", "clicked", "replied"]
COLOURS = ["#94a3b8", "#2563eb", "#0891b2", "#16a34a", "#ca8a04", "#c2410c"]


def bar_chart_svg(groups: list[tuple[str, dict[str, float]]], series: list[str], *, height: int = 160) -> str:
    """A grouped bar chart as inline SVG (no JavaScript, no CDN) that fits its box: the drawing is
    as wide as its bars or its legend, whichever is wider, and scales down (viewBox) when the box
    is narrower."""
    if not groups:
        return '<p class="help">No sends yet: the chart fills in as the campaign sends.</p>'
    peak = max((values.get(s, 0) or 0) for _, values in groups for s in series) or 1
    bar, gap, legend_step = 14, 18, 90
    width = max(len(groups) * (len(series) * bar + gap) + 40, len(series) * legend_step + 40)
    total = height + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total}" width="{width}" height="{total}" '
        'role="img" style="max-width:100%;height:auto;font:11px sans-serif">'
    ]
    x = 30
    for label, values in groups:
        for index, name in enumerate(series):
            value = values.get(name, 0) or 0
            h = int(height * value / peak)
            parts.append(
                f'<rect x="{x}" y="{height - h + 10}" width="{bar - 2}" height="{h}" fill="{COLOURS[index % 6]}">'
                f"<title>{escape(label)} {escape(name)}: {value}</title></rect>"
            )
            x += bar
        parts.append(f'<text x="{x - len(series) * bar}" y="{height + 28}">{escape(label)}</text>')
        x += gap
    for index, name in enumerate(series):
        legend_x = 30 + index * legend_step
        parts.append(f'<rect x="{legend_x}" y="{height + 40}" width="10" height="10" fill="{COLOURS[index % 6]}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="{height + 49}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def lift_chart(lift: dict, goal: str) -> str:
    """Conversion rate of treated contacts vs the holdout, or why there is nothing to compare yet."""
    what = f"'{goal}' conversion" if goal else "conversion"
    if not lift or not lift.get("holdout"):
        return format_html('<p class="help">{}</p>', "No holdout: set a holdout % to measure the campaign's lift.")
    rows = [
        (f"treated ({lift['treated_converted']}/{lift['treated']})", 100 * (lift.get("treated_rate") or 0)),
        (f"holdout ({lift['holdout_converted']}/{lift['holdout']})", 100 * (lift.get("holdout_rate") or 0)),
    ]
    chart = bar_chart(
        rows=rows,
        title=f"{what} rate, treated vs holdout",
        value_format="{:.1f} %",
        width=520,
        empty_text=f"No {what} yet in either group: the lift appears once enrolled contacts convert "
        "(conversions come from the tracker, the API or Conversion events).",
    )
    return format_html("<h4>Lift: {} rate, treated vs holdout</h4>{}", what, chart)


def sto_text(rows: list[dict]) -> str:
    """[{'sto_arm': 'sto', 'sent': 26, 'opened': 14}] → 'sto: 26 sent, 14 opened (53.8 %)'."""
    parts = [
        f"{row['sto_arm']}: {row['sent']:,} sent, {row['opened']:,} opened"
        + (f" ({row['opened'] / row['sent']:.1%})" if row["sent"] else "")
        for row in rows
    ]
    return "; ".join(parts) or "no send-time optimisation in this campaign"


class StepInline(ReadableJSONMixin, admin.StackedInline):
    readable_json = {"fallback_channels": LinesListField}
    model = CampaignStep
    extra = 0
    filter_horizontal = ["templates"]


def counts_text(counts) -> str:
    """{'active': 26, 'completed': 2} → '26 active, 2 completed' (never a Python repr)."""
    if not isinstance(counts, dict):
        return str(counts)
    return ", ".join(f"{value:,} {str(key).replace('_', ' ')}" for key, value in counts.items()) or "none"


WEEKDAY_CHOICES = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"),
                   (5, "Saturday"), (6, "Sunday")]  # fmt: skip


def send_arm_said(content: dict) -> str:
    """A send experiment's arm in words: 'as the campaign', '08-12 h', 'Mon, Fri', 'on sms'."""
    parts = []
    if "window_start_hour" in (content or {}):
        parts.append(f"{content['window_start_hour']:02d}-{content['window_end_hour']:02d} h")
    if "send_weekdays" in content:
        parts.append(weekdays_said(content["send_weekdays"]))
    if content.get("channel"):
        parts.append(f"on {content['channel']}")
    return " ".join(parts) or "as the campaign"


@admin.register(OutreachCampaign)
class OutreachCampaignAdmin(ReadableJSONMixin, admin.ModelAdmin):
    readable_json = {"links": KeyValueField}
    list_display = [
        "name", "status", "segment", "holdout_percent", "daily_volume_cap", "daily_spend_cap_money", "created_at"
    ]  # fmt: skip
    daily_spend_cap_money = money_column("daily_spend_cap", description="daily spend cap")
    list_filter = ["status", "recurring", "sto_enabled"]
    search_fields = ["name", "segment__name"]
    readonly_fields = ["status", "launched_at", "completed_at", "results_chart", "variant_results"]
    raw_id_fields = ["subject_test", "copy_test", "send_test"]
    inlines = [StepInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "send_weekdays":
            return forms.TypedMultipleChoiceField(
                choices=WEEKDAY_CHOICES,
                coerce=int,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                label="Send weekdays",
                help_text="The contact's local weekdays; none ticked: every day.",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    actions = ["launch", "pause", "resume", "cancel", "start_copy_experiment"]

    def _run(self, request, queryset, service, verb):
        done = 0
        for campaign in queryset:
            try:
                service(campaign=campaign, actor=request.user)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{campaign}: {'; '.join(exc.messages)}", messages.ERROR)
        if done:
            self.message_user(request, f"{verb} {done} campaign(s).", messages.SUCCESS)

    @admin.action(description="Launch", permissions=["operate"])
    def launch(self, request, queryset):
        self._run(request, queryset, services.campaign_launch, "Launched")

    @admin.action(description="Pause", permissions=["operate"])
    def pause(self, request, queryset):
        self._run(request, queryset, services.campaign_pause, "Paused")

    @admin.action(description="Resume", permissions=["operate"])
    def resume(self, request, queryset):
        self._run(request, queryset, services.campaign_resume, "Resumed")

    @admin.action(description="Cancel", permissions=["operate"])
    def cancel(self, request, queryset):
        self._run(request, queryset, services.campaign_cancel, "Cancelled")

    def has_operate_permission(self, request):
        return request.user.has_perm("outreach.operate_outreachcampaign")

    @admin.action(description="Start a copy experiment with the approved variants", permissions=["operate"])
    def start_copy_experiment(self, request, queryset):
        for campaign in queryset:
            try:
                test = copy_experiment_start(
                    campaign=campaign, arms=arms_from_approved(campaign=campaign), actor=request.user
                )
                self.message_user(request, f"{campaign}: copy experiment {test.key} running.", messages.SUCCESS)
            except ValidationError as exc:
                self.message_user(request, f"{campaign}: {'; '.join(exc.messages)}", messages.ERROR)

    @admin.display(description="Results per variant")
    def variant_results(self, obj):
        if obj.pk is None:
            return "-"
        rows = selectors.variant_performance(campaign=obj)
        if not rows:
            return "No sends yet."
        keys = {int(r["variant"][1:]) for r in rows if r["variant"][1:].isdigit()}
        copy = {
            v.pk: (v.subject or v.content or v.body)[:60]
            for v in TemplateVariant.objects.filter(pk__in=keys).only("subject", "content", "body")
        }
        head = "".join(f"<th>{name}</th>" for name in selectors.VARIANT_OUTCOMES)
        body = "".join(
            format_html(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}</tr>",
                f"step {r['step__position']} {r['channel']}",
                r["send_arm"] or "—",
                r["arm"] or "—",
                r["variant"] or "original",
                copy.get(int(r["variant"][1:]), "") if r["variant"][1:].isdigit() else "template as written",
                mark_safe(  # noqa: S308 - numbers only
                    f"<td>{r['sent']}</td>"
                    + "".join(
                        f"<td>{r[name]} ({100 * r['rates'][name]:.1f}%)</td>" for name in selectors.VARIANT_OUTCOMES[1:]
                    )
                ),
            )
            for r in rows
        )
        note = ""
        if obj.copy_test_id:
            test = obj.copy_test
            winner = f", winner {test.winner.key}" if test.winner_id else ""
            note = format_html("<p>Copy experiment <strong>{}</strong>: {}{}.</p>", test.key, test.status, winner)
        if obj.send_test_id:
            test = obj.send_test
            winner = f", winner {test.winner.key}" if test.winner_id else ""
            arms = "; ".join(f"{v.key}: {send_arm_said(v.content)}" for v in test.variants.order_by("pk"))
            said = format_html(
                "<p>Send experiment <strong>{}</strong> ({}): {}{} — {}.</p>",
                test.key, test.get_surface_display().lower(), test.status, winner, arms,
            )  # fmt: skip
            note = format_html("{}{}", note, said)
        return format_html(
            '{}<table id="variant-results"><tr><th>step/channel</th><th>send arm</th><th>copy arm</th><th>variant</th><th>copy</th>{}</tr>'
            "{}</table>",
            note,
            mark_safe(head),  # noqa: S308 - fixed names
            mark_safe(body),  # noqa: S308 - rows built with format_html
        )

    @admin.display(description="Results")
    def results_chart(self, obj):
        if obj.pk is None:
            return "-"
        results = selectors.campaign_results(campaign=obj)
        groups = [(f"step {row['step__position']} {row['channel']}", row) for row in results["by_step_channel"]]
        chart = bar_chart_svg(groups, FUNNEL)
        held = ", ".join(f"{k}: {v}" for k, v in results["held_back"].items()) or "none"
        rows = "".join(
            f"<tr><td>{escape(g)}</td>"
            + "".join(f"<td>{r.get(s, 0)}</td>" for s in [*FUNNEL, "failed"])
            + f"<td>{escape(money_format(r['cost']))}</td></tr>"
            for g, r in groups
        )
        table = (
            "<table><tr><th>step/channel</th>"
            + "".join(f"<th>{s}</th>" for s in [*FUNNEL, "failed", "cost"])
            + f"</tr>{rows}</table>"
        )
        return format_html(
            "{}{}<p>Held back by guard: {}</p><p>Journeys: {}</p>{}<p>STO split: {}</p>",
            mark_safe(chart),  # noqa: S308 - built from escaped values above
            mark_safe(table),  # noqa: S308
            held,
            counts_text(results["journeys"]),
            lift_chart(results["lift"], obj.goal_conversion),
            sto_text(results["sto"]),
        )


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "is_static", "created_at"]
    list_filter = ["is_static"]
    search_fields = ["name", "description"]
    raw_id_fields = ["contacts"]


class VariantInline(admin.TabularInline):
    """Read-only here: copy changes and approvals go through the variant review (services)."""

    model = TemplateVariant
    extra = 0
    fields = ["field", "summary", "status", "source", "approved_by", "approved_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Copy")
    def summary(self, obj):
        return (obj.subject or obj.content or obj.body)[:100]


@admin.register(ChannelTemplate)
class ChannelTemplateAdmin(ReadableJSONMixin, admin.ModelAdmin):
    readable_json = {"whatsapp_variables": KeyValueField}
    list_display = ["name", "channel", "subject", "updated_at"]
    list_filter = ["channel"]
    search_fields = ["name", "subject", "text"]
    inlines = [VariantInline]
    actions = ["draft_subject_variants"]

    @admin.action(description="Draft 3 subject-line variants (LLM, or local fallback)", permissions=["change"])
    def draft_subject_variants(self, request, queryset):
        made = sum(
            len(variants_generate(template=t, field_name="subject", brief=t.name, count=3))
            for t in queryset.filter(channel="email")
        )
        self.message_user(request, f"Drafted {made} variants; approve them before use.")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "campaign",
        "step",
        "contact",
        "channel",
        "status",
        "due_at",
        "reason",
        "hold_reason",
        "attempts",
    ]
    list_filter = ["status", "channel", "hold_reason", "reason", "sto_arm"]
    search_fields = ["contact__name", "campaign__name", "error"]
    raw_id_fields = ["campaign", "step", "contact", "message"]
    list_select_related = ["campaign", "step", "contact"]
    show_full_result_count = False
    actions = ["retry_now"]

    @admin.action(description="Retry now (pending rows)", permissions=["change"])
    def retry_now(self, request, queryset):
        done = sum(outbox_retry_now(row=row) for row in queryset.filter(status="pending"))
        self.message_user(request, f"{done} row(s) due now.")


@admin.register(CampaignEnrollment)
class CampaignEnrollmentAdmin(admin.ModelAdmin):
    list_display = ["campaign", "contact", "state", "position", "step_entered_at"]
    list_filter = ["state"]
    search_fields = ["contact__name", "campaign__name"]
    raw_id_fields = ["campaign", "contact"]
    list_select_related = ["campaign", "contact"]
    show_full_result_count = False


@admin.register(SuppressionEntry)
class SuppressionEntryAdmin(admin.ModelAdmin):
    list_display = ["shown_value", "channel", "reason", "created_at"]
    list_filter = ["channel"]
    search_fields = ["value", "reason"]

    @admin.display(description="value", ordering="value")
    def shown_value(self, obj):
        return "an erased person's address (kept as a digest)" if obj.is_digest else obj.value

    def get_readonly_fields(self, request, obj=None):
        return ["value"] if obj is not None and obj.is_digest else []

    def get_search_results(self, request, queryset, search_term):
        """Searching a whole address also finds it where an erasure left its digest."""
        found, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            found |= queryset.filter(value=digest(term.lower() if "@" in term else term))
        return found, duplicates


@admin.register(FrequencyCap)
class FrequencyCapAdmin(admin.ModelAdmin):
    list_display = ["channel", "per_day", "per_week"]


@admin.register(ChannelCost)
class ChannelCostAdmin(admin.ModelAdmin):
    list_display = ["channel", "cost_per_message_money"]
    cost_per_message_money = money_column("cost_per_message", description="cost per message", unit=True)


@admin.register(CampaignSpend)
class CampaignSpendAdmin(admin.ModelAdmin):
    list_display = ["campaign", "day", "channel", "messages", "cost_money"]
    cost_money = money_column("cost", description="cost")
    list_filter = ["channel", "day"]
    search_fields = ["campaign__name"]
    list_select_related = ["campaign"]


@admin.register(ContactEngagement)
class ContactEngagementAdmin(admin.ModelAdmin):
    list_display = ["contact", "channel", "sent", "responses", "score", "best_hour", "last_engaged_at"]
    list_filter = ["channel"]
    search_fields = ["contact__name"]
    raw_id_fields = ["contact"]
    list_select_related = ["contact"]
