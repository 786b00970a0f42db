from django.apps import AppConfig


class BestpracticesConfig(AppConfig):
    name = "bestpractices"
    verbose_name = "Best practices"

    def ready(self):
        from bestpractices import receivers  # noqa: F401 - connects the erasure receiver
        from bestpractices.services import draft_guidance_provider
        from madansara.guidance import guidance_provider_register

        guidance_provider_register(draft_guidance_provider)
