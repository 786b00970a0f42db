"""Sustained ingest: gunicorn + PostgreSQL, 50-event gzip batches, vs a plain COPY of the same rows.

    createdb -h 127.0.0.1 -U postgres ms_bench_ingest
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench_ingest .venv/bin/python bench/ingest.py

A load generator (processes x keep-alive connections, each reconnecting every few batches as
browsers do; gzip request bytes prepared up front; one selector loop per process) posts to
`POST /t/batch` served by gunicorn (gthread, `madansara.wsgi:application` as in production, so
through the /t/batch fast path and the group-commit writer) on 127.0.0.1. Events count as stored
only when they are rows in website_event (counted after the run). The baseline COPYs exactly those
rows. The table is vacuumed before each phase, so earlier runs' dead rows slow neither side.
The CPU seconds used by the load generator, gunicorn and its PostgreSQL backends are printed too
(2 shared cores), and the transactions PostgreSQL ran (how many batches shared a COPY and commit).
BENCH_GUNICORN_WORKERS / BENCH_GUNICORN_THREADS / BENCH_CLIENT_PROCESSES / BENCH_CONNECTIONS /
BENCH_REQUESTS_PER_CONNECTION / BENCH_BATCHES change the setup.
"""

import gzip
import json
import os
import random
import selectors
import socket
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from website.models import Site, WebsiteEvent
from website.services import COPY_COLUMNS

BATCHES = int(os.environ.get("BENCH_BATCHES", 6000))
EVENTS_PER_BATCH = 50
PROCESSES = int(os.environ.get("BENCH_CLIENT_PROCESSES", 2))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", 24))  # per process
# Batches per keep-alive connection before the client reconnects (0: never). Browsers send their
# batches over many short-lived connections; with a few long ones the kernel may hand most of
# them to one gunicorn worker.
PER_CONNECTION = int(os.environ.get("BENCH_REQUESTS_PER_CONNECTION", 10))
# The deployment configuration for this endpoint: one gthread worker per core, and enough threads that
# concurrent requests' rows share a commit (website.ingest.writer); they mostly wait for that commit.
WORKERS = os.environ.get("BENCH_GUNICORN_WORKERS", str(os.cpu_count() or 2))
THREADS = os.environ.get("BENCH_GUNICORN_THREADS", "24")
SIGNAL_BUFFER_SECONDS = os.environ.get("WEBSITE_SIGNAL_BUFFER_SECONDS", "1")
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
ORIGIN = "https://bench.example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_bodies(site_key: str, count: int) -> list[bytes]:
    now = int(time.time() * 1000)
    rng = random.Random(1)
    bodies = []
    for b in range(count):
        visitor = f"v{rng.randrange(100_000)}"
        events = [
            {
                "n": rng.choice(["pageview", "pageview", "pageview", "click", "add_to_cart"]),
                "t": now - rng.randrange(3_600_000),
                "u": f"https://bench.example.com/p/{rng.randrange(500)}?utm_source=news",
                "r": "https://www.google.com/",
                "a": visitor,
                "s": f"{visitor}-s{b % 7}",
                "p": {"title": "Product page", "position": rng.randrange(20)},
            }
            for _ in range(EVENTS_PER_BATCH)
        ]
        bodies.append(gzip.compress(json.dumps({"site": site_key, "events": events}).encode()))
    return bodies


