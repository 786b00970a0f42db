"""Settings from the environment: zero-config defaults and the production profile."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json
import madansara.settings as s  # the module alone: no app loading, so the probe is quick
db = s.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "pool": bool(db.get("OPTIONS", {}).get("pool")), "conn_max_age": db.get("CONN_MAX_AGE"),
    "broker": s.CELERY_BROKER_URL, "cache": s.CACHES["default"]["BACKEND"], "debug": s.DEBUG,
    "hosts": s.ALLOWED_HOSTS, "csrf": s.CSRF_TRUSTED_ORIGINS, "serializer": s.CELERY_TASK_SERIALIZER,
    "soft": s.CELERY_TASK_SOFT_TIME_LIMIT, "hard": s.CELERY_TASK_TIME_LIMIT, "acks_late": s.CELERY_TASK_ACKS_LATE,
    "beat": s.CELERY_BEAT_SCHEDULER, "secure_cookies": s.SESSION_COOKIE_SECURE,
}))
"""
PRODUCTION_ENV = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "madansara.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://madansara.example.com",
    "USE_X_FORWARDED_PROTO": "1",
    "DATABASE_URL": "postgres://madansara:secret@db.internal:5432/madansara",
    "DATABASE_POOL": "1",
    "REDIS_URL": "redis://redis.internal:6379/0",
}


def _run(args: list[str], env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "MADANSARA_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "madansara.settings"}  # fmt: skip
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=base | env, capture_output=True, text=True, timeout=120
    )


def _probe(env, tmp_path) -> dict:
    result = _run(["-c", PROBE], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_zero_config_runs_on_sqlite_with_a_filesystem_broker(tmp_path):
    config = _probe({}, tmp_path)
    assert config["engine"] == "django.db.backends.sqlite3"
    assert config["broker"] == "filesystem://" and (tmp_path / "broker" / "queue").is_dir()
    assert config["cache"].endswith("LocMemCache")
    assert config["debug"] is True and "localhost" in config["hosts"]
    assert (config["serializer"], config["acks_late"]) == ("json", True)
    assert 0 < config["soft"] < config["hard"]
    assert config["beat"] == "django_celery_beat.schedulers:DatabaseScheduler"


def test_production_env_switches_to_postgres_pool_and_redis(tmp_path):
    config = _probe(PRODUCTION_ENV | {"SECRET_KEY": secrets.token_urlsafe(50)}, tmp_path)
    assert config["engine"] == "django.db.backends.postgresql" and config["pool"] is True
    assert config["broker"] == PRODUCTION_ENV["REDIS_URL"] and config["cache"].endswith("RedisCache")
    assert config["debug"] is False and config["secure_cookies"] is True
    assert config["hosts"] == ["madansara.example.com"] and config["csrf"] == ["https://madansara.example.com"]


def test_persistent_connections_without_the_pool(tmp_path):
    env = PRODUCTION_ENV | {"SECRET_KEY": secrets.token_urlsafe(50), "DATABASE_POOL": "0"}
    config = _probe(env, tmp_path)
    assert config["pool"] is False and config["conn_max_age"] == 60


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _run(["-c", PROBE], PRODUCTION_ENV, tmp_path)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_documented_production_profile_passes_check_deploy(tmp_path):
    env = PRODUCTION_ENV | {"SECRET_KEY": secrets.token_urlsafe(50)}
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_profile_with_metrics_and_sentry_passes_check_deploy(tmp_path):
    env = PRODUCTION_ENV | {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "METRICS_TOKEN": secrets.token_urlsafe(32),
        "METRICS_PORT": "9808",
        "SENTRY_DSN": "https://publickey@sentry.example.com/1",
        "NOTIFY_SLACK_WEBHOOK_URL": "https://hooks.slack.example.com/services/T/B/X",
    }
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_image_defaults_with_the_documented_variables_pass_check_deploy(tmp_path):
    """The Dockerfile's ENV plus what README's Railway section asks for."""
    dockerfile = (ROOT / "Dockerfile").read_text().split("AS runtime", 1)[1]
    image_env = dict(re.findall(r"^\s+([A-Z_]+)=(\S+?)\s*\\?$", dockerfile, re.MULTILINE))
    assert image_env["DEBUG"] == "0"
    env = {k: v for k, v in image_env.items() if k not in ("PATH", "MADANSARA_VAR_DIR")} | {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "madansara.up.railway.app",
        "CSRF_TRUSTED_ORIGINS": "https://madansara.up.railway.app",
        "USE_X_FORWARDED_PROTO": "1",
        "DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"],
        "REDIS_URL": PRODUCTION_ENV["REDIS_URL"],
    }
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
