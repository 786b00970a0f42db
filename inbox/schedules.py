from madansara.periodic import every

SCHEDULES = {
    "inbox.reopen-snoozed": every(
        minutes=1, task="inbox.tasks.reopen_snoozed_task", description="Reopen snoozed conversations"
    ),
    "inbox.presence-prune": every(
        minutes=5, task="inbox.tasks.presence_prune_task", description="Forget agents' stale console presence"
    ),
    "inbox.sla-breaches": every(minutes=1, task="inbox.tasks.sla_breaches_task", description="Record SLA breaches"),
}
