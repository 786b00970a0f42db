from madansara.periodic import every

SCHEDULES = {
    "conversion.attribution-refresh": every(
        minutes=15,
        task="conversion.tasks.attribution_refresh_task",
        description="Capture touchpoints, attribute new conversions, refresh channel performance",
    ),
}
