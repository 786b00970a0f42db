"""A task enqueued through the real broker is executed by a real worker, carrying the request id."""

import time
import uuid

import pytest
from celery import shared_task
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache

from madansara.celery import app
from madansara.observability import request_id_var


@shared_task(name="madansara.tests.record_side_effect")
def record_side_effect(key: str, value: str) -> None:
    """Test-only task: writes to the shared cache (Redis on this leg) with the request id it saw."""
    from madansara.observability import current_request_id

    cache.set(key, {"value": value, "request_id": current_request_id()}, 60)


@pytest.mark.redis
def test_task_runs_on_a_real_worker_through_redis():
    # given a real worker consuming a queue of its own on the Redis broker
    queue = f"test-{uuid.uuid4().hex[:8]}"
    key = f"side-effect-{queue}"
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", queues=[queue], perform_ping_check=False, shutdown_timeout=10):
        # when a task is enqueued while handling a request with an id
        token = request_id_var.set("req-abc123")
        try:
            record_side_effect.apply_async(args=[key, "done"], queue=queue)
        finally:
            request_id_var.reset(token)
        # then the worker executes it and the request id followed it
        result = None
        for _ in range(100):
            result = cache.get(key)
            if result:
                break
            time.sleep(0.1)
    assert result == {"value": "done", "request_id": "req-abc123"}
    assert app.conf.broker_url.startswith("redis://")


@pytest.mark.skipif(not app.conf.broker_url.startswith("filesystem"), reason="zero-config leg only")
def test_task_runs_on_a_real_worker_through_the_zero_config_filesystem_broker():
    # given the zero-config filesystem broker (no Redis) and a real worker on a queue of its own
    queue = f"test-{uuid.uuid4().hex[:8]}"
    key = f"side-effect-{queue}"
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", queues=[queue], perform_ping_check=False, shutdown_timeout=10):
        record_side_effect.apply_async(args=[key, "done"], queue=queue)  # when enqueued
        result = None
        for _ in range(100):  # then the worker executes it
            if result := cache.get(key):
                break
            time.sleep(0.1)
    assert result == {"value": "done", "request_id": ""}
