"""schemathesis over the whole OpenAPI schema, against the Django app through WSGI, on the demo
workspace, as an admin API key with every scope: no response is a server error, every response
matches the schema, and requests that break the schema are refused.

Bounded and deterministic (derandomized, a few examples per operation and mode) so CI stays
fast; `API_FUZZ_EXAMPLES=50` explores further locally.
"""

import io
import os
import time

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import negative_data_rejection, response_schema_conformance

from madansara.models import APIKey
from madansara.services import api_key_create

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "4"))
CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# Bulk upserts answer 200 with a result per item, invalid items reported there (README: REST API).
PER_ITEM_RESULTS = {"POST /api/v1/contacts/bulk"}


def _fuzz(operation, mode, *, headers, key, failures) -> int:
    """Run `EXAMPLES` generated requests of one mode; record failures instead of stopping."""
    ran = 0
    checks = [c for c in CHECKS if not (c is negative_data_rejection and operation.label in PER_ITEM_RESULTS)]

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: every failure is reported as found
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
    def run(case):
        nonlocal ran
        ran += 1
        # the fuzzer may revoke the key it is using (POST /api-keys/{id}/revoke): keep it usable
        APIKey.objects.filter(pk=key.pk).update(revoked_at=None, expires_at=None)
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (Failure, FailureGroup) as exc:  # collected and reported together below
            failures.append(f"{operation.label} [{mode.value}] {case.as_curl_command()}\n{str(exc)[:1500]}")

    try:
        run()
    except Unsatisfiable:  # nothing to break (negative mode, operation without parameters or body)
        pass
    return ran


@pytest.fixture
def connections_kept_across_requests():
    """Calling the WSGI handler directly (not through Django's test client) would run
    close_old_connections at each request's start and end, which drops the test transaction's
    PostgreSQL connection; keep it, as the test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.usefixtures("connections_kept_across_requests")
def test_every_operation_answers_within_its_schema_and_never_with_a_server_error(capsys):
    # given the demo workspace and an admin key with every scope
    call_command("seed_demo", stdout=io.StringIO())
    admin = get_user_model().objects.get(username="admin")
    key, raw = api_key_create(user=admin, name="schemathesis", scopes=["*:write"])
    headers = {"Authorization": f"Bearer {raw}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler(), headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    # when every operation gets generated valid and invalid requests
    started = time.monotonic()
    failures: list[str] = []
    examples = sum(_fuzz(op, mode, headers=headers, key=key, failures=failures) for op in operations for mode in MODES)
    # then there is no server error, no schema violation and no invalid request accepted
    with capsys.disabled():
        print(
            f"\nschemathesis: {len(operations)} operations, {examples} requests "
            f"({EXAMPLES} examples per operation and mode), {len(failures)} failures "
            f"in {time.monotonic() - started:.0f} s"
        )
    assert len(operations) > 100
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)
