"""Social accounts through the provider layer: the same adapters, HTTP wrapper, timeouts and error
type as sends, against local fake platform APIs on 127.0.0.1."""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug import Response

from madansara.channels.base import ErrorKind, ProviderError
from madansara.channels.providers.linkedin import LinkedInPages
from madansara.channels.providers.meta import InstagramPages
from madansara.channels.providers.sandbox import SandboxPages
from madansara.channels.providers.x import XPages
from madansara.channels.registry import pages_client_for


@dataclass
class Account:
    """What a PagesClient needs of a social account."""

    platform: str
    access_token: str = ""
    external_id: str = "42"
    handle: str = "brand"
    pk: int = 1


@pytest.fixture
def platforms(settings, httpserver):
    settings.META_GRAPH_URL = httpserver.url_for("/v21.0").rstrip("/")
    settings.X_API_URL = httpserver.url_for("/2").rstrip("/")
    settings.LINKEDIN_API_URL = httpserver.url_for("/rest").rstrip("/")
    settings.META_PAGE_ACCESS_TOKEN = settings.X_BEARER_TOKEN = settings.LINKEDIN_ACCESS_TOKEN = ""
    settings.CHANNEL_HTTP_TIMEOUT = 0.3
    return httpserver


def test_an_account_gets_its_platforms_adapter_with_its_token_else_the_environments_else_the_sandbox(
    platforms, settings
):
    assert isinstance(pages_client_for(Account("x", access_token="own")), XPages)
    assert isinstance(pages_client_for(Account("instagram")), SandboxPages)
    settings.META_PAGE_ACCESS_TOKEN = "env"
    client = pages_client_for(Account("instagram"))
    assert isinstance(client, InstagramPages) and client.token == "env"
    assert isinstance(pages_client_for(Account("linkedin", access_token="li")), LinkedInPages)


def test_reads_time_out_after_the_settings_timeout_as_a_transient_error(platforms):
    platforms.expect_request("/2/users/42/tweets").respond_with_handler(
        lambda request: time.sleep(0.6) or Response("{}", status=200)
    )
    client = pages_client_for(Account("x", access_token="tok"))
    started = time.monotonic()
    with pytest.raises(ProviderError) as raised:
        list(client.iter_posts(since=None))
    assert time.monotonic() - started < 0.55
    assert (raised.value.kind, raised.value.code) == (ErrorKind.TRANSIENT, "timeout")
    time.sleep(0.5)  # the fake server answers one request at a time: let it finish this one


@pytest.mark.parametrize(
    ("header", "wait"),
    [({"Retry-After": "30"}, 30.0), ({"x-rate-limit-reset": 600}, 600.0), ({}, 60.0)],
)
def test_a_429_is_rate_limited_with_its_retry_after(platforms, header, wait):
    # x-rate-limit-reset is an epoch: the moment the limit resets
    headers = {k: str(int(time.time()) + v) if k == "x-rate-limit-reset" else v for k, v in header.items()}
    platforms.expect_request("/2/users/42/tweets").respond_with_json({"title": "Too Many"}, status=429, headers=headers)
    with pytest.raises(ProviderError) as raised:
        list(pages_client_for(Account("x", access_token="tok")).iter_posts(since=None))
    assert raised.value.kind == ErrorKind.RATE_LIMITED
    assert wait - 5 <= raised.value.retry_after <= wait


def test_server_errors_are_transient_and_deleted_objects_permanent_and_gone(platforms):
    platforms.expect_oneshot_request("/v21.0/17/comments").respond_with_json({}, status=503)
    platforms.expect_oneshot_request("/v21.0/18/comments").respond_with_json(
        {"error": {"message": "Unsupported get request", "code": 100, "error_subcode": 33}}, status=400
    )
    client = pages_client_for(Account("instagram", access_token="tok"))
    with pytest.raises(ProviderError) as busy:
        list(client.iter_comments(post_external_id="17"))
    with pytest.raises(ProviderError) as gone:
        list(client.iter_comments(post_external_id="18"))
    assert (busy.value.kind, busy.value.code) == (ErrorKind.TRANSIENT, "503")
    assert (gone.value.kind, gone.value.gone) == (ErrorKind.PERMANENT, True)


def test_x_public_reply_and_hidden_reply_wire_format(platforms):
    platforms.expect_request("/2/tweets", method="POST").respond_with_json({"data": {"id": "5001"}}, status=201)
    platforms.expect_request("/2/tweets/2002/hidden", method="PUT").respond_with_json({"data": {"hidden": True}})
    client = pages_client_for(Account("x", access_token="x-tok"))
    assert client.reply_to_comment(comment_external_id="2001", post_external_id="", text="Thanks!") == "5001"
    client.hide_comment(comment_external_id="2002")
    request, _ = platforms.log[0]
    assert json.loads(request.data) == {"text": "Thanks!", "reply": {"in_reply_to_tweet_id": "2001"}}
    assert request.headers["Authorization"] == "Bearer x-tok"
    assert json.loads(platforms.log[1][0].data) == {"hidden": True}


def test_linkedin_pages_send_the_versioned_headers_and_cannot_hide(platforms):
    since = datetime.now(UTC) - timedelta(days=1)
    platforms.expect_request("/rest/posts").respond_with_json({"elements": [], "paging": {"total": 0}})
    client = pages_client_for(Account("linkedin", access_token="li", external_id="urn:li:organization:1"))
    assert list(client.iter_posts(since=since)) == []
    headers = platforms.log[0][0].headers
    assert headers["LinkedIn-Version"] and headers["X-Restli-Protocol-Version"] == "2.0.0"
    with pytest.raises(ProviderError) as raised:
        client.hide_comment(comment_external_id="urn:li:comment:(x,1)")
    assert (raised.value.kind, raised.value.code) == (ErrorKind.PERMANENT, "unsupported")
