"""Structured JSON logs carrying the request id; no keys or message bodies in them."""

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from madansara.observability import request_id_var
from madansara.tests.factories import key_client, make_user


@pytest.fixture
def json_log():
    """The configured console handler (formatter + filter from settings.LOGGING), writing to a buffer."""
    config = settings.LOGGING
    formatter = logging.config.DictConfigurator(config).configure_custom(dict(config["formatters"]["json"]))
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    handler.addFilter(logging.config.DictConfigurator(config).configure_custom(dict(config["filters"]["request_id"])))
    root = logging.getLogger()
    root.addHandler(handler)
    yield buffer
    root.removeHandler(handler)


def _lines(buffer) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_log_lines_are_json_with_the_request_id(json_log):
    token = request_id_var.set("req-42")
    try:
        logging.getLogger("madansara.test").warning("something happened")
    finally:
        request_id_var.reset(token)
    (line,) = [entry for entry in _lines(json_log) if entry["logger"] == "madansara.test"]
    assert line["level"] == "WARNING" and line["message"] == "something happened"
    assert line["request_id"] == "req-42" and "time" in line


@pytest.mark.django_db
def test_the_request_id_is_taken_from_the_client_or_made_and_echoed(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert made != "bad id with spaces" and len(made) == 32


@pytest.mark.django_db
def test_api_keys_and_message_bodies_never_reach_the_logs(json_log):
    user = make_user("Marketer")
    client, raw = key_client(user, ["contacts:read"])
    client.post("/api/v1/contacts", {"name": "Secret Person", "identities": {"email": "secret@example.com"}},
                format="json")  # fmt: skip  # 403: read-only key, logged as a warning
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}x")
    bad.get("/api/v1/contacts")  # 401, logged as a warning
    text = json_log.getvalue()
    assert "Forbidden" in text or "Unauthorized" in text
    assert raw not in text and "secret@example.com" not in text and "Secret Person" not in text
