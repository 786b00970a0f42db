from madansara.periodic import every

SCHEDULES = {
    "abtesting.results-refresh": every(
        minutes=30,
        task="abtesting.tasks.results_refresh_task",
        description="Recompute running A/B tests, check SRM/guardrails, roll out winners, re-weight bandits",
    ),
}
