from django.apps import AppConfig


class AbtestingConfig(AppConfig):
    name = "abtesting"
    verbose_name = "A/B testing"

    def ready(self):
        from abtesting import receivers  # noqa: F401  (connects the website signal)
