"""What /metrics costs: the per-request counter update on the hot paths (multiprocess mode, as
under gunicorn) against a baseline in the same process, and one full scrape with the database
gauges.

    .venv/bin/python bench/metrics.py [--calls 200000] [--single]   (--single: one process, no multiprocess files)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_ops .venv/bin/python bench/metrics.py

The scrape needs a migrated database (it runs the gauge queries against whatever is there).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if "--single" not in sys.argv:  # (must be decided before prometheus_client is imported)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="madansara-bench-metrics-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")

import django

django.setup()

from madansara.metrics import TRACKER_EVENTS, exposition, http_observe


def per_call(function, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--single", action="store_true")
    args = parser.parse_args()

    def baseline():
        time.perf_counter()

    def request():
        http_observe(route="website-ingest", method="POST", status=202, started=time.perf_counter())
        TRACKER_EVENTS.labels("accepted").inc(20)

    rounds = [(per_call(baseline, args.calls), per_call(request, args.calls)) for _ in range(5)]
    base = statistics.median(r[0] for r in rounds)
    cost = statistics.median(r[1] for r in rounds)
    print(f"multiprocess dir: {os.environ.get('PROMETHEUS_MULTIPROC_DIR', '(none: single process)')}")
    print(f"baseline call: {base:.2f} µs; tracker request instrumentation: {cost:.2f} µs (+{cost - base:.2f} µs)")
    from madansara.metrics import declared_gauge_functions

    for function in declared_gauge_functions():
        started = time.perf_counter()
        function()
        print(f"  gauge {function.__module__}.{function.__name__}: {(time.perf_counter() - started) * 1000:.1f} ms")
    scrapes = []
    for _ in range(5):
        started = time.perf_counter()
        body = exposition(with_database=True)
        scrapes.append(time.perf_counter() - started)
    print(f"full scrape with database gauges: median {statistics.median(scrapes) * 1000:.1f} ms, {len(body)} bytes")


if __name__ == "__main__":
    main()
