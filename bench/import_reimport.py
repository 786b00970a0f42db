"""Contact CSV re-import benchmark: a file imported once, then imported again unchanged (every row
should count as "unchanged" and cost little), on the configured database and import path.

    .venv/bin/python bench/import_reimport.py [--rows 50000] [--path batched|copy]

Zero-config (no DATABASE_URL) runs on a SQLite file in MADANSARA_VAR_DIR (use an empty folder:
the bench migrates it and deletes its contacts). With a PostgreSQL DATABASE_URL both paths can run
(`--path copy` is PostgreSQL's default). Same generated file as bench/import_contacts.py.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")
django.setup()

from django.core.management import call_command
from django.db import connection
from import_contacts import generate  # bench/ is the script's folder

from madansara.contacts.csv_io import contacts_import_csv
from madansara.contacts.models import Contact


def reset() -> None:
    tables = ("outreach_consentevent", "outreach_contactconsent", "outreach_contactidentity", "outreach_contact_tags")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {Contact._meta.db_table} RESTART IDENTITY CASCADE")
            return
        for table in (*tables, Contact._meta.db_table):
            cursor.execute(f"DELETE FROM {table}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--path", choices=("batched", "copy"), default=None)
    args = parser.parse_args()
    use_copy = {"batched": False, "copy": True, None: connection.vendor == "postgresql"}[args.path]
    call_command("migrate", verbosity=0)
    reset()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        generate(path, args.rows)
        label = f"{connection.vendor}, {'COPY + set-based SQL' if use_copy else 'batched path'}"
        timings = []
        for run in ("import (all new)", "re-import (nothing changed)"):
            started = time.perf_counter()
            report = contacts_import_csv(path=path, use_copy=use_copy)
            seconds = time.perf_counter() - started
            timings.append(seconds)
            counts = f"{report.created:,} created, {report.updated:,} updated"
            if hasattr(report, "unchanged"):
                counts += f", {report.unchanged:,} unchanged"
            print(f"{label}: {args.rows:,} rows, {run}: {seconds:.2f} s ({args.rows / seconds:,.0f} rows/s); "
                  f"{counts}, {len(report.errors)} errors")  # fmt: skip
        print(f"ratio re-import / import of the same file: {timings[1] / timings[0]:.2f}")


if __name__ == "__main__":
    main()
