from django.core.management.base import BaseCommand

from abtesting import services
from abtesting.models import ABTest


class Command(BaseCommand):
    help = "Recompute results of running A/B tests now (what the beat job does), optionally one test."

    def add_arguments(self, parser):
        parser.add_argument("--test", help="Key of a single test")

    def handle(self, *args, test=None, **options):
        tests = None
        if test:
            tests = ABTest.objects.filter(key=test).prefetch_related("variants")
            if not tests.exists():
                self.stderr.write(f"No test with key {test!r}.")
                return
        snapshots = services.results_refresh(tests=tests)
        for snapshot in snapshots:
            srm = "n/a" if snapshot.srm_p_value is None else f"{snapshot.srm_p_value:.3g}"
            self.stdout.write(f"{snapshot.test.key}: snapshot {snapshot.pk}, SRM p = {srm}")
        self.stdout.write(self.style.SUCCESS(f"{len(snapshots)} test(s) analysed."))
