from madansara.periodic import every

SCHEDULES = {
    "webhooks_out.deliveries-due": every(
        minutes=1,
        task="madansara.webhooks_out.tasks.webhook_deliveries_due_task",
        description="Retry outbound webhook deliveries whose backoff is over (24 h schedule)",
    ),
}
