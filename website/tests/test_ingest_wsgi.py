"""The WSGI fast path for /t/batch (website.ingest.wsgi): the endpoint's checks without Django's stack."""

import gzip
import io
import json
import logging
import sys

import pytest
from django.core.handlers.wsgi import WSGIHandler

from website.ingest import endpoint
from website.ingest.wsgi import TrackerIngestApp
from website.models import WebsiteEvent
from website.tests.conftest import CHROME_UA
from website.tests.test_ingest import ORIGIN, event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app():
    return TrackerIngestApp(WSGIHandler())


def call(app, method="POST", path="/t/batch", body=b"", *, host="testserver", **headers):
    """Run one request through the WSGI app: (status code, headers dict, body bytes)."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "REMOTE_ADDR": "203.0.113.77",
        "CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        **headers,
    }
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"] = int(status.split()[0])
        started["headers"] = dict(response_headers)

    chunks = app(environ, start_response)
    content = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return started["status"], started["headers"], content


def batch_body(site, events, *, compress=True):
    body = json.dumps({"site": site.public_key, "events": events}).encode()
    return gzip.compress(body) if compress else body


def post(app, site, events, *, ua=CHROME_UA, origin=ORIGIN, **headers):
    return call(
        app,
        body=batch_body(site, events),
        HTTP_CONTENT_ENCODING="gzip",
        HTTP_USER_AGENT=ua,
        HTTP_ORIGIN=origin,
        **headers,
    )


def test_a_gzip_batch_is_stored_with_per_event_errors_and_the_usual_headers(app, site):
    # when a gzip batch with one bad event is posted through the fast path
    status, headers, content = post(app, site, [event("a"), {"n": ""}, event("b")], HTTP_X_REQUEST_ID="req-42")
    # then the good events are stored (IP truncated, client parsed) and the bad one is reported
    assert status == 202
    assert json.loads(content) == {
        "accepted": 2,
        "filtered": 0,
        "errors": [{"index": 1, "error": "'n' (event name) is required: 1-100 printable characters."}],
    }
    stored = list(WebsiteEvent.objects.order_by("name").values_list("name", "ip", "browser"))
    assert stored == [("a", "203.0.113.0", "Chrome"), ("b", "203.0.113.0", "Chrome")]
    # and the response carries CORS, the request id and the security headers of the middleware stack
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Vary"] == "Origin"
    assert headers["X-Request-ID"] == "req-42"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(content)


def test_unregistered_origins_are_refused_and_preflights_answered(app, site):
    status, headers, content = post(app, site, [event()], origin="https://evil.example")
    assert status == 403
    assert json.loads(content)["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in headers
    status, headers, _ = call(app, "OPTIONS", HTTP_ORIGIN=ORIGIN)
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert call(app, "OPTIONS", HTTP_ORIGIN="https://evil.example")[0] == 403
    assert WebsiteEvent.objects.count() == 0


def test_size_limits_answer_413(app, site):
    # a declared length over the limit is refused before the body is read
    status, _, content = call(app, body=b"x" * 10, CONTENT_LENGTH=str(10 * 1024 * 1024))
    assert status == 413
    assert json.loads(content)["error"]["code"] == "payload_too_large"
    # and so are more than 500 events
    assert post(app, site, [event()] * 501)[0] == 413
    assert WebsiteEvent.objects.count() == 0


def test_bots_are_filtered_and_bad_bodies_are_400(app, site):
    status, _, content = post(app, site, [event(), event()], ua="python-requests/2.32")
    assert (status, json.loads(content)["filtered"]) == (202, 2)
    status, _, content = call(app, body=b"{not json")
    assert (status, json.loads(content)["error"]["code"]) == (400, "invalid_payload")
    assert call(app, "GET")[0] == 405
    assert WebsiteEvent.objects.count() == 0


def test_other_paths_and_unusual_requests_go_to_django(app, site, settings):
    # other paths are Django's
    status, headers, _ = call(app, "GET", "/healthz")
    assert status == 200
    # a Host outside ALLOWED_HOSTS gets Django's 400, as before
    assert call(app, body=batch_body(site, [event()], compress=False), host="evil.example")[0] == 400
    # a plain-HTTP request when HTTPS is required gets Django's redirect
    settings.SECURE_SSL_REDIRECT = True
    app = TrackerIngestApp(WSGIHandler())  # SecurityMiddleware reads its settings when it is loaded
    status, headers, _ = call(app, body=batch_body(site, [event()], compress=False))
    assert status == 301
    assert headers["Location"].startswith("https://")
    assert WebsiteEvent.objects.count() == 0


def test_behind_a_tls_proxy_the_fast_path_serves_and_sends_hsts(app, site, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    status, headers, _ = post(app, site, [event()], HTTP_X_FORWARDED_PROTO="https")
    assert status == 202
    assert headers["Strict-Transport-Security"].startswith("max-age=3600")
    assert WebsiteEvent.objects.count() == 1


def test_an_unexpected_error_is_a_logged_500_with_a_request_id(app, site, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(endpoint, "batch_reply", broken)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        status, headers, content = post(app, site, [event()])
    assert status == 500
    assert json.loads(content)["error"]["code"] == "server_error"
    assert len(headers["X-Request-ID"]) == 32
    assert "boom" in caplog.text


def test_the_project_wsgi_application_uses_the_fast_path():
    from madansara.wsgi import application

    assert isinstance(application, TrackerIngestApp)
    assert isinstance(application.app, WSGIHandler)
