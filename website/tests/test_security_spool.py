"""Resilience: the tracker spool is drained by the web process that wrote it; bad files are set aside.

Issue #22: the spool lives on the web host's disk but only a Celery worker flushed it, so on a
deployment whose workers run on other hosts the spooled (already acknowledged) events were never
stored; and one unreadable batch file stopped every flush behind it.
"""

import threading

import pytest
from django.db import OperationalError, connection

from website import services
from website.ingest import spool
from website.ingest import writer as ingest_writer
from website.models import WebsiteEvent
from website.tests.test_ingest import event, post
from website.tests.test_ingest_group_commit import rows, wait_until


@pytest.fixture
def drainer(monkeypatch):
    """This process's drainer, with short delays so a test does not wait for seconds."""
    fast = ingest_writer.SpoolDrainer(first_delay=0.05, max_delay=0.2, check_every=0.0)
    monkeypatch.setattr(ingest_writer, "_drainer", fast)
    yield fast
    fast.stop()


class Outage:
    """website.services.events_store fails like a lost database connection while `down`."""

    def __init__(self, monkeypatch):
        self.down = True
        self.store = services.events_store
        monkeypatch.setattr(services, "events_store", self)

    def __call__(self, **kwargs):
        if self.down:
            raise OperationalError("server closed the connection unexpectedly")
        return self.store(**kwargs)


@pytest.mark.django_db(transaction=True)
def test_the_web_process_drains_its_own_spool_when_the_database_is_back(
    client, site, spool_dir, settings, monkeypatch, drainer
):
    settings.WEBSITE_INGEST_GROUP_COMMIT = False  # the request stores (and spools) on any database
    post(client, {"site": site.public_key, "events": [event("known")]})  # the site is cached
    outage = Outage(monkeypatch)

    response = post(client, {"site": site.public_key, "events": [event("a"), event("b")]})
    assert response.json()["spooled"] is True
    wait_until(lambda: drainer.flushes >= 2)  # it keeps trying while the database is away...
    assert len(list(spool.spool_pending())) == 1
    outage.down = False

    # ...and stores the batch once it answers: no worker, no flush call from anyone else
    wait_until(lambda: not spool.spool_has_pending())
    assert sorted(WebsiteEvent.objects.values_list("name", flat=True)) == ["a", "b", "known"]
    wait_until(lambda: not drainer._thread.is_alive())


@pytest.mark.django_db(transaction=True)
def test_files_left_by_an_earlier_run_are_drained_on_the_next_batch(client, site, spool_dir, settings, drainer):
    settings.WEBSITE_INGEST_GROUP_COMMIT = False
    spool.spool_write(site_id=site.pk, rows=rows(3, name="left-over"))

    post(client, {"site": site.public_key, "events": [event("next")]})

    wait_until(lambda: not spool.spool_has_pending())
    assert WebsiteEvent.objects.filter(name="left-over").count() == 3


@pytest.mark.django_db
def test_a_bad_spool_file_is_quarantined_and_does_not_block_the_others(site, spool_dir):
    spool.spool_write(site_id=site.pk, rows=rows(2, name="before"))
    (spool.spool_dir() / "20000101000000000000-zz-corrupt.json").write_text('{"batch_id": "x", "rows": [')
    broken = rows(1, name="broken")
    del broken[0]["url"]
    spool.spool_write(site_id=site.pk, rows=broken)
    bad_date = spool.spool_write(site_id=site.pk, rows=rows(1, name="bad-date"))
    path = spool.spool_dir() / f"{bad_date}.json"
    path.write_text(path.read_text().replace('{"$dt": "', '{"$dt": "not a date'))
    spool.spool_write(site_id=site.pk, rows=rows(3, name="after"))

    assert services.spool_flush() == 5

    assert sorted(set(WebsiteEvent.objects.values_list("name", flat=True))) == ["after", "before"]
    assert list(spool.spool_pending()) == []
    assert len(spool.spool_quarantined()) == 3


@pytest.mark.django_db
def test_an_outage_still_keeps_every_file(site, spool_dir, monkeypatch):
    spool.spool_write(site_id=site.pk, rows=rows(2))
    spool.spool_write(site_id=site.pk, rows=rows(2))
    Outage(monkeypatch)

    assert services.spool_flush() == 0

    assert len(list(spool.spool_pending())) == 2 and spool.spool_quarantined() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_writer_process_drains_the_spool_after_a_real_outage(client, site, spool_dir, drainer):
    import psycopg

    # given the group-commit writer stores batches (it holds its own connection)
    post(client, {"site": site.public_key, "events": [event("first")]})
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
        assert response.json()["spooled"] is True
        wait_until(lambda: drainer.flushes >= 2)
        assert spool.spool_has_pending()
    finally:
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        admin.close()

    # then this process stores the spooled batch by itself once the database is back
    wait_until(lambda: not spool.spool_has_pending(), seconds=20)
    assert sorted(WebsiteEvent.objects.values_list("name", flat=True)) == ["a", "b", "first"]
    assert spool.spool_quarantined() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_batch_postgresql_refuses_is_quarantined(site, spool_dir):
    good = spool.spool_write(site_id=site.pk, rows=rows(2, name="good"))
    refused = rows(1, name="nul")
    refused[0]["referrer"] = "a\x00b"  # PostgreSQL text cannot hold NUL
    spool.spool_write(site_id=site.pk, rows=refused)
    spool.spool_write(site_id=site.pk, rows=rows(1, name="later"))

    stored = services.spool_flush()

    assert stored == 3, good
    assert len(spool.spool_quarantined()) == 1
    assert not spool.spool_has_pending()


def test_threads_are_not_left_running():
    assert not any(t.name == "website-spool-drainer" and t.is_alive() for t in threading.enumerate())
