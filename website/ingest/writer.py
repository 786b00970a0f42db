"""Group commit for tracker batches: one COPY and one durable commit for many concurrent requests.

Each web process has one writer thread. Request threads hand it their validated rows and wait;
the writer takes everything queued, attaches known contacts with one query, stores all of it
with one COPY (autocommit: one statement, one WAL flush) and wakes the requests, which are
acknowledged only then. While a commit is in flight the next requests queue up, so the group
grows with the load and an idle server adds no delay. If the group fails because the database
is unavailable every request spools its own rows (website.ingest.spool); if one batch's data is
refused, the batches are retried one by one so the others are still stored.

The spool is on this host's disk, so this process also drains it: a SpoolDrainer thread starts
when a batch is spooled (or when an earlier run left files behind) and stores the spooled
batches as soon as the database answers again, backing off while it does not.
"""

import logging
import os
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection
from django.utils import timezone

from website import services
from website.classify import Client
from website.ingest import spool

logger = logging.getLogger(__name__)

GROUP_MAX_ROWS = 10_000  # one COPY stays a few MB at most
CONNECTION_CHECK_SECONDS = 1.0


@dataclass(eq=False)
class _Job:
    site_id: int
    rows: list[dict]
    common: dict | None = None  # services.row_common, when the rows do not carry those columns
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class GroupCommitWriter:
    """A per-process writer thread that stores the rows of concurrent requests together."""

    def __init__(self, *, max_rows: int = GROUP_MAX_ROWS) -> None:
        self.max_rows = max_rows
        self._cond = threading.Condition()
        self._queue: list[_Job | None] = []  # None asks the thread to stop
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.groups = 0  # COPY statements issued (for tests and diagnostics)

    def write(self, *, site_id: int, rows: list[dict], common: dict | None = None) -> None:
        """Store rows durably (completed, or with their shared columns in `common`); returns once
        they are committed, raises if they are not."""
        job = _Job(site_id, rows, common)
        with self._cond:
            self._ensure_thread()
            self._queue.append(job)
            self._cond.notify()
        job.done.wait()
        if job.error is not None:
            raise job.error

    def stop(self) -> None:
        """Let the writer finish what is queued, close its database connection and exit (tests, shutdown)."""
        with self._cond:
            thread = self._thread if self._pid == os.getpid() else None
            if thread is None or not thread.is_alive():
                return
            self._queue.append(None)
            self._cond.notify()
        thread.join()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
            self._queue = [job for job in self._queue if self._pid == os.getpid()]  # a fork inherits no waiters
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="website-ingest-writer", daemon=True)
            self._thread.start()

    def _take(self) -> list[_Job] | None:
        """The queued jobs up to max_rows rows (at least one job); None when asked to stop."""
        with self._cond:
            while not self._queue:
                self._cond.wait()
            if self._queue[0] is None:
                self._queue.pop(0)
                return None
            jobs, size = [], 0
            while self._queue and self._queue[0] is not None:
                if jobs and size + len(self._queue[0].rows) > self.max_rows:
                    break
                job = self._queue.pop(0)
                jobs.append(job)
                size += len(job.rows)
            return jobs

    def _run(self) -> None:
        checked_at = 0.0
        while True:
            jobs = self._take()
            if jobs is None:
                connection.close()
                return
            try:
                if time.monotonic() - checked_at > CONNECTION_CHECK_SECONDS:
                    # What a request boundary does (CONN_MAX_AGE, health check), at most once a second:
                    # a health check per group would add a round trip. Errors close the connection at once.
                    connection.close_if_unusable_or_obsolete()
                    checked_at = time.monotonic()
                self._store_group(jobs)
            except BaseException as exc:  # noqa: BLE001 - the writer must outlive any one group
                for job in jobs:
                    job.error = exc
            finally:
                for job in jobs:
                    job.done.set()

    def _store_group(self, jobs: list[_Job]) -> None:
        try:
            _store(jobs)
            self.groups += 1
            return
        except DatabaseError as exc:
            connection.close_if_unusable_or_obsolete()
            if len(jobs) == 1 or isinstance(exc, OperationalError | InterfaceError):
                for job in jobs:
                    job.error = exc
                return
        for job in jobs:  # one batch's data was refused: store the others on their own
            try:
                _store([job])
                self.groups += 1
            except DatabaseError as exc:
                connection.close_if_unusable_or_obsolete()
                job.error = exc


