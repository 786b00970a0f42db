from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def ensure_seeded_intents(sender, apps=None, **kwargs):
    """The seeded intents exist after every migrate or flush (idempotent)."""
    from importlib import import_module

    import_module("inbox.migrations.0002_seed_intents").seed(apps or global_apps, None)


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Unified inbox"

    def ready(self):
        post_migrate.connect(ensure_seeded_intents, sender=self, dispatch_uid="inbox.seeded_intents")
