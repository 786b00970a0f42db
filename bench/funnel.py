"""A 4-step, 14-day funnel over 10,000,000 events vs one full sequential scan of the table.

    createdb -h 127.0.0.1 -U postgres ms_bench_website
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench_website .venv/bin/python bench/funnel.py
    ... bench/funnel.py --seed-only   # only generate the events (reused by later runs)

Events are generated once in SQL (1,000,000 visitors over 60 days, five event names) and
reused by later runs. Prints seconds for the funnel and its ratio to the scan (goal ≤ 3).

Like with like: by default a funnel splits the people over two connections (one per core), so
the headline ratio is against the default full scan, which PostgreSQL runs in parallel (2
workers). The funnel on one connection (WEBSITE_FUNNEL_CONNECTIONS=1) is measured against a
serial scan (max_parallel_workers_per_gather = 0). Scan and funnel runs alternate so that load
from other processes hits both alike; each figure is the best of its runs. BENCH_MODES lists
the other order modes timed once at the end (default "any_order,strict"; empty: none).
"""

import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")

import django

django.setup()

from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings

from website.funnels import FUNNEL_INDEX, FUNNEL_INDEX_SQL, FunnelSpec, funnel_compute
from website.models import Site
from website.partitions import POSTGRES_CREATE, partitions_ensure

EVENTS = int(os.environ.get("BENCH_EVENTS", 10_000_000))
VISITORS = EVENTS // 10
START = datetime(2026, 9, 1, tzinfo=UTC)
DAYS = 60
SECONDARY_INDEXES = [sql for sql in POSTGRES_CREATE if sql.startswith("CREATE INDEX")] + [FUNNEL_INDEX_SQL]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
STEPS = [{"event": "view_product"}, {"event": "add_to_cart"}, {"event": "checkout"}, {"event": "purchase"}]


def timed(fn):
    began = time.perf_counter()
    result = fn()
    return time.perf_counter() - began, result


def ensure_data(site: Site) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM website_event WHERE site_id = %s", [site.pk])
        if cursor.fetchone()[0] >= EVENTS:
            return
        cursor.execute("DELETE FROM website_event WHERE site_id = %s", [site.pk])
        for offset in range(4):
            partitions_ensure(around=date(2026, 9 + offset, 1), months_before=0, months_ahead=0)
        print(f"generating {EVENTS:,} events…", flush=True)
        # Bulk load without the secondary indexes, then build them once (sorted, far faster).
        for statement in SECONDARY_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {statement.split(' ON ')[0].split()[-1]}")
        chunk = 2_000_000
        for first in range(0, EVENTS, chunk):
            # name mix: 70% pageview, 14% view_product, 8% add_to_cart, 5% checkout, 3% purchase
            cursor.execute(
                """
                INSERT INTO website_event (site_id, occurred_at, received_at, name, visitor_id, contact_id,
                    session_id, url, path, referrer, props, device, browser, os, ip)
                SELECT %(site)s, t, t,
                    CASE WHEN r < 0.70 THEN 'pageview' WHEN r < 0.84 THEN 'view_product'
                         WHEN r < 0.92 THEN 'add_to_cart' WHEN r < 0.97 THEN 'checkout' ELSE 'purchase' END,
                    'v' || v, NULL, 's' || v || '-' || (extract(epoch FROM t)::bigint / 1800),
                    'https://shop.example.com/p/' || (g %% 500), '/p/' || (g %% 500), '', '{}'::jsonb,
                    CASE WHEN v %% 3 = 0 THEN 'mobile' ELSE 'desktop' END, 'Chrome', 'Linux', ''
                FROM (
                    SELECT g, random() AS r, (random() * %(visitors)s)::int AS v,
                        %(start)s::timestamptz + random() * make_interval(days => %(days)s) AS t
                    FROM generate_series(%(first)s, %(last)s) g
                ) s
                """,
                {
                    "site": site.pk,
                    "visitors": VISITORS,
                    "start": START,
                    "days": DAYS,
                    "first": first,
                    "last": min(first + chunk, EVENTS) - 1,
                },
            )
            print(f"  {min(first + chunk, EVENTS):,}", flush=True)
        print("building indexes…", flush=True)
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for statement in SECONDARY_INDEXES:
            cursor.execute(statement)
    vacuum_analyze()


def vacuum_analyze() -> None:
    """What autovacuum does to an append-only table: hint bits and the visibility map, which
    both the scan and the funnel's index-only scans rely on."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) website_event")


def scan(parallel: bool):
    with transaction.atomic(), connection.cursor() as cursor:
        if not parallel:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SELECT count(*), sum(length(visitor_id)) FROM website_event")
        return cursor.fetchone()


def compute(spec: FunnelSpec, connections: int):
    with override_settings(WEBSITE_FUNNEL_CONNECTIONS=connections):
        return funnel_compute(spec)


def same(a, b) -> bool:
    return a.steps == b.steps and a.dropped == b.dropped and a.breakdown == b.breakdown


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/funnel.py needs PostgreSQL: set DATABASE_URL")
    call_command("migrate", verbosity=0)  # all apps: post_migrate handlers of other apps need their tables
    site, _ = Site.objects.get_or_create(name="bench-funnel", defaults={"domain": "shop.example.com"})
    ensure_data(site)
    if "--seed-only" in sys.argv:
        return
    with connection.cursor() as cursor:
        cursor.execute(FUNNEL_INDEX_SQL)  # a no-op after migrate; older bench databases get it here
        cursor.execute(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname LIKE 'website_event%%' AND last_vacuum IS NULL AND last_autovacuum IS NULL AND n_live_tup > 0"
        )
        if cursor.fetchone()[0]:
            vacuum_analyze()
    spec = FunnelSpec(
        site_id=site.pk,
        steps=STEPS,
        mode="sequential",
        window=timedelta(days=14),
        start=START,
        end=START + timedelta(days=DAYS - 14),
    )
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    scan(True)  # warm the cache
    serial, parallel, split, single = [], [], [], []
    for _ in range(ROUNDS):
        serial.append(timed(lambda: scan(False))[0])
        parallel.append(timed(lambda: scan(True))[0])
        seconds, result = timed(lambda: compute(spec, 2))
        split.append(seconds)
        seconds, alone = timed(lambda: compute(spec, 1))
        single.append(seconds)
        assert same(result, alone), "one and two connections disagree"
    rows = scan(True)[0]
    print(f"events in table: {rows:,} (funnel index {FUNNEL_INDEX})")
    print(f"full sequential scan: serial {min(serial):.2f} s; parallel (default, 2 workers) {min(parallel):.2f} s")
    print(f"4-step 14-day sequential funnel -> counts {[s['count'] for s in result.steps]}")
    print(
        f"  2 connections (default): {min(split):.2f} s; ratio to the parallel scan {min(split) / min(parallel):.2f}"
        f" (goal <= 3), to the serial scan {min(split) / min(serial):.2f}"
    )
    print(f"  1 connection: {min(single):.2f} s; ratio to the serial scan {min(single) / min(serial):.2f}")
    for mode in os.environ.get("BENCH_MODES", "any_order,strict").split(","):
        if mode:
            seconds, other = timed(lambda mode=mode: compute(FunnelSpec(**{**spec.__dict__, "mode": mode}), 2))
            print(
                f"{mode} funnel, 2 connections: {seconds:.2f} s (ratio to the parallel scan"
                f" {seconds / min(parallel):.2f}) -> {[s['count'] for s in other.steps]}"
            )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
