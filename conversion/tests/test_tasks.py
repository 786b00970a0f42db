"""The attribution task retries an I/O error with the project's one retry policy (ATTRIBUTE)."""

import pytest
from celery.exceptions import Retry

from conversion import tasks
from conversion.models import ConversionEvent, ConversionType
from conversion.tests.conftest import NOW
from madansara.channels.retry import ATTRIBUTE

pytestmark = pytest.mark.django_db


def test_an_io_error_is_retried_with_the_attribute_policy(contact, monkeypatch):
    # given a conversion whose attribution hits an I/O error (the cache went away)
    conversion = ConversionEvent.objects.create(
        external_id="o-1", conversion_type=ConversionType.objects.first(), contact=contact, occurred_at=NOW
    )

    def unreachable(**kwargs):
        raise ConnectionRefusedError("cache unreachable")

    monkeypatch.setattr(tasks.services, "conversions_attribute", unreachable)
    asked = []

    def retry(**kwargs):  # what Celery is asked for, recorded instead of re-running the task
        asked.append(kwargs)
        raise Retry()

    monkeypatch.setattr(tasks.conversion_attribute_task, "retry", retry)
    # when the task runs (its third attempt)
    with pytest.raises(Retry):
        tasks.conversion_attribute_task.apply(args=(conversion.pk,), retries=2).get()
    # then it asked for a retry after the policy's jittered delay for that attempt, at most its attempts
    ceiling = min(ATTRIBUTE.cap, ATTRIBUTE.base * 2**2)
    assert len(asked) == 1 and ceiling / 2 <= asked[0]["countdown"] <= ceiling + 1
    assert isinstance(asked[0]["exc"], OSError)
    assert tasks.conversion_attribute_task.max_retries == ATTRIBUTE.max_attempts - 1
