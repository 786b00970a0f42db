"""Rebuild sessions and funnel snapshots for a date range, day by day, with progress output."""

from datetime import UTC, date, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError

from website import services


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"'{value}' is not a date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = "Backfill website sessions/visitors and FunnelAnalytics snapshots for [--start, --end] (UTC days)."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, type=_day, help="First day, YYYY-MM-DD")
        parser.add_argument("--end", required=True, type=_day, help="Last day (inclusive), YYYY-MM-DD")
        parser.add_argument("--site", type=int, help="Only this site id")
        parser.add_argument("--skip-sessions", action="store_true", help="Only rebuild funnel snapshots")
        parser.add_argument("--skip-funnels", action="store_true", help="Only rebuild sessions")

    def handle(self, *args, start: date, end: date, site=None, skip_sessions=False, skip_funnels=False, **options):
        if end < start:
            raise CommandError("--end is before --start.")
        days = (end - start).days + 1
        totals = {"sessions": 0, "snapshots": 0}
        for index in range(days):
            day = start + timedelta(days=index)
            begin = datetime(day.year, day.month, day.day, tzinfo=UTC)
            sessions = (
                0
                if skip_sessions
                else services.sessions_rebuild(start=begin, end=begin + timedelta(days=1), site_id=site)
            )
            snapshots = 0 if skip_funnels else services.funnel_snapshots_build(day=day, site_id=site)
            totals["sessions"] += sessions
            totals["snapshots"] += snapshots
            self.stdout.write(
                f"[{index + 1}/{days}] {day}: {sessions} sessions, {snapshots} funnel snapshots ({(index + 1) * 100 // days}%)"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {totals['sessions']} sessions and {totals['snapshots']} snapshots over {days} days."
            )
        )
