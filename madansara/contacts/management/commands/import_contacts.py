import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DataError

from madansara.contacts.csv_io import BATCH_SIZE, contacts_import_csv, parse_mapping


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV file (upsert by external_id or identity). Columns named like a field "
        "(external_id, name, timezone, locale, lifecycle_stage, tags 'a;b', email, sms|phone, whatsapp, instagram, "
        "facebook, linkedin, x, consent_<channel>, attr_<key>) are used; --map renames others. The encoding "
        "(UTF-8, Excel's cp1252, Latin-1, …) and the delimiter (, ; tab |) are detected. A bad row is refused "
        "on its own, with its line; the others are imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--map", default="", help="field=Column pairs, e.g. 'email=E-mail,name=Full name'")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per write on the portable path")
        parser.add_argument("--source", default="import", help="consent source recorded for this import")
        parser.add_argument("--no-copy", action="store_true", help="use the portable batched path on PostgreSQL")
        parser.add_argument("--max-errors-shown", type=int, default=200)

    def handle(self, *args, file, map, batch_size, source, no_copy, max_errors_shown, **options):
        started = time.monotonic()
        try:
            report = contacts_import_csv(
                path=file,
                mapping=parse_mapping(map),
                batch_size=batch_size,
                source=source,
                progress=lambda message: self.stdout.write(f"  {message}"),
                use_copy=False if no_copy else None,
            )
        except (OSError, ValueError, UnicodeDecodeError, DataError) as exc:
            raise CommandError(str(exc)) from exc
        problems = sorted([(line, message) for line, message in report.errors]
                          + [(line, f"conflict: {message}") for line, message in report.conflicts])  # fmt: skip
        for line, message in problems[:max_errors_shown]:
            self.stderr.write(f"line {line}: {message}")
        if len(problems) > max_errors_shown:
            self.stderr.write(f"… and {len(problems) - max_errors_shown} more")
        self.stdout.write(f"{report.summary()} in {time.monotonic() - started:.1f} s")
        if report.rejected:
            raise CommandError(
                f"{report.rejected} of {report.rows} rows were not imported (see the lines above); the others were."
            )
