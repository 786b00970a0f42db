from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"
    verbose_name = "Social engagement"

    def ready(self):
        from social import receivers  # noqa: F401  (connects the inbound_received receiver)
