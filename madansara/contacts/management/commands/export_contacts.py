from django.core.management.base import BaseCommand

from madansara.contacts.csv_io import contacts_export_csv


class Command(BaseCommand):
    help = (
        "Export active contacts as CSV in the import format (to a file or stdout): every identity, consent, tag "
        "and attr_<key> column; cells a spreadsheet would run as a formula are prefixed with a quote."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default="-", help="file path, '-' for stdout")

    def handle(self, *args, output, **options):
        if output == "-":
            report = contacts_export_csv(out=self.stdout)
        else:
            with open(output, "w", newline="", encoding="utf-8") as handle:
                report = contacts_export_csv(out=handle)
        if report.attributes_left_out:
            self.stderr.write(
                "attributes left out (their names cannot be import columns): " + ", ".join(report.attributes_left_out)
            )
        self.stderr.write(f"{report.rows} contacts exported")
