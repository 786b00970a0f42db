from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Build a small believable demo workspace (idempotent): users per role, contacts, then each app's "
        "`<app>/demo.py: seed_demo(stdout)`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--only", nargs="*", metavar="APP", help="run only these apps' demo steps")

    def handle(self, *args, only=None, **options):
        for config in apps.get_app_configs():
            if only and config.label not in only:
                continue
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            seed = getattr(module, "seed_demo", None)
            if seed is not None:
                self.stdout.write(f"==> {config.label}")
                seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("demo workspace ready"))
