from django.core.management.base import BaseCommand

from madansara.periodic import sync_periodic_tasks


class Command(BaseCommand):
    help = "Create/update celery-beat jobs declared in <app>/schedules.py (keeps paused ones paused)."

    def handle(self, *args, **options):
        counts = sync_periodic_tasks()
        self.stdout.write(
            f"periodic tasks: {counts['created']} created, {counts['updated']} updated, {counts['removed']} removed"
        )
