from django.core.management.base import BaseCommand

from outreach.services.contacts_import import contacts_export_csv


class Command(BaseCommand):
    help = "Export active contacts as CSV in the import format (to a file or stdout)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default="-", help="file path, '-' for stdout")

    def handle(self, *args, output, **options):
        if output == "-":
            count = contacts_export_csv(out=self.stdout)
        else:
            with open(output, "w", newline="", encoding="utf-8") as handle:
                count = contacts_export_csv(out=handle)
        self.stderr.write(f"{count} contacts exported")
