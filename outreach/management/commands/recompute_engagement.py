from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from outreach.services.feedback import engagement_recompute


class Command(BaseCommand):
    help = "Rebuild contact engagement, channel preference and best hours from the message history."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="Only contacts with messages since (YYYY-MM-DD or ISO datetime)")

    def handle(self, *args, since=None, **options):
        from datetime import datetime, time

        from django.utils import timezone

        moment = None
        if since:
            moment = parse_datetime(since)
            if moment is None:
                day = parse_date(since)
                if day is None:
                    raise CommandError("--since must be a date or datetime")
                moment = datetime.combine(day, time(0, 0), tzinfo=timezone.UTC)
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=timezone.UTC)
        done = engagement_recompute(since=moment, progress=lambda n: self.stdout.write(f"{n} rows"))
        self.stdout.write(self.style.SUCCESS(f"Recomputed {done} engagement rows"))
