from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def ensure_default_types(sender, apps=None, **kwargs):
    """The seeded conversion types exist after every migrate or flush (idempotent)."""
    from importlib import import_module

    seed = import_module("conversion.migrations.0002_default_conversion_types")
    seed.create_types(apps or global_apps, None)


class ConversionConfig(AppConfig):
    name = "conversion"
    verbose_name = "Conversions & attribution"

    def ready(self):
        post_migrate.connect(ensure_default_types, sender=self, dispatch_uid="conversion.default_types")
