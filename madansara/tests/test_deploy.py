"""Deployment files: the Procfile's commands really start (serve, consume, schedule), and the
Dockerfile, compose.yaml and Railway configs say the same thing (Docker itself is not run here:
they are checked as files)."""

import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlsplit, urlunsplit
from urllib.request import Request, urlopen

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOKEN = "metrics-" + secrets.token_hex(8)


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_procfile_declares_release_web_chat_worker_and_beat():
    processes = procfile()
    assert set(processes) == {"release", "web", "chat", "worker", "beat"}
    assert processes["chat"].startswith("uvicorn madansara.asgi:application")
    assert "migrate" in processes["release"] and "sync_periodic_tasks" in processes["release"]
    assert processes["web"].startswith("gunicorn madansara.wsgi")
    assert "celery -A madansara worker" in (ROOT / "deploy" / "worker.sh").read_text()
    assert processes["beat"].startswith("celery -A madansara beat")


def test_railway_configs_match_the_procfile():
    processes = procfile()
    web = json.loads((ROOT / "railway.json").read_text())
    assert web["deploy"]["startCommand"] == processes["web"]
    assert web["deploy"]["preDeployCommand"] == [processes["release"]]
    assert web["deploy"]["healthcheckPath"] == "/healthz"
    assert web["build"]["builder"] == "DOCKERFILE"
    worker = json.loads((ROOT / "deploy" / "railway.worker.json").read_text())
    beat = json.loads((ROOT / "deploy" / "railway.beat.json").read_text())
    assert worker["deploy"]["startCommand"] == processes["worker"]
    assert beat["deploy"]["startCommand"] == processes["beat"] and beat["deploy"]["numReplicas"] == 1
    chat = json.loads((ROOT / "deploy" / "railway.chat.json").read_text())
    assert processes["chat"].replace("CHAT_PORT", "PORT") in chat["deploy"]["startCommand"]


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck_and_static_files():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)", text, re.MULTILINE)
    assert [name for _, name in stages] == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    assert "COPY --from=build /venv /venv" in runtime and "collectstatic --no-input" in text.split("AS runtime")[0]
    user = re.search(r"^USER (\S+)", runtime, re.MULTILINE)
    assert user and user.group(1) not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*", runtime, re.MULTILINE) and "/healthz" in runtime.split("HEALTHCHECK", 1)[1]
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", runtime, re.MULTILINE).group(1))
    assert shlex.join(cmd) == procfile()["web"]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var"} <= set(ignored)


def test_compose_runs_web_worker_beat_on_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "release"} <= set(services)
    processes = procfile()
    assert shlex.join(services["web"]["command"]) == processes["web"]
    assert shlex.join(services["worker"]["command"]) == processes["worker"]
    assert shlex.join(services["beat"]["command"]) == processes["beat"]
    assert shlex.join(services["chat"]["command"]) == processes["chat"].replace("${CHAT_PORT:-8001}", "8001")
    assert "8001:8001" in services["chat"]["ports"]
    assert services["release"]["command"][-1] == processes["release"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DEBUG"] == "0" and env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"]
        assert services[name]["depends_on"]["release"]["condition"] == "service_completed_successfully"
    assert services["release"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "8000:8000" in services["web"]["ports"]
    assert services["postgres"]["image"].startswith("postgres:") and services["redis"]["image"].startswith("redis:")


@pytest.mark.django_db
def test_health_checks_pass_in_the_production_profile_from_any_host(client, settings):
    """Docker's HEALTHCHECK calls http://127.0.0.1:8000/healthz and Railway its own host name:
    neither is in ALLOWED_HOSTS nor on HTTPS, and /healthz must still answer 200."""
    settings.ALLOWED_HOSTS, settings.SECURE_SSL_REDIRECT = ["madansara.example.com"], True
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get("/healthz", HTTP_HOST="healthcheck.railway.app").json() == {"status": "ok"}
    assert client.get("/readyz", HTTP_HOST="127.0.0.1:8000").status_code == 400  # everything else is checked
    assert client.get("/readyz", HTTP_HOST="madansara.example.com").status_code == 301


# --- the Procfile's commands, started for real ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    request = Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except HTTPError as exc:
        return exc.code, exc.read().decode()


def _wait(predicate, *, timeout: float, what: str, process=None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.3)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    pytest.fail(f"{what} did not happen within {timeout} s\n{tail}")


def _postgres_url_for_this_test() -> str:
    """A database of this test's own next to the suite's (the release step migrates it)."""
    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    name = parts.path.lstrip("/") + "_procfile"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def procfile_env(tmp_path):
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "madansara.settings",
        "MADANSARA_VAR_DIR": str(tmp_path / "var"),
        "METRICS_TOKEN": TOKEN,
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "INFO",
    }
    if settings.IS_POSTGRES:
        env["DATABASE_URL"] = _postgres_url_for_this_test()
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


