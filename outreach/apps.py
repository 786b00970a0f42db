from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "Outreach & contacts"

    def ready(self):
        from madansara.channels.signals import message_event
        from outreach import receivers  # noqa: F401 - connects the erasure and merge receivers
        from outreach.services.feedback import on_message_event

        message_event.connect(on_message_event, dispatch_uid="outreach.feedback")
