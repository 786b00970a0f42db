"""Channel-layer gauges for /metrics (read at scrape time; see madansara.metrics)."""

from django.db.models import Count

from madansara.channels.models import WebhookEvent, WebhookStatus
from madansara.metrics import Gauge


def webhook_gauges() -> list[Gauge]:
    rows = dict(
        WebhookEvent.objects.filter(status__in=[WebhookStatus.PENDING, WebhookStatus.FAILED])
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    gauge = Gauge("madansara_webhook_events_unprocessed", "Stored webhook events not yet processed.", ("status",))
    for status in (WebhookStatus.PENDING, WebhookStatus.FAILED):
        gauge.samples.append(((status.value,), rows.get(status, 0)))
    return [gauge]


GAUGES = [webhook_gauges]