class Processes:
    def __init__(self, tmp_path: Path):
        self.tmp_path, self.running = tmp_path, []

    def start(self, name: str, command: str, env: dict) -> tuple[subprocess.Popen, Path]:
        log = self.tmp_path / f"{name}.log"
        handle = open(log, "wb")
        process = subprocess.Popen(
            ["sh", "-c", command], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running.append((process, handle))
        return process, log

    def stop(self):
        for process, handle in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=5)
            handle.close()


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path)
    yield started
    started.stop()


def test_each_procfile_command_starts_and_serves_or_consumes(procfile_env, processes, tmp_path):
    commands = procfile()
    env = procfile_env

    # release: migrates and syncs the periodic jobs, then exits 0
    release = subprocess.run(
        ["sh", "-c", commands["release"]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert release.returncode == 0, release.stdout[-2000:] + release.stderr[-3000:]

    # web: gunicorn answers /healthz and /readyz; /metrics sums its worker processes' counters
    port = _free_port()
    web_env = env | {"PORT": str(port), "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "2",
                     "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics-web")}  # fmt: skip
    web, web_log = processes.start("web", commands["web"], web_env)
    base = f"http://127.0.0.1:{port}"
    _wait(lambda: _get(f"{base}/healthz")[0] == 200, timeout=180, what="web /healthz 200", process=web, log=web_log)
    for _ in range(4):  # spread over both gunicorn processes
        assert _get(f"{base}/readyz")[0] == 200
    assert _get(f"{base}/metrics")[0] == 401
    status, text = _get(f"{base}/metrics", TOKEN)
    assert status == 200, text
    served = re.search(r'madansara_http_requests_total\{method="GET",route="readyz",status="200"\} (\S+)', text)
    assert served and float(served.group(1)) == 4.0, text[:3000]
    assert "madansara_review_queue_drafts 0.0" in text and "madansara_celery_queue_length" in text

    # chat: the ASGI process answers /healthz and a long-poll of the live console (403 anonymous)
    chat_port = _free_port()
    chat, chat_log = processes.start("chat", commands["chat"], env | {"CHAT_PORT": str(chat_port)})
    chat_base = f"http://127.0.0.1:{chat_port}"
    _wait(lambda: _get(f"{chat_base}/healthz")[0] == 200, timeout=120, what="chat /healthz", process=chat, log=chat_log)
    assert _get(f"{chat_base}/live/inbox/poll?wait=0")[0] == 403

    # worker: consumes a task sent to the broker, and serves its own counters on METRICS_PORT
    metrics_port = _free_port()
    worker_env = env | {"CELERY_CONCURRENCY": "1", "METRICS_PORT": str(metrics_port),
                        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics-worker")}  # fmt: skip
    worker, worker_log = processes.start("worker", commands["worker"], worker_env)
    _wait(lambda: "ready" in worker_log.read_text(), timeout=240, what="worker ready", process=worker, log=worker_log)
    sent = subprocess.run(
        [sys.executable, "-c", "from madansara.celery import app; "
         "print(app.send_task('madansara.notifications.tasks.deliveries_send_due_task').id)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    task_id = sent.stdout.strip().splitlines()[-1]
    _wait(
        lambda: re.search(rf"{task_id}\]? succeeded", worker_log.read_text()),
        timeout=180,
        what=f"worker runs task {task_id}",
        process=worker,
        log=worker_log,
    )
    status, text = _get(f"http://127.0.0.1:{metrics_port}/metrics", TOKEN)
    ran = 'madansara_celery_tasks_total{state="SUCCESS",task="madansara.notifications.tasks.deliveries_send_due_task"} 1.0'
    assert status == 200 and ran in text, text
    assert _get(f"http://127.0.0.1:{metrics_port}/metrics")[0] == 401

    # beat: reads the synced jobs from the database and sends one that is due
    overdue = (
        "import django; django.setup(); from datetime import timedelta; from django.utils import timezone; "
        "from django_celery_beat.models import PeriodicTask; "
        "print(PeriodicTask.objects.filter(name='notifications.deliver')"
        ".update(last_run_at=timezone.now() - timedelta(hours=1)))"
    )
    marked = subprocess.run(
        [sys.executable, "-c", overdue], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert marked.stdout.strip().endswith("1"), marked.stderr
    beat, beat_log = processes.start("beat", commands["beat"], env)
    _wait(
        lambda: "Sending due task notifications.deliver" in beat_log.read_text(),
        timeout=180,
        what="beat sends a due job",
        process=beat,
        log=beat_log,
    )
    assert beat.poll() is None, beat_log.read_text()[-3000:]
