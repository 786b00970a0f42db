from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "madansara.notifications"
    label = "notifications"
    verbose_name = "Notifications"
