"""Sentry, switched on by SENTRY_DSN, reports errors with the request id and without personal data:
the real SDK sends to a fake Sentry ingest on 127.0.0.1 (a separate process, since the SDK's
integrations patch Django and Celery for the life of the process)."""

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from werkzeug import Response

from madansara.sentry import scrub_event

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
import django
django.setup()
from celery import shared_task
from django.conf import settings
from django.test import Client

settings.ROOT_URLCONF = "probe_urls"

@shared_task
def boom_task(address):
    raise RuntimeError(f"cannot reach {address}")

client = Client(raise_request_exception=False)
response = client.post(
    "/boom",
    {"email": "ada.lovelace@example.com", "body": "my secret order details", "phone": "+14155550100"},
    HTTP_X_REQUEST_ID="req-sentry-42",
    HTTP_COOKIE="sessionid=cookie-value-123",
    HTTP_AUTHORIZATION="Bearer ms_key_secret",
)
print("status", response.status_code)
try:
    boom_task.apply(args=["bob@example.com"])
except RuntimeError:
    pass  # eager tasks propagate (CELERY_TASK_EAGER_PROPAGATES); Sentry saw it first
import sentry_sdk
sentry_sdk.flush(10)
"""
PROBE_URLS = """
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

@csrf_exempt
def boom(request):
    raise ValueError(f"could not reach {request.POST['email']} at {request.POST['phone']}")

urlpatterns = [path("boom", boom)]
"""


def _envelopes(server) -> list[dict]:
    """Every event item of the envelopes the fake ingest received."""
    events = []
    for request, _ in server.log:
        raw = request.get_data()
        if request.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        lines = raw.decode().split("\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def _error_type(event: dict) -> str | None:
    values = (event.get("exception") or {}).get("values") or [{}]
    return values[-1].get("type")


@pytest.fixture
def sentry_ingest(httpserver):
    httpserver.expect_request("/api/1/envelope/", method="POST").respond_with_response(
        Response(json.dumps({"id": "0" * 32}), status=200, content_type="application/json")
    )
    return httpserver


def test_errors_reach_sentry_with_the_request_id_and_without_personal_data(sentry_ingest, tmp_path):
    (tmp_path / "probe_urls.py").write_text(PROBE_URLS)
    dsn = f"http://publickey@127.0.0.1:{sentry_ingest.port}/1"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "madansara.settings",
        "MADANSARA_VAR_DIR": str(tmp_path / "var"),
        "SENTRY_DSN": dsn,
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0 and "status 500" in result.stdout, result.stderr[-3000:]
    deadline = time.monotonic() + 10
    while len(_envelopes(sentry_ingest)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    events = _envelopes(sentry_ingest)

    web = next(e for e in events if _error_type(e) == "ValueError")
    assert web["tags"]["request_id"] == "req-sentry-42"
    assert web["exception"]["values"][-1]["type"] == "ValueError"
    assert web["exception"]["values"][-1]["value"] == "could not reach [scrubbed] at [scrubbed]"
    task = next(e for e in events if _error_type(e) == "RuntimeError")
    assert task["exception"]["values"][-1]["value"] == "cannot reach [scrubbed]"
    everything = json.dumps(events)
    for secret in ("ada.lovelace", "bob@example.com", "my secret order details", "4155550100", "cookie-value-123",
                   "ms_key_secret"):  # fmt: skip
        assert secret not in everything, secret


def test_scrubber_drops_request_data_and_users_and_masks_addresses():
    event = {
        "request": {
            "data": {"text": "hello"},
            "cookies": "a=b",
            "query_string": "email=a@b.example",
            "headers": {"Authorization": "Bearer x", "User-Agent": "ua", "X-Request-ID": "r1"},
        },
        "user": {"id": "7", "email": "a@b.example", "ip_address": "203.0.113.9"},
        "extra": {"contact": "a@b.example"},
        "exception": {"values": [{"type": "ValueError", "value": "to a@b.example or +50937001234"}]},
        "logentry": {"message": "sent to %s", "params": ["c@d.example"]},
        "breadcrumbs": {"values": [{"category": "query", "message": "WHERE email = 'e@f.example'"}]},
    }
    scrubbed = scrub_event(event)
    assert scrubbed["request"] == {"headers": {"User-Agent": "ua", "X-Request-ID": "r1"}}
    assert scrubbed["user"] == {"id": "7"} and "extra" not in scrubbed
    assert scrubbed["exception"]["values"][0]["value"] == "to [scrubbed] or [scrubbed]"
    assert scrubbed["logentry"]["params"] == ["[scrubbed]"]
    assert "e@f.example" not in scrubbed["breadcrumbs"]["values"][0]["message"]


def test_sentry_stays_off_without_a_dsn(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "madansara.settings",
        "MADANSARA_VAR_DIR": str(tmp_path),
    }
    probe = "import django; django.setup(); import sentry_sdk; print(sentry_sdk.get_client().is_active())"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.stdout.strip() == "False", result.stderr
