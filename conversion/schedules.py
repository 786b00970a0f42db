from madansara.periodic import every

SCHEDULES = {
    "conversion.attribution-refresh": every(
        minutes=15,
        task="conversion.tasks.attribution_refresh_task",
        description="Capture touchpoints, attribute new conversions, refresh channel performance",
    ),
    "conversion.social-funnel-conversions": every(
        hours=1,
        task="conversion.tasks.funnel_runs_mark_converted_task",
        description="Mark social funnel runs whose contact converted",
    ),
}
