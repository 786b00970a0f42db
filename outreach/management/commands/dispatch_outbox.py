from django.core.management.base import BaseCommand

from outreach.services.dispatch import outbox_dispatch


class Command(BaseCommand):
    help = "Send due outbox rows, exactly once (safe to run several in parallel)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Stop when nothing is due (default: keep polling)")
        parser.add_argument("--batch", type=int, default=100)

    def handle(self, *args, once=False, batch=100, **options):
        def progress(counts):
            self.stdout.write(" ".join(f"{key}={value}" for key, value in sorted(counts.items())))

        counts = outbox_dispatch(once=once, batch=batch, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Done: {sum(counts.values())} rows ({counts})"))