def _store(jobs: list[_Job]) -> None:
    """Attach known contacts, then write every row in one statement (services.rows_write)."""
    services.contacts_attach([(job.site_id, job.rows) for job in jobs])
    services.rows_write([(job.site_id, job.rows, job.common) for job in jobs])


class SpoolDrainer:
    """A per-process thread that stores this host's spooled batches once the database is back."""

    def __init__(self, *, first_delay: float = 1.0, max_delay: float = 30.0, check_every: float = 10.0) -> None:
        self.first_delay, self.max_delay, self.check_every = first_delay, max_delay, check_every
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._checked_at = float("-inf")
        self.flushes = 0  # spool_flush runs (for tests and diagnostics)

    def kick(self) -> None:
        """Make sure the thread runs (after a batch was spooled)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._stop.clear()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="website-spool-drainer", daemon=True)
            self._thread.start()

    def kick_if_pending(self) -> None:
        """Cheap (one directory scan every check_every seconds): start draining files left by an earlier run."""
        now = time.monotonic()
        if now - self._checked_at < self.check_every:
            return
        self._checked_at = now
        if spool.spool_has_pending():
            self.kick()

    def stop(self) -> None:
        """Stop the thread (tests, shutdown); it starts again on the next kick."""
        with self._lock:
            thread = self._thread if self._pid == os.getpid() else None
        if thread is not None and thread.is_alive():
            self._stop.set()
            thread.join()

    def _run(self) -> None:
        delay = self.first_delay
        try:
            while not self._stop.wait(delay):
                try:
                    services.spool_flush()
                except Exception:  # keep draining, whatever one attempt met
                    logger.exception("website spool: drain attempt failed")
                finally:
                    self.flushes += 1
                    connection.close()  # a new connection per attempt: the last one may be dead
                if not spool.spool_has_pending():
                    return
                delay = min(delay * 2, self.max_delay)
        finally:
            connection.close()


_writer = GroupCommitWriter()
_drainer = SpoolDrainer()


def writer_stop() -> None:
    """Stop this process's writer and spool-drainer threads (they restart when needed)."""
    _writer.stop()
    _drainer.stop()


def group_commit_enabled() -> bool:
    """Group commit is used on PostgreSQL outside transactions (setting WEBSITE_INGEST_GROUP_COMMIT)."""
    return settings.WEBSITE_INGEST_GROUP_COMMIT and connection.vendor == "postgresql" and not connection.in_atomic_block


def events_accept(*, site_id: int, rows: list[dict], client: Client, ip: str) -> services.IngestOutcome:
    """Store an accepted batch (group commit), or spool it durably if the database is unavailable.

    Batches with an identify event take services.events_ingest (they stitch contacts in a transaction).
    """
    if not group_commit_enabled() or any(r["name"] == services.IDENTIFY_EVENT for r in rows):
        outcome = services.events_ingest(site_id=site_id, rows=rows, client=client, ip=ip)
        if outcome.spooled:
            _drainer.kick()
        else:
            _drainer.kick_if_pending()
        return outcome
    if not rows:
        return services.IngestOutcome(accepted=0, spooled=False)
    # The columns the request's events share travel once, not copied into every row.
    common = services.row_common(client=client, ip=ip, received_at=timezone.now())
    try:
        _writer.write(site_id=site_id, rows=rows, common=common)
    except DatabaseError as exc:
        if isinstance(exc, IntegrityError):
            raise
        logger.warning("website ingest: database unavailable, spooling %d events (%s)", len(rows), type(exc).__name__)
        for row in rows:
            row.update(common)
        spool.spool_write(site_id=site_id, rows=rows)
        _drainer.kick()
        return services.IngestOutcome(accepted=len(rows), spooled=True)
    _drainer.kick_if_pending()
    services._events_ingested_enqueue(site_id, services._signal_payload(rows))
    return services.IngestOutcome(accepted=len(rows), spooled=False)
