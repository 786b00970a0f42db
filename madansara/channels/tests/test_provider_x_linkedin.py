"""X DMs (API v2) and LinkedIn messages through httpx against local fake APIs on 127.0.0.1."""

import json
import time

import pytest
from werkzeug import Response

from madansara.channels.models import AttemptOutcome
from madansara.channels.providers.linkedin import LinkedInProvider
from madansara.channels.providers.x import XProvider
from madansara.channels.services import message_send
from madansara.channels.tests.conftest import wait_for_requests

pytestmark = pytest.mark.django_db


@pytest.fixture
def x_api(settings, httpserver, memory_rate_limits):
    settings.X_BEARER_TOKEN = "x-token"
    settings.X_API_URL = httpserver.url_for("/2").rstrip("/")
    settings.CHANNEL_HTTP_TIMEOUT = 0.2
    return httpserver


@pytest.fixture
def linkedin_api(settings, httpserver, memory_rate_limits):
    settings.LINKEDIN_ACCESS_TOKEN = "li-token"
    settings.LINKEDIN_API_URL = httpserver.url_for("/rest").rstrip("/")
    settings.CHANNEL_HTTP_TIMEOUT = 0.2
    return httpserver


def test_x_dm_to_a_handle_resolves_the_user_then_sends(x_api, make_message):
    x_api.expect_ordered_request("/2/users/by/username/ada").respond_with_json(
        {"data": {"id": "42", "username": "ada"}}
    )
    x_api.expect_ordered_request("/2/dm_conversations/with/42/messages", method="POST").respond_with_json(
        {"data": {"dm_conversation_id": "1-42", "dm_event_id": "dm-9"}}, status=201
    )

    attempt = message_send(message=make_message(channel="x", to="ada", text="hey"), provider=XProvider())

    assert attempt.outcome == AttemptOutcome.SUCCESS and attempt.provider_message_id == "dm-9"
    assert json.loads(x_api.log[1][0].get_data()) == {"text": "hey"}


def test_x_429_uses_the_rate_limit_reset_and_holds_back_every_worker(x_api, make_message):
    reset = int(time.time()) + 120
    x_api.expect_request("/2/dm_conversations/with/42/messages").respond_with_json(
        {"title": "Too Many Requests", "detail": "Too Many Requests"},
        status=429,
        headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
    )

    attempt = message_send(message=make_message(channel="x", to="42"), provider=XProvider())
    assert attempt.outcome == AttemptOutcome.TRANSIENT and 100 < attempt.retry_after <= 120

    blocked = message_send(message=make_message(channel="x", to="42"), provider=XProvider())
    assert blocked.error_code == "rate_limited"
    assert len(x_api.log) == 1


def test_x_per_user_bucket_limits_bursts(x_api, make_message):
    counter = iter(range(100))
    x_api.expect_request("/2/dm_conversations/with/42/messages").respond_with_handler(
        lambda request: Response(json.dumps({"data": {"dm_event_id": f"dm-{next(counter)}"}}), status=201)
    )
    outcomes = [
        message_send(message=make_message(channel="x", to="42"), provider=XProvider()).error_code for _ in range(16)
    ]

    assert outcomes[:15] == [""] * 15  # the burst of 15 per 15 minutes
    assert outcomes[15] == "rate_limited"


@pytest.mark.parametrize(("status", "outcome"), [(403, AttemptOutcome.PERMANENT), (503, AttemptOutcome.TRANSIENT)])
def test_x_errors(x_api, make_message, status, outcome):
    x_api.expect_request("/2/dm_conversations/with/42/messages").respond_with_json({"title": "err"}, status=status)

    assert message_send(message=make_message(channel="x", to="42"), provider=XProvider()).outcome == outcome


def test_x_timeout_is_transient(x_api, make_message):
    x_api.expect_request("/2/dm_conversations/with/42/messages").respond_with_handler(
        lambda request: time.sleep(0.4) or Response("{}", status=201)
    )

    attempt = message_send(message=make_message(channel="x", to="42"), provider=XProvider())

    assert (attempt.outcome, attempt.error_code) == (AttemptOutcome.TRANSIENT, "timeout")
    wait_for_requests(x_api, 1)


def test_linkedin_refuses_anything_a_human_did_not_approve(linkedin_api, make_message):
    message = make_message(channel="linkedin", to="urn:li:person:abc", text="Automated hello")

    attempt = message_send(message=message, provider=LinkedInProvider())

    assert (attempt.outcome, attempt.error_code) == (AttemptOutcome.PERMANENT, "approval_required")
    assert linkedin_api.log == []


def test_linkedin_sends_a_human_approved_message(linkedin_api, make_message):
    linkedin_api.expect_request("/rest/messages", method="POST").respond_with_data(
        "", status=201, headers={"x-restli-id": "urn:li:message:1"}
    )
    message = make_message(channel="linkedin", to="urn:li:person:abc", text="Hi", human_approved=True)

    attempt = message_send(message=message, provider=LinkedInProvider())

    request = linkedin_api.log[0][0]
    assert attempt.outcome == AttemptOutcome.SUCCESS and attempt.provider_message_id == "urn:li:message:1"
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert json.loads(request.get_data())["recipients"] == ["urn:li:person:abc"]


@pytest.mark.parametrize(
    ("status", "headers", "outcome", "retry_after"),
    [
        (422, {}, AttemptOutcome.PERMANENT, None),
        (429, {"Retry-After": "9"}, AttemptOutcome.TRANSIENT, 9.0),
        (502, {}, AttemptOutcome.TRANSIENT, None),
    ],
)
def test_linkedin_errors(linkedin_api, make_message, status, headers, outcome, retry_after):
    linkedin_api.expect_request("/rest/messages").respond_with_json({"message": "nope"}, status=status, headers=headers)
    message = make_message(channel="linkedin", to="urn:li:person:abc", human_approved=True)

    attempt = message_send(message=message, provider=LinkedInProvider())

    assert (attempt.outcome, attempt.retry_after) == (outcome, retry_after)
