"""Contact import benchmark: 1,000,000 contacts (one or two identities each) from a generated CSV
into PostgreSQL, against a plain COPY of the same file into a bare table in the same run.

    createdb -h 127.0.0.1 -U postgres ms_bench_import
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench_import .venv/bin/python bench/import_contacts.py [--rows N]

Prints rows/s of `manage.py import_contacts`' PostgreSQL path (COPY into a temp table, SQL
validation/normalisation, INSERT … SELECT … ON CONFLICT) and the ratio to the bare COPY (goal ≤ 2),
then the same file again (every row an update). --floor also times bare INSERT … SELECT of the same
rows into the real tables (no validation, no matching, ids from row_number): the cost of their
indexes and FK checks alone, which no import can go below.
"""

import argparse
import csv
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")
django.setup()

from django.core.management import call_command
from django.db import connection, transaction

from madansara.contacts.csv_io import contacts_import_csv
from madansara.contacts.models import Contact, ContactIdentity

FIRST = ["Ana", "Bruno", "Chantal", "Daniel", "Esther", "Fabiola", "Gérald", "Hélène", "Ivan", "Judith"]
LAST = ["Alexis", "Baptiste", "Charles", "Dorsainvil", "Étienne", "Georges", "Jean", "Michel", "Pierre"]
STAGES = ["lead", "prospect", "customer", "churned"]
CONSENTS = ["opted_in", "unknown", "unsubscribed", ""]


def generate(path: Path, rows: int) -> None:
    """name,email,phone,lifecycle_stage,tags,consent_email — ~55% of rows have a phone (2 identities);
    1% of phones are written in a national style and go through libphonenumber."""
    rng = random.Random(2026)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email", "phone", "lifecycle_stage", "tags", "consent_email"])
        for n in range(rows):
            email = f"User{n}@Example.com" if n % 10 == 0 else f"user{n}@example.com"
            phone = ""
            if rng.random() < 0.55:
                local = 3_000_000 + n  # unique per row (up to 7,000,000 rows)
                phone = f"+1509{local:07d}"
                if rng.random() < 0.01:
                    phone = f"+1 (509) {local // 10000:03d}-{local % 10000:04d}"
            writer.writerow([f"{rng.choice(FIRST)} {rng.choice(LAST)}", email, phone, rng.choice(STAGES),
                             "bench" if n % 3 == 0 else "", rng.choice(CONSENTS)])  # fmt: skip


def reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Contact._meta.db_table} RESTART IDENTITY CASCADE")
        cursor.execute("VACUUM ANALYZE")


