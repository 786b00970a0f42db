from madansara.periodic import cron, every

SCHEDULES = {
    "outreach.plan-campaigns": cron(
        task="outreach.tasks.campaigns_plan_task",
        minute="5",
        description="Plan the day's sends of running campaigns (hourly: new zones' days, waits, branches)",
    ),
    "outreach.dispatch-outbox": every(
        minutes=1, task="outreach.tasks.outbox_dispatch_task", description="Send due outbox rows, exactly once"
    ),
    "outreach.direct-sends-due": every(
        minutes=1,
        task="outreach.tasks.direct_sends_due_task",
        description="Send direct (API/agent) messages whose quiet hours are over or whose retry is due",
    ),
    "outreach.direct-sends-recover": every(
        minutes=5,
        task="outreach.tasks.direct_sends_recover_task",
        description="Finish direct sends left 'sending' by a worker that died (no double send)",
    ),
    "outreach.recompute-engagement": cron(
        task="outreach.tasks.engagement_recompute_task",
        hour="3",
        minute="30",
        description="Rebuild contact engagement, channel preference and best hours",
    ),
}
