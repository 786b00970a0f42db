"""The one retry and backoff policy of every task and loop that calls a provider or retries.

Exponential backoff with jitter, never shorter than the provider's Retry-After, and never longer
than the broker's visibility timeout: Redis hands a task whose countdown outlives it to a second
worker, so the same retry would run twice.
"""

import random
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RetryPolicy:
    """`base` seconds doubled per attempt up to `cap`; at most `max_attempts` attempts in all."""

    base: float
    cap: float
    max_attempts: int

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before attempt `attempt + 1` (attempt counts from 1): jittered in the upper half
        of the exponential ceiling, at least `retry_after`."""
        ceiling = min(self.cap, self.base * (2 ** max(attempt - 1, 0)))
        return max(retry_after or 0.0, random.uniform(ceiling / 2, ceiling))

    def countdown(self, retries: int, retry_after: float | None = None) -> int:
        """A Celery countdown for a task that already retried `retries` times: whole seconds, at
        least 1, below the broker's visibility timeout (a longer wait is taken again on the next
        run: a provider's rate limit is held by the shared bucket, not by the countdown)."""
        seconds = self.delay(retries + 1, retry_after)
        ceiling = max(1, int(settings.QUEUE_VISIBILITY_TIMEOUT * 0.9))
        return max(1, min(ceiling, int(seconds + 0.999)))

    def exhausted(self, attempts: int) -> bool:
        """Have `attempts` attempts used the policy up?"""
        return attempts >= self.max_attempts


# Sends of a message (outbox rows, direct sends, replies, funnel DMs, message_send_task) and of a
# public reply to a social comment.
SEND = RetryPolicy(base=30.0, cap=3600.0, max_attempts=6)
# Processing a stored webhook event.
WEBHOOK = RetryPolicy(base=5.0, cap=900.0, max_attempts=10)
# Classifying an inbound message (LLM calls).
CLASSIFY = RetryPolicy(base=15.0, cap=600.0, max_attempts=5)
# Telling a person a notice (e-mail through the channel layer, the Slack webhook).
NOTIFY = RetryPolicy(base=120.0, cap=3600.0, max_attempts=5)
# A social account's sync (paused by the platform's rate limit).
SYNC = RetryPolicy(base=60.0, cap=3600.0, max_attempts=5)
# Attributing a conversion, when an I/O error (cache, database connection) interrupts it.
ATTRIBUTE = RetryPolicy(base=10.0, cap=600.0, max_attempts=4)
