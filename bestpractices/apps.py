from django.apps import AppConfig


class BestpracticesConfig(AppConfig):
    name = "bestpractices"
    verbose_name = "Best practices"
