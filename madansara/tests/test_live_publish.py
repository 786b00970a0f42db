"""A live event is published even while another connection is writing, and a publish that
cannot be written never turns the writer's committed request into an error.

On SQLite (web, worker and beat share one file) a second writer waits for the first one's
transaction, up to the busy timeout; past it the publish is logged and the request still stands."""

import logging
import threading

import pytest
from django.db import connection, connections, transaction

from madansara.live import live_cursor, live_events_since, live_publish
from madansara.models import LiveEvent

pytestmark = pytest.mark.django_db(transaction=True)

sqlite_only = pytest.mark.skipif(
    "sqlite" not in connection.vendor, reason="SQLite's one-writer file lock and busy timeout"
)


def hold_write_lock(release: threading.Event, holding: threading.Event):
    """Another thread (another connection to the same database file) inside a write transaction
    until `release` is set."""

    def run():
        other = connections["default"]
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN IMMEDIATE")
                holding.set()
                release.wait(10)
                cursor.execute("COMMIT")
        finally:
            other.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert holding.wait(5)
    return thread


@sqlite_only
def test_a_publish_waits_out_another_writer():
    start = live_cursor()
    release, holding = threading.Event(), threading.Event()
    writer = hold_write_lock(release, holding)
    threading.Timer(0.3, release.set).start()

    live_publish(topics=["chat:abc"], kind="message", data={"text": "Do you ship to Canada?"})

    writer.join(5)
    events = live_events_since(topics=["chat:abc"], after=start)
    assert [(e["kind"], e["data"]) for e in events] == [("message", {"text": "Do you ship to Canada?"})]


@sqlite_only
def test_a_publish_that_cannot_be_written_is_logged_not_raised(caplog):
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 100")  # instead of 30 s: the lock outlasts it
    release, holding = threading.Event(), threading.Event()
    writer = hold_write_lock(release, holding)
    try:
        with caplog.at_level(logging.ERROR):
            live_publish(topics=["chat:abc"], kind="message", data={})  # the caller's work stands
    finally:
        release.set()
        writer.join(5)
        connection.close()  # the next test's connection gets the configured timeout back
    assert LiveEvent.objects.count() == 0
    assert any("locked" in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


def test_events_published_inside_a_transaction_appear_after_it_commits():
    start = live_cursor()
    with transaction.atomic():
        live_publish(topics=["queue", "conversation:1"], kind="status", data={"status": "pending"})
        assert live_events_since(topics=["queue"], after=start) == []
    assert [e["topic"] for e in live_events_since(topics=["queue", "conversation:1"], after=start)] == [
        "queue",
        "conversation:1",
    ]
