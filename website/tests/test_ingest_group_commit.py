"""Group commit of tracker batches (website.ingest.writer): one COPY and commit for concurrent requests."""

import base64
import threading
import time
import zlib

import orjson
import pytest
from django.db import DataError, connection, connections
from django.utils import timezone

from website import services
from website.classify import parse_client
from website.ingest import spool
from website.ingest import writer as ingest_writer
from website.models import WebsiteEvent, WebsiteVisitor
from website.tests.conftest import CHROME_UA
from website.tests.test_ingest import event, post, report_losses


def rows(count, *, name="pageview", visitor="v-1", url="https://shop.example.com/"):
    now = timezone.now()
    return services._complete_rows(
        [
            {
                "name": name,
                "occurred_at": now,
                "url": url,
                "path": "/",
                "referrer": "",
                "visitor_id": visitor,
                "session_id": "s-1",
                "props": {"i": i},
                "props_json": f'{{"i": {i}}}',
            }
            for i in range(count)
        ],
        client=parse_client(CHROME_UA),
        ip="198.51.100.23",
        received_at=now,
    )


def wait_until(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def write_in_threads(writer, batches):
    """Each (site_id, rows) written from its own thread; returns {index: exception or None}."""
    outcome = {}

    def run(index, site_id, batch):
        try:
            writer.write(site_id=site_id, rows=batch)
            outcome[index] = None
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, s, b)) for i, (s, b) in enumerate(batches)]
    for thread in threads:
        thread.start()
    return threads, outcome


class TableLock:
    """Holds a lock that makes COPY into website_event wait, from a connection of its own."""

    def __enter__(self):
        import psycopg

        params = connection.get_connection_params()
        self.conn = psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=False)
        self.conn.execute("LOCK TABLE website_event IN SHARE MODE")
        return self

    def __exit__(self, *exc):
        self.conn.rollback()
        self.conn.close()


@pytest.fixture
def writer():
    instance = ingest_writer.GroupCommitWriter()
    yield instance
    instance.stop()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_share_one_copy_and_commit(site, writer):
    # given the writer is busy with a first batch (its COPY waits on a table lock)
    with TableLock():
        threads, outcome = write_in_threads(writer, [(site.pk, rows(3, name="first"))])
        wait_until(lambda: writer._queue == [] and threads[0].is_alive())
        time.sleep(0.2)  # the first COPY is now waiting on the lock
        # when four more requests hand over their rows meanwhile
        more, more_outcome = write_in_threads(writer, [(site.pk, rows(5, name=f"b{i}")) for i in range(4)])
        wait_until(lambda: len(writer._queue) == 4)
    for thread in threads + more:
        thread.join(10)
    # then every request was acknowledged after its rows were stored, the four in one COPY
    assert outcome == {0: None}
    assert more_outcome == {0: None, 1: None, 2: None, 3: None}
    assert writer.groups == 2
    assert WebsiteEvent.objects.filter(site_id=site.pk).count() == 23


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refused_batch_does_not_take_its_group_down(site, writer):
    # given a group with a batch PostgreSQL refuses (NUL in a text column) between two good ones
    bad = rows(1, name="bad", url="https://shop.example.com/\x00")
    with TableLock():
        first, _ = write_in_threads(writer, [(site.pk, rows(1, name="warm"))])
        time.sleep(0.2)
        threads, outcome = write_in_threads(writer, [(site.pk, rows(2, name="a")), (site.pk, bad)])
        wait_until(lambda: len(writer._queue) == 2)
        later, later_outcome = write_in_threads(writer, [(site.pk, rows(2, name="c"))])
        wait_until(lambda: len(writer._queue) == 3)
    for thread in first + threads + later:
        thread.join(10)
    # then only the refused batch fails, and the others are stored
    assert outcome[0] is None and later_outcome[0] is None
    assert isinstance(outcome[1], DataError)
    assert sorted(set(WebsiteEvent.objects.values_list("name", flat=True))) == ["a", "c", "warm"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rows_of_identified_visitors_get_their_contact_in_the_group(site, writer):
    from madansara.contacts.models import Contact

    # given one identified visitor and one anonymous one
    contact = Contact.objects.create(name="Ada")
    now = timezone.now()
    WebsiteVisitor.objects.create(
        site=site, anonymous_id="known", contact=contact, first_seen_at=now, last_seen_at=now, identified_at=now
    )
    # when both send events
    writer.write(site_id=site.pk, rows=rows(2, visitor="known") + rows(1, visitor="stranger"))
    # then only the identified visitor's events carry the contact
    stored = dict(WebsiteEvent.objects.values_list("visitor_id", "contact_id").distinct())
    assert stored == {"known": contact.pk, "stranger": None}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_accepted_events_survive_an_outage_of_the_writer_connection(client, site, spool_dir, record_property):
    import psycopg

    # given the writer has stored a batch (it holds its own database connection)
    assert post(client, {"site": site.public_key, "events": [event("first")]}).json() == {
        "accepted": 1,
        "filtered": 0,
        "errors": [],
    }
    database = connection.settings_dict["NAME"]
    params = {k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
    admin = psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True)
    try:
        # when the database stops taking connections and drops the writer's
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
            [database, connection.connection.info.backend_pid],
        )
        response = post(client, {"site": site.public_key, "events": [event("a"), event("b")]})
        # then the batch is acknowledged because it was spooled durably
        assert response.status_code == 202
        assert response.json()["spooled"] is True
        assert len(list(spool.spool_pending())) == 1
    finally:
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        admin.close()
    # and once the database is back the flush stores every accepted event exactly once
    assert services.spool_flush() == 2
    stored = list(WebsiteEvent.objects.values_list("name", flat=True))
    report_losses(record_property, "database unreachable under the group-commit writer", ["a", "b", "first"], stored)
    # and the writer reconnects for the next batch
    assert "spooled" not in post(client, {"site": site.public_key, "events": [event("later")]}).json()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_endpoint_stores_through_the_writer_and_signals_after_commit(client, site, settings):
    from website.signals import events_ingested

    # given a subscriber that looks for the events in the table when it is told about them
    settings.WEBSITE_SIGNAL_BUFFER_SECONDS = 0
    seen = []

    def receiver(sender, site_id, events, **kwargs):
        seen.append((len(events), WebsiteEvent.objects.filter(site_id=site_id).count()))

    events_ingested.connect(receiver)
    try:
        groups = ingest_writer._writer.groups
        # when a batch is posted
        response = post(client, {"site": site.public_key, "events": [event("a"), event("b")]})
    finally:
        events_ingested.disconnect(receiver)
    # then it went through the group-commit writer, and subscribers heard of it after it was stored
    assert response.status_code == 202
    assert ingest_writer._writer.groups == groups + 1
    assert seen == [(2, 2)]
    # and the columns the request's events share were stored on each of them
    stored = WebsiteEvent.objects.filter(site_id=site.pk).values_list("ip", "browser", "device", "received_at")
    assert {(ip, browser, device) for ip, browser, device, _ in stored} == {("203.0.113.0", "Chrome", "desktop")}
    assert len({received_at for *_, received_at in stored}) == 1


