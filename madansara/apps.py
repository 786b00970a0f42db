from django.apps import AppConfig


class MadansaraConfig(AppConfig):
    name = "madansara"
    verbose_name = "Madan Sara platform"

    def ready(self):
        from django.db.models.signals import post_migrate

        from madansara import roles

        post_migrate.connect(roles.sync_on_migrate, dispatch_uid="madansara.roles.sync")
