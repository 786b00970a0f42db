"""Shared test setup: Celery runs tasks eagerly; PostgreSQL/Redis-only tests skip elsewhere."""

import os

import pytest
from django.conf import settings


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.IS_POSTGRES
    has_redis = bool(os.environ.get("REDIS_URL"))
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    skip_redis = pytest.mark.skip(reason="needs Redis (set REDIS_URL)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not has_redis:
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run in-process in tests unless a test starts a real worker."""
    from madansara.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _clear_cache():
    """Empty this test process's cache. On Redis only its own keys: a FLUSHDB would also wipe
    the broker's queues and the keys of the other test processes sharing the server."""
    from django.core.cache import cache

    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _stop_background_db_threads():
    """Any test may reach the tracker ingest (demo data, live servers): its group-commit thread
    holds its own database connection, which must not outlive the test database."""
    yield
    from madansara.live import hub
    from website.ingest.writer import writer_stop

    writer_stop()
    hub.stop()
