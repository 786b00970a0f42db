from madansara.periodic import cron, every

SCHEDULES = {
    "website.spool-flush": every(
        minutes=1, task="website.tasks.spool_flush_task", description="Store tracker batches spooled during a DB outage"
    ),
    "website.sessions-refresh": every(
        minutes=5,
        task="website.tasks.sessions_refresh_task",
        kwargs={"minutes": 10},
        description="Rebuild sessions and visitors touched by recent events",
    ),
    "website.funnel-snapshots": cron(
        task="website.tasks.funnel_snapshots_task",
        hour="2",
        minute="15",
        description="Daily FunnelAnalytics snapshot of every active funnel",
    ),
    "website.recommendations": cron(
        task="website.tasks.recommendations_task",
        hour="3",
        minute="0",
        description="Optimisation recommendations from funnels, exits and segments",
    ),
    "website.partitions": cron(
        task="website.tasks.partitions_ensure_task",
        hour="1",
        minute="0",
        description="Create next months' website_event partitions",
    ),
}
