from django.apps import AppConfig


class ConversionConfig(AppConfig):
    name = "conversion"
    verbose_name = "Conversions & attribution"

    def ready(self):
        from conversion import receivers  # noqa: F401 - connects the signal receivers
