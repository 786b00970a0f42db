"""Live updates for open pages: the chat widget and the inbox console use the same mechanism.

A writer calls `live_publish(topics=..., kind=..., data=...)`; after its transaction commits one
`LiveEvent` row per topic is inserted. A reader long-polls: `await live_wait(topics=, after=)`
returns the topic's rows with an id above `after`, waiting up to `timeout` seconds for one.

The database is the source of truth; waiting costs no query and no thread per reader. One
daemon thread per process (the `Hub`) looks for new rows every `LIVE_POLL_INTERVAL` seconds
(one indexed query for all readers) and wakes the asyncio futures of the topics that got one.
Under ASGI (uvicorn, `madansara.asgi`) thousands of readers wait in one process; under WSGI
each waiting request holds its thread, which is why the Procfile routes /chat/ and /live/ to
the ASGI process.
"""

import asyncio
import functools
import logging
import threading
from collections import deque
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from madansara.models import LiveEvent

logger = logging.getLogger(__name__)

MAX_EVENTS = 100
# Ids are taken at insert and rows become visible at commit: on PostgreSQL a lower id can
# appear after a higher one. The hub re-reads this many ids back and skips those it has seen.
LOOKBACK = 64


def live_publish(*, topics: list[str], kind: str, data: dict | None = None) -> None:
    """Notify the readers of `topics` once the current transaction commits. The writer's work has
    committed by then: a failed insert (SQLite's file locked past its busy timeout, say) is
    logged by `robust=True` and never turns its request into an error."""
    rows = [LiveEvent(topic=topic[:100], kind=kind[:32], data=data or {}) for topic in topics]
    transaction.on_commit(lambda: LiveEvent.objects.bulk_create(rows), robust=True)


def live_events_since(*, topics: list[str], after: int, limit: int = MAX_EVENTS) -> list[dict]:
    """The topics' events with an id above `after`, oldest first."""
    rows = LiveEvent.objects.filter(topic__in=topics, id__gt=after).order_by("id")[:limit]
    return [
        {"id": row.id, "topic": row.topic, "kind": row.kind, "data": row.data, "at": row.created_at.isoformat()}
        for row in rows
    ]


def live_cursor() -> int:
    """The id of the latest event: where a reader with no history starts."""
    return LiveEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def live_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete events nobody will poll for any more (set-based)."""
    return LiveEvent.objects.filter(created_at__lt=timezone.now() - older_than).delete()[0]


class Hub:
    """Per-process waker: one query per tick for every waiting reader of this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Future]]] = {}
        self._seen: deque[int] = deque(maxlen=4 * LOOKBACK)
        self._seen_set: set[int] = set()
        self._last_id = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="live-hub", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close its database connection (tests, shutdown)."""
        with self._lock:
            thread = self._thread
            self._thread = None
        if thread is not None and thread.is_alive():
            self._stop.set()
            thread.join()

    def register(self, topics: list[str]) -> tuple[asyncio.AbstractEventLoop, asyncio.Future]:
        """A future that completes when one of `topics` gets an event (register before reading)."""
        self._ensure_started()
        loop = asyncio.get_running_loop()
        waiter = (loop, loop.create_future())
        with self._lock:
            for topic in topics:
                self._waiters.setdefault(topic, set()).add(waiter)
        return waiter

    def unregister(self, topics: list[str], waiter) -> None:
        with self._lock:
            for topic in topics:
                waiting = self._waiters.get(topic)
                if waiting is not None:
                    waiting.discard(waiter)
                    if not waiting:
                        del self._waiters[topic]

    @property
    def waiting(self) -> int:
        with self._lock:
            return len({w for waiters in self._waiters.values() for w in waiters})

    def _run(self) -> None:
        try:
            self._last_id = live_cursor()
        except Exception:
            logger.exception("live hub: cannot read the cursor")
        while not self._stop.wait(settings.LIVE_POLL_INTERVAL):
            try:
                self._tick()
            except Exception:
                logger.exception("live hub: poll failed")
                connection.close()
            close_old_connections()
        connection.close()

    def _tick(self) -> None:
        rows = list(
            LiveEvent.objects.filter(id__gt=max(0, self._last_id - LOOKBACK))
            .order_by("id")
            .values_list("id", "topic")[:5000]
        )
        woken = []
        with self._lock:
            for pk, topic in rows:
                if pk in self._seen_set:
                    continue
                if len(self._seen) == self._seen.maxlen:
                    self._seen_set.discard(self._seen[0])
                self._seen.append(pk)
                self._seen_set.add(pk)
                self._last_id = max(self._last_id, pk)
                woken.extend(self._waiters.pop(topic, ()))
        for loop, future in woken:
            loop.call_soon_threadsafe(_complete, future)


def _complete(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(True)


hub = Hub()


def pooled(function):
    """`function` as a coroutine on the event loop's shared thread pool: a waiting request keeps no
    thread (and so no database connection) of its own. The pool's threads keep their connections
    in the ASGI process (a few for thousands of readers); elsewhere (WSGI, tests) each call closes
    its connection, which nothing else would."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            if not settings.LIVE_PERSISTENT_CONNECTIONS:
                connection.close()

    return sync_to_async(run, thread_sensitive=False)


async def live_wait(*, topics: list[str], after: int | None, timeout: float) -> tuple[list[dict], int]:
    """(events of `topics` after `after`, the cursor to poll from next), waiting up to `timeout`
    seconds for the first event. `after` None: from now (the past is read through an API)."""
    if after is None:
        after = await pooled(live_cursor)()
    waiter = hub.register(topics) if timeout > 0 else None
    try:
        events = await pooled(live_events_since)(topics=topics, after=after)
        if not events and waiter is not None:
            try:
                await asyncio.wait_for(asyncio.shield(waiter[1]), timeout)
            except TimeoutError:
                return [], after
            events = await pooled(live_events_since)(topics=topics, after=after)
    finally:
        if waiter is not None:
            hub.unregister(topics, waiter)
    return events, max([after] + [event["id"] for event in events])