def _request(port: int, body: bytes) -> bytes:
    head = (
        f"POST /t/batch HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain\r\n"
        f"Content-Encoding: gzip\r\nUser-Agent: {UA}\r\nOrigin: {ORIGIN}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _post_all(args) -> tuple[int, int, float]:
    """One load-generator process: CONNECTIONS keep-alive connections driven by one selector loop
    (no threads, requests as prepared bytes), so the generator takes as little of the 2 shared
    cores as it can; each connection sends its next batch as soon as the previous one is answered."""
    port, bodies = args
    cpu_began = time.process_time()
    ok = failed = 0
    selector = selectors.DefaultSelector()
    for i in range(CONNECTIONS):
        pending = [_request(port, body) for body in bodies[i::CONNECTIONS]]
        if not pending:
            continue
        pending.reverse()
        sock = _connect(port)
        sock.sendall(pending.pop())
        selector.register(sock, selectors.EVENT_READ, {"pending": pending, "buf": b"", "sent": 1})
    while selector.get_map():
        for key, _ in selector.select():
            sock, state = key.fileobj, key.data
            data = sock.recv(65536)
            if not data:
                raise RuntimeError("the server closed a keep-alive connection")
            buf = state["buf"] + data
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                state["buf"] = buf
                continue
            length = 0
            for line in buf[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(buf) < end + 4 + length:
                state["buf"] = buf
                continue
            if buf[9:12] == b"202":
                ok += 1
            else:
                failed += 1
            state["buf"] = b""
            if state["pending"]:
                if PER_CONNECTION and state["sent"] % PER_CONNECTION == 0:
                    selector.unregister(sock)
                    sock.close()
                    sock = _connect(port)
                    selector.register(sock, selectors.EVENT_READ, state)
                sock.sendall(state["pending"].pop())
                state["sent"] += 1
            else:
                selector.unregister(sock)
                sock.close()
    return ok, failed, time.process_time() - cpu_began


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its direct children (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = task / "children"
        if children.exists():
            pids += [int(c) for c in children.read_text().split()]
    total = 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def backends_cpu() -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend serving this database (the gunicorn workers)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [row[0] for row in cursor.fetchall()]
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = values[3] + values[4]
    return (sum(values) - idle) / tick, sum(values) / tick


def wait_ready(port: int, server: subprocess.Popen) -> None:
    for _ in range(200):
        if server.poll() is not None:
            sys.exit("gunicorn exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("gunicorn did not start")


def _own_backend_cpu() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def copy_baseline(rows: list[tuple]) -> tuple[float, float]:
    """COPY the same rows into the same (partitioned, indexed) table, time it, remove them.

    Returns (wall seconds, CPU seconds of this process and its PostgreSQL backend).
    """
    columns = ", ".join(COPY_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM website_event")
        last_id = cursor.fetchone()[0]
    cpu_began = time.process_time() + _own_backend_cpu()
    began = time.perf_counter()
    with connection.cursor() as cursor, cursor.copy(f"COPY website_event ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    seconds = time.perf_counter() - began
    cpu = time.process_time() + _own_backend_cpu() - cpu_began
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM website_event WHERE id > %s AND site_id = %s", [last_id, rows[0][0]])
    return seconds, cpu


def vacuum() -> None:
    """Start from a table without the dead rows of earlier runs (they slow COPY and ingest alike)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) website_event")


def commits() -> int:
    """Transactions committed in this database so far (PostgreSQL statistics)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def purge_queued_tasks() -> None:
    """No worker ran during the bench: drop the events_ingested tasks it queued."""
    import redis

    redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")).delete("celery")


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/ingest.py needs PostgreSQL: set DATABASE_URL")
    call_command("migrate", verbosity=0)  # all apps: post_migrate handlers of other apps need their tables
    site, _ = Site.objects.get_or_create(
        name="bench-ingest", defaults={"domain": "bench.example.com", "allowed_origins": [ORIGIN], "respect_dnt": False}
    )
    started_at = timezone.now()
    WebsiteEvent.objects.filter(site_id=site.pk).delete()
    vacuum()
    bodies = make_bodies(site.public_key, BATCHES)
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-bench-only-secret-key-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "DATABASE_CONN_MAX_AGE": "600",
        "WEBSITE_SIGNAL_BUFFER_SECONDS": SIGNAL_BUFFER_SECONDS,
        # events_ingested subscribers run in Celery workers (not started here); tasks queue in Redis.
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "madansara.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            WORKERS,
            "--worker-class",
            "gthread",
            "--threads",
            THREADS,
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_ready(port, server)
        # warm-up (connections, imports), not counted
        with Pool(1) as pool:
            pool.map(_post_all, [(port, bodies[:20])])
        WebsiteEvent.objects.filter(site_id=site.pk).delete()
        vacuum()
        with Pool(PROCESSES) as pool:
            commits_before = commits()
            server_cpu = process_tree_cpu(server.pid)
            pg_before = backends_cpu()
            busy, total = machine_busy()
            began = time.perf_counter()
            results = pool.map(_post_all, [(port, bodies[i::PROCESSES]) for i in range(PROCESSES)])
            elapsed = time.perf_counter() - began
            server_cpu = process_tree_cpu(server.pid) - server_cpu
            pg_cpu = sum(cpu - pg_before.get(pid, 0.0) for pid, cpu in backends_cpu().items())
            busy, total = (a - b for a, b in zip(machine_busy(), (busy, total), strict=True))
    finally:
        server.terminate()
        server.wait(timeout=30)
        purge_queued_tasks()
    time.sleep(0.5)  # the server's backends report their statistics as they exit
    run_commits = commits() - commits_before - 2  # less this process's own two statistics queries
    ok = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    client_cpu = sum(r[2] for r in results)
    stored = WebsiteEvent.objects.filter(site_id=site.pk, received_at__gte=started_at).count()
    rows = list(
        WebsiteEvent.objects.filter(site_id=site.pk).values_list(*COPY_COLUMNS[:-5], "props", *COPY_COLUMNS[-4:])
    )
    rows = [(*r[:-5], json.dumps(r[-5]), *r[-4:]) for r in rows]
    copy_seconds, copy_cpu = copy_baseline(rows)
    # The same COPY with the timestamps sent as ISO text (what website.ingest.writer does): psycopg's
    # datetime formatting is most of the client's work in the baseline above.
    text_seconds, _ = copy_baseline([(r[0], r[1].isoformat(), r[2].isoformat(), *r[3:]) for r in rows])
    ingest_rate = stored / elapsed
    copy_rate = len(rows) / copy_seconds
    print(
        f"gunicorn {WORKERS} workers x {THREADS} threads; load: {PROCESSES} processes x {CONNECTIONS} connections, "
        f"{PER_CONNECTION or 'unlimited'} batches per connection"
    )
    print(f"batches: {ok} accepted (202), {failed} failed; events stored: {stored:,} of {BATCHES * EVENTS_PER_BATCH:,}")
    print(f"ingest: {elapsed:.2f} s -> {ingest_rate:,.0f} stored events/s ({ok / elapsed:,.0f} batches/s)")
    print(f"plain COPY of the same {len(rows):,} rows: {copy_seconds:.2f} s -> {copy_rate:,.0f} events/s")
    print(
        f"  (the same COPY with timestamps as ISO text: {text_seconds:.2f} s -> {len(rows) / text_seconds:,.0f} events/s;"
        f" ingest / that = {ingest_rate * text_seconds / len(rows):.2f})"
    )
    print(
        f"PostgreSQL transactions during the ingest: {run_commits:,} (a visitor lookup and a COPY per group:"
        f" about {2 * ok / max(run_commits, 1):.1f} batches per COPY and commit)"
    )
    print(
        f"CPU during the run ({elapsed:.1f} s wall, {os.cpu_count()} cores): load generator {client_cpu:.1f} s,"
        f" gunicorn {server_cpu:.1f} s ({server_cpu / stored * 50_000:.2f} ms per 50-event batch),"
        f" its PostgreSQL backends {pg_cpu:.1f} s, whole machine {busy:.1f} of {total:.1f} s busy"
    )
    ingest_cpu_per_event = (client_cpu + server_cpu + pg_cpu) / stored
    copy_cpu_per_event = copy_cpu / len(rows)
    print(
        f"CPU per event: ingest {ingest_cpu_per_event * 1e6:.0f} us (load generator + gunicorn + backends),"
        f" plain COPY {copy_cpu_per_event * 1e6:.0f} us; on {os.cpu_count()} otherwise idle cores that projects to"
        f" ingest / COPY = {os.cpu_count() * copy_cpu_per_event / ingest_cpu_per_event:.2f}"
        " (COPY is one stream: one core)"
    )
    print(f"ratio ingest / COPY: {ingest_rate / copy_rate:.2f} (goal >= 0.5)")


if __name__ == "__main__":
    main()
