"""manage.py backfill_attribution --since 2026-01-01 [--until 2026-11-25]"""

from datetime import date, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from conversion import services
from conversion.models import ConversionEvent


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // total if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


class Command(BaseCommand):
    help = "Capture touchpoints, rebuild journeys and attribution, and refresh channel performance day by day."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, type=date.fromisoformat, help="First day (YYYY-MM-DD, UTC)")
        parser.add_argument("--until", type=date.fromisoformat, help="Last day, inclusive (default: today)")

    def handle(self, *args, since: date, until: date | None = None, **options):
        until = until or timezone.now().date()
        if since > until:
            raise CommandError("--since must not be after --until.")
        start = datetime.combine(since, datetime.min.time(), tzinfo=timezone.UTC)
        touchpoints = services.touchpoints_capture(since=start - timedelta(days=90))
        self.stdout.write(f"{touchpoints} touchpoints captured")
        days = [since + timedelta(days=n) for n in range((until - since).days + 1)]
        conversions = credits = 0
        for done, day in enumerate(days, start=1):
            day_start = datetime.combine(day, datetime.min.time(), tzinfo=timezone.UTC)
            ids = list(
                ConversionEvent.objects.filter(
                    occurred_at__gte=day_start, occurred_at__lt=day_start + timedelta(days=1)
                ).values_list("pk", flat=True)
            )
            if ids:
                # journeys are rebuilt first, then Markov effects over the 90 days up to that day
                credits += services.conversions_attribute(conversion_ids=ids)
                conversions += len(ids)
            services.channel_performance_refresh(day=day)
            self.stdout.write(f"\r{progress_bar(done, len(days))} {day}", ending="")
            self.stdout.flush()
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"{len(days)} days, {conversions} conversions, {credits} credit rows written")
        )
