from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "madansara.channels"
    label = "channels"
    verbose_name = "Channels"

    def ready(self):
        from madansara.channels import receivers  # models are loaded only now

        receivers.connect()
