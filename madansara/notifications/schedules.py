from django.conf import settings

from madansara.periodic import cron, every

SCHEDULES = {
    "notifications.check": every(
        minutes=1, task="madansara.notifications.tasks.notices_check_task", description="Raise notices for people"
    ),
    "notifications.deliver": every(
        minutes=1,
        task="madansara.notifications.tasks.deliveries_send_due_task",
        description="Send due notices (retries, quiet hours ended)",
    ),
    "notifications.digest": cron(
        task="madansara.notifications.tasks.digests_send_task",
        minute="0",
        hour=str(settings.NOTIFY_DIGEST_HOUR),
        description="Daily digest of notices (UTC hour NOTIFY_DIGEST_HOUR)",
    ),
}
