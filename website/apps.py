from django.apps import AppConfig


class WebsiteConfig(AppConfig):
    name = "website"
    verbose_name = "Website tracking"

    def ready(self):
        from website import receivers  # noqa: F401 - connects the erasure receiver
