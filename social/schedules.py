from madansara.periodic import cron, every

SCHEDULES = {
    "social.sync-accounts": every(
        minutes=15,
        task="social.tasks.accounts_sync_task",
        description="Sync posts, metrics, comments, mentions and insights of every connected account",
    ),
    "social.flush-replies": every(
        minutes=1,
        task="social.tasks.comment_replies_flush_task",
        description="Publish approved comment replies as each account's reply budget allows",
    ),
    "social.scores": cron(
        task="social.tasks.scores_recompute_task",
        hour="3",
        minute="20",
        description="Recompute decayed engagement scores and advocate tiers",
    ),
}
