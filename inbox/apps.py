from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Unified inbox"

    def ready(self):
        from inbox import receivers  # noqa: F401 - connects the inbound_received receiver
