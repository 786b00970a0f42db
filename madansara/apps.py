from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules

from madansara import roles


class MadansaraConfig(AppConfig):
    name = "madansara"
    verbose_name = "Madan Sara platform"

    def ready(self):
        post_migrate.connect(roles.sync_on_migrate, dispatch_uid="madansara.roles.sync")
        # Every app's `receivers` module connects the app to the signals (and registries) of the
        # layers below it when imported; imported here, once for all, now that every model is loaded.
        autodiscover_modules("receivers")
