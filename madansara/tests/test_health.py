"""/healthz and /readyz."""

import pytest
from django.db import connection
from django.db.utils import load_backend

from madansara import views
from madansara.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


def test_readyz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.fixture
def unreachable_database(monkeypatch, tmp_path):
    """A real connection object pointed at a closed port (PostgreSQL) or an unopenable file (SQLite)."""
    settings_dict = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        settings_dict |= {"HOST": "127.0.0.1", "PORT": "1", "CONN_HEALTH_CHECKS": False, "OPTIONS": {}}
        settings_dict["OPTIONS"] = {"connect_timeout": 2}
    else:
        settings_dict["NAME"] = str(tmp_path / "missing-dir" / "db.sqlite3")
        settings_dict["OPTIONS"] = {}
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias="unreachable")
    monkeypatch.setattr(views, "connection", wrapper)
    yield wrapper
    wrapper.close()


def test_readyz_is_503_when_the_database_is_unreachable(client, unreachable_database):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("error:") and body["checks"]["broker"] == "ok"


def test_readyz_is_503_when_the_broker_is_unreachable(client):
    saved = celery_app.conf.broker_url, celery_app.conf.broker_transport
    celery_app.conf.broker_url, celery_app.conf.broker_transport = "redis://127.0.0.1:1/0", None
    try:
        response = client.get("/readyz")
    finally:
        celery_app.conf.broker_url, celery_app.conf.broker_transport = saved
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error:")
