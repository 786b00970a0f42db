"""One attempt record for every provider call: its outcome, classified the same way everywhere.

Message sends are recorded as DeliveryAttempt rows (services.record_attempt); calls that are not
messages (a public reply to a comment, hiding one) as their app's attempt rows with the same
AttemptOutcome, error code, message and latency.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from madansara.channels.base import ProviderError
from madansara.channels.models import AttemptOutcome


def attempt_outcome(error: ProviderError | None) -> AttemptOutcome:
    """success, permanent or transient (rate limits included) for an error or its absence."""
    if error is None:
        return AttemptOutcome.SUCCESS
    return AttemptOutcome.PERMANENT if error.permanent else AttemptOutcome.TRANSIENT


@dataclass
class CallResult[T]:
    """What one provider call came to: its value or its classified error, and how long it took."""

    value: T | None
    error: ProviderError | None
    latency_ms: int

    @property
    def outcome(self) -> AttemptOutcome:
        return attempt_outcome(self.error)


def provider_call[T](call: Callable[[], T]) -> CallResult[T]:
    """Run one provider call, timed; a ProviderError is returned (classified), never raised."""
    started = time.perf_counter()
    try:
        value, error = call(), None
    except ProviderError as exc:
        value, error = None, exc
    return CallResult(value, error, int((time.perf_counter() - started) * 1000))
