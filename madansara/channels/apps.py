from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "madansara.channels"
    label = "channels"
    verbose_name = "Channels"