@pytest.mark.django_db(transaction=True)
def test_the_writer_stores_on_any_database_and_restarts_after_stop(site, writer):
    # given a writer that stored a batch and was stopped
    writer.write(site_id=site.pk, rows=rows(2))
    writer.stop()
    # when another batch comes
    writer.write(site_id=site.pk, rows=rows(3))
    # then a new thread stored it
    assert WebsiteEvent.objects.filter(site_id=site.pk).count() == 5
    assert writer.groups == 2


@pytest.mark.django_db
def test_inside_a_transaction_batches_are_stored_by_the_request(site, settings):
    # given a caller already in a transaction (the writer's commit could not be part of it)
    settings.WEBSITE_INGEST_GROUP_COMMIT = True
    groups = ingest_writer._writer.groups
    # when a batch is accepted
    outcome = ingest_writer.events_accept(
        site_id=site.pk, rows=rows(2), client=parse_client(CHROME_UA), ip="198.51.100.23"
    )
    # then it is stored in that transaction, not by the writer
    assert outcome.accepted == 2
    assert ingest_writer._writer.groups == groups
    assert WebsiteEvent.objects.count() == 2


@pytest.mark.django_db  # the other apps' receivers read their tables
def test_the_events_ingested_task_takes_the_packed_events_the_ingest_path_publishes():
    from website import tasks
    from website.signals import events_ingested

    received = []

    def receiver(sender, site_id, events, **kwargs):
        received.append((site_id, events))

    # given events packed for the broker as the ingest path does (columns of the stored rows)
    stamp = timezone.now()
    row = {
        "name": "x",
        "visitor_id": "v1",
        "contact_id": None,
        "session_id": "s1",
        "occurred_at": stamp,
        "url": "https://shop.example.com/",
        "props": {"v": 1},
        "ip": "198.51.100.0",  # stored, but not for subscribers
    }
    packed = services.events_pack(services._signal_payload([row]))
    assert len(packed) < 250
    # and a message packed as a list of dicts, as queued before the columnar form existed
    legacy = base64.b64encode(zlib.compress(orjson.dumps([{"name": "z", "occurred_at": stamp, "props": {}}]))).decode()
    events_ingested.connect(receiver)
    try:
        # when the task runs with them
        tasks.events_ingested_task(7, packed=packed)
        tasks.events_ingested_task(9, packed=legacy)
        # and with a plain list, as queued before the packed form existed
        tasks.events_ingested_task(8, [{"name": "y", "occurred_at": stamp.isoformat(), "props": {}}])
    finally:
        events_ingested.disconnect(receiver)
    # then subscribers get the events with aware datetimes either way
    expected = {key: value for key, value in row.items() if key != "ip"}
    assert received == [
        (7, [expected]),
        (9, [{"name": "z", "occurred_at": stamp, "props": {}}]),
        (8, [{"name": "y", "occurred_at": stamp, "props": {}}]),
    ]
