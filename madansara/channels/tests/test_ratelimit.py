"""Token buckets shared by workers: database fallback, in-process, and Redis."""

import os

import pytest

from madansara.channels import ratelimit
from madansara.channels.ratelimit import rate_limit_acquire, rate_limit_block, rate_limit_reset


@pytest.fixture(params=["db", "memory", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request, settings, db):
    settings.CHANNEL_RATE_LIMIT_BACKEND = request.param
    if request.param == "redis":
        settings.REDIS_URL = os.environ["REDIS_URL"]
    ratelimit._memory.clear()
    rate_limit_reset(key="test:acct")
    yield request.param
    rate_limit_reset(key="test:acct")


def test_a_burst_is_allowed_then_callers_are_told_how_long_to_wait(backend):
    waits = [rate_limit_acquire(key="test:acct", rate=1.0, burst=3) for _ in range(4)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 0.5 < waits[3] <= 1.0


def test_retry_after_blocks_the_bucket_for_everyone(backend):
    assert rate_limit_acquire(key="test:acct", rate=100.0, burst=100) == 0.0

    rate_limit_block(key="test:acct", seconds=30)

    assert 29 < rate_limit_acquire(key="test:acct", rate=100.0, burst=100) <= 30


def test_buckets_are_per_key(backend):
    rate_limit_block(key="test:acct", seconds=30)

    assert rate_limit_acquire(key="test:other", rate=1.0, burst=1) == 0.0
    rate_limit_reset(key="test:other")


def test_default_backend_follows_redis_url(settings):
    settings.CHANNEL_RATE_LIMIT_BACKEND = ""
    settings.REDIS_URL = ""
    assert ratelimit.backend() == "db"
    settings.REDIS_URL = "redis://127.0.0.1:6379/2"
    assert ratelimit.backend() == "redis"
