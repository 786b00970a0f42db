from madansara.periodic import every

SCHEDULES = {
    "channels.webhook-events-sweep": every(
        minutes=1,
        task="madansara.channels.tasks.webhook_events_sweep_task",
        description="Re-enqueue webhook events whose processing was lost or failed",
    ),
    "channels.webhook-replay-keys-prune": every(
        hours=1,
        task="madansara.channels.tasks.webhook_replay_keys_prune_task",
        description="Forget webhook replay keys older than each provider's retry window",
    ),
}
