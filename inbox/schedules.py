from madansara.periodic import every

SCHEDULES = {
    "inbox.reopen-snoozed": every(
        minutes=1, task="inbox.tasks.reopen_snoozed_task", description="Reopen snoozed conversations"
    ),
    "inbox.sla-breaches": every(minutes=1, task="inbox.tasks.sla_breaches_task", description="Record SLA breaches"),
}