def bare_copy(path: Path) -> float:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_copy")
        cursor.execute("CREATE TABLE bench_bare_copy (name text, email text, phone text, lifecycle_stage text, "
                       "tags text, consent_email text)")  # fmt: skip
        started = time.perf_counter()
        with (
            path.open("rb") as handle,
            cursor.copy("COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_bare_copy")
    return elapsed


HEAP_TABLES = ("outreach_contact", "outreach_contactidentity", "outreach_contactconsent", "outreach_consentevent",
               "outreach_contact_tags")  # fmt: skip


def write_floor(path: Path, *, heap_only: bool = False) -> dict[str, float]:
    """The same rows written with bare INSERT … SELECT (ids from row_number, no validation, no
    matching, no sequence): what the real tables cost on their own; with heap_only, into copies of
    them without indexes and FKs (the rows' volume alone)."""
    reset()
    timings = {}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_floor (name text, email text, phone text, lifecycle_stage text, "
                       "tags text, consent_email text)")  # fmt: skip
        with (
            path.open("rb") as handle,
            cursor.copy("COPY bench_floor FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        cursor.execute("CREATE TEMP TABLE bench_floor_rows AS SELECT row_number() OVER () AS id, * FROM bench_floor")
    statements = {
        "contacts": "INSERT INTO outreach_contact (id, name, timezone, locale, lifecycle_stage, attributes, "
        "engagement_score, created_at, updated_at) SELECT id, name, 'UTC', 'en', lifecycle_stage, '{}', 0, now(), now() "
        "FROM bench_floor_rows",
        "identities": "INSERT INTO outreach_contactidentity (contact_id, channel, value, is_valid, invalid_reason, "
        "created_at) SELECT r.id, v.channel, v.value, true, '', now() FROM bench_floor_rows r CROSS JOIN LATERAL "
        "(VALUES ('email', lower(r.email)), ('sms', nullif(r.phone, ''))) v(channel, value) WHERE v.value IS NOT NULL",
        "consents": "INSERT INTO outreach_contactconsent (contact_id, channel, status, source, updated_at) "
        "SELECT id, 'email', consent_email, 'import', now() FROM bench_floor_rows WHERE consent_email <> ''",
        "consent events": "INSERT INTO outreach_consentevent (contact_id, channel, status, source, note, occurred_at) "
        "SELECT id, 'email', consent_email, 'import', '', now() FROM bench_floor_rows WHERE consent_email <> ''",
        "tags": "INSERT INTO outreach_contact_tags (contact_id, tag_id) SELECT id, (SELECT id FROM outreach_tag "
        "WHERE name = 'bench') FROM bench_floor_rows WHERE tags <> ''",
    }
    if heap_only:
        pattern = re.compile(rf"\b({'|'.join(HEAP_TABLES)})\b")
        statements = {label: pattern.sub(r"bench_heap_\1", sql) for label, sql in statements.items()}
        with connection.cursor() as cursor:
            for table in HEAP_TABLES:
                cursor.execute(f"CREATE TABLE bench_heap_{table} (LIKE {table} INCLUDING IDENTITY)")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("INSERT INTO outreach_tag (name) VALUES ('bench') ON CONFLICT DO NOTHING")
        for label, sql in statements.items():
            started = time.perf_counter()
            cursor.execute(sql)
            timings[label] = time.perf_counter() - started
        started = time.perf_counter()
    timings["commit" if heap_only else "commit (deferred FK checks)"] = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor, bench_floor_rows")
        if heap_only:
            cursor.execute(f"DROP TABLE {', '.join(f'bench_heap_{table}' for table in HEAP_TABLES)}")
    reset()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--compare-rows", type=int, default=20_000, help="rows for the COPY vs batched-ORM comparison")
    parser.add_argument("--skip-reimport", action="store_true")
    parser.add_argument("--floor", action="store_true", help="also time bare INSERT … SELECT into the real tables")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (see the docstring).")
    call_command("migrate", verbosity=0)  # all apps: post_migrate handlers (conversion types) need their tables
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        started = time.perf_counter()
        generate(path, args.rows)
        print(
            f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
        reset()
        copy_s = bare_copy(path)
        print(f"bare COPY into a table without indexes: {copy_s:.2f} s ({args.rows / copy_s:,.0f} rows/s)")
        started = time.perf_counter()
        report = contacts_import_csv(
            path=path, progress=lambda m: print(f"  [{time.perf_counter() - started:6.1f} s] {m}")
        )
        import_s = time.perf_counter() - started
        identities = ContactIdentity.objects.count()
        print(f"import (new contacts): {import_s:.2f} s, {args.rows / import_s:,.0f} rows/s, "
              f"{report.created:,} created, {identities:,} identities, {len(report.errors)} errors")  # fmt: skip
        print(f"ratio import / bare COPY: {import_s / copy_s:.2f} (goal ≤ 2)")
        if not args.skip_reimport:
            reimport(path)
        if args.floor:
            floor(path)
        if args.compare_rows:
            compare(Path(tmp), args.compare_rows)


def reimport(path: Path) -> None:
    rows = Contact.objects.count()
    copy_s = bare_copy(path)
    started = time.perf_counter()
    report = contacts_import_csv(path=path)
    update_s = time.perf_counter() - started
    unchanged = getattr(report, "unchanged", 0)  # counted since the #22 import work
    print(f"re-import (every row matched, none changed): {update_s:.2f} s, {rows / update_s:,.0f} rows/s, "
          f"{report.updated:,} updated, {unchanged:,} unchanged; ratio to bare COPY ({copy_s:.2f} s): "
          f"{update_s / copy_s:.2f}")  # fmt: skip
    assert report.errors == [], report.errors[:5]


def floor(path: Path) -> None:
    for heap_only, label in ((True, "copies without indexes or FKs"), (False, "the real tables")):
        copy_s = bare_copy(path)
        timings = write_floor(path, heap_only=heap_only)
        total = sum(timings.values())
        print(f"floor: bare INSERT … SELECT of the same rows into {label}: {total:.2f} s, "
              f"ratio to bare COPY ({copy_s:.2f} s): {total / copy_s:.2f}")  # fmt: skip
        for step, seconds in timings.items():
            print(f"  {step}: {seconds:.2f} s")


def compare(tmp: Path, rows: int) -> None:
    """The same small file through the PostgreSQL COPY path and the portable batched (bulk ORM) path."""
    path = tmp / "small.csv"
    generate(path, rows)
    timings = {}
    for label, use_copy in (("COPY + set-based SQL", True), ("batched bulk ORM (portable path)", False)):
        reset()
        started = time.perf_counter()
        contacts_import_csv(path=path, use_copy=use_copy)
        timings[label] = time.perf_counter() - started
    for label, seconds in timings.items():
        print(f"{rows:,} rows via {label}: {seconds:.2f} s ({rows / seconds:,.0f} rows/s)")


if __name__ == "__main__":
    main()
