from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date

from outreach.services.planning import campaigns_plan


class Command(BaseCommand):
    help = "Plan the sends of every running campaign (idempotent: re-running plans nothing twice)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Plan as of this day (YYYY-MM-DD, start of day UTC) instead of now")

    def handle(self, *args, date=None, **options):
        now = timezone.now()
        if date:
            day = parse_date(date)
            if day is None:
                raise CommandError("--date must be YYYY-MM-DD")
            now = datetime.combine(day, time(0, 0), tzinfo=timezone.UTC)

        def progress(campaign, result):
            self.stdout.write(
                f"{campaign.pk} {campaign.name}: enrolled {result['enrolled']}, moved {result['moved']}, "
                f"planned {result['planned']}, held {result['held']}"
            )

        totals = campaigns_plan(now=now, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Planned {totals['planned']} sends in {totals['campaigns']} campaigns"))
