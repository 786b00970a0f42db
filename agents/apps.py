from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents and integrations"

    def ready(self):
        from agents import events, receivers  # noqa: F401 - receivers connects the erasure receiver

        events.connect()
