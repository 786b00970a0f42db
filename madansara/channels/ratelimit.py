"""Token buckets per provider account, shared by every worker.

Redis (a Lua script, atomic, using the server's clock) when REDIS_URL is set; otherwise a
database row locked with SELECT … FOR UPDATE (SQLite serialises writers anyway), or an
in-process dict when CHANNEL_RATE_LIMIT_BACKEND=memory. A provider's Retry-After empties the
bucket for everyone with `rate_limit_block`.
"""

import threading
import time
from functools import cache

from django.conf import settings
from django.db import IntegrityError, transaction

from madansara.channels.models import RateLimitBucket

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'blocked')
local blocked = tonumber(data[3]) or 0
if blocked > now then return tostring(blocked - now) end
local tokens = tonumber(data[1]) or burst
local ts = tonumber(data[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 3600)
return tostring(wait)
"""
_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'blocked')) or 0
if until_ > current then redis.call('HSET', KEYS[1], 'blocked', tostring(until_), 'tokens', '0', 'ts', tostring(until_)) end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])) + 3600)
return 1
"""

_memory: dict[str, tuple[float, float, float]] = {}
_memory_lock = threading.Lock()


def backend() -> str:
    """'redis', 'db' or 'memory'."""
    configured = getattr(settings, "CHANNEL_RATE_LIMIT_BACKEND", "")
    if configured:
        return configured
    return "redis" if settings.REDIS_URL else "db"


@cache
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url)


def _refill(tokens: float, ts: float, blocked: float, *, rate: float, burst: int, now: float):
    """(new tokens, wait seconds) after trying to take one token."""
    if blocked > now:
        return tokens, blocked - now
    tokens = min(burst, tokens + max(0.0, now - ts) * rate)
    if tokens >= 1:
        return tokens - 1, 0.0
    return tokens, (1 - tokens) / rate


def rate_limit_acquire(*, key: str, rate: float, burst: int) -> float:
    """Take one token from `key`'s bucket: 0.0 when taken, else the seconds to wait first."""
    kind = backend()
    if kind == "redis":
        client = _redis(settings.REDIS_URL)
        return float(client.eval(_ACQUIRE, 1, f"madansara:rl:{key}", rate, burst))
    now = time.time()
    if kind == "memory":
        with _memory_lock:
            tokens, ts, blocked = _memory.get(key, (burst, now, 0.0))
            tokens, wait = _refill(tokens, ts, blocked, rate=rate, burst=burst, now=now)
            if not wait:
                _memory[key] = (tokens, now, blocked)
            return wait
    return _db_acquire(key=key, rate=rate, burst=burst, now=now)


def _db_acquire(*, key: str, rate: float, burst: int, now: float) -> float:
    for _ in range(2):
        try:
            with transaction.atomic():
                bucket, _ = RateLimitBucket.objects.select_for_update().get_or_create(
                    key=key, defaults={"tokens": burst, "updated": now}
                )
                tokens, wait = _refill(
                    bucket.tokens, bucket.updated, bucket.blocked_until, rate=rate, burst=burst, now=now
                )
                if not wait:
                    RateLimitBucket.objects.filter(key=key).update(tokens=tokens, updated=now)
                return wait
        except IntegrityError:  # two workers created the row at once: the loser reads it
            continue
    return 1.0 / rate


def rate_limit_block(*, key: str, seconds: float) -> None:
    """Hold `key`'s bucket empty for `seconds` for every worker (a provider's Retry-After)."""
    seconds = max(0.0, float(seconds))
    kind = backend()
    if kind == "redis":
        _redis(settings.REDIS_URL).eval(_BLOCK, 1, f"madansara:rl:{key}", seconds)
        return
    until = time.time() + seconds
    if kind == "memory":
        with _memory_lock:
            _memory[key] = (0.0, until, until)
        return

    with transaction.atomic():
        updated = RateLimitBucket.objects.filter(key=key, blocked_until__lt=until).update(
            tokens=0, updated=until, blocked_until=until
        )
        if not updated and not RateLimitBucket.objects.filter(key=key).exists():
            RateLimitBucket.objects.get_or_create(
                key=key, defaults={"tokens": 0, "updated": until, "blocked_until": until}
            )


def rate_limit_reset(*, key: str) -> None:
    """Forget a bucket (tests, admin)."""
    kind = backend()
    if kind == "redis":
        _redis(settings.REDIS_URL).delete(f"madansara:rl:{key}")
    elif kind == "memory":
        with _memory_lock:
            _memory.pop(key, None)
    else:
        RateLimitBucket.objects.filter(key=key).delete()
