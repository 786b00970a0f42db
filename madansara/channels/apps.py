from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "madansara.channels"
    label = "channels"
    verbose_name = "Channels"

    def ready(self):
        from madansara.channels import receivers  # noqa: F401 - connects the erasure receivers
