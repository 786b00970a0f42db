"""One attempt record for every provider call: its outcome, classified the same way everywhere.

Every call is a DeliveryAttempt row: message sends through services.record_attempt, the other
operations (a public reply to a comment, hiding one) through operation_attempt_record, which names
the app's object the call was about.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from madansara.channels.base import ProviderError
from madansara.channels.models import AttemptOperation, AttemptOutcome, DeliveryAttempt


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


def operation_attempt_record(
    *, operation: AttemptOperation, target: models.Model, reference: str, provider: str, call: CallResult
) -> DeliveryAttempt:
    """The attempt row of a provider call that is not a message send, about `target` (any model)."""
    if operation == AttemptOperation.SEND:
        raise ValueError("Message sends are recorded by services.record_attempt")
    error = call.error
    return DeliveryAttempt.objects.create(
        operation=operation,
        target=target,
        reference=reference[:255],
        provider=provider,
        outcome=call.outcome,
        error_code=error.code[:64] if error else "",
        error_message=error.message[:500] if error else "",
        retry_after=error.retry_after if error else None,
        latency_ms=call.latency_ms,
        provider_message_id=str(call.value or "")[:255] if error is None else "",
    )
