from django.apps import AppConfig


class WebhooksOutConfig(AppConfig):
    name = "madansara.webhooks_out"
    label = "webhooks_out"
    verbose_name = "Outbound webhooks"
