"""gunicorn settings for the web process (Procfile, Dockerfile, compose.yaml).

Threads let the tracker ingest group concurrent batches into one COPY + commit; one worker
process per core. Prometheus counters of all worker processes meet in PROMETHEUS_MULTIPROC_DIR,
emptied when gunicorn starts and cleaned when a worker exits.
"""

import os
import shutil
import tempfile

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), "madansara-metrics-web"))

# every interface by default: a container's port is reached from outside it
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "24"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 5000  # recycle workers slowly (memory), with jitter so they do not restart together
max_requests_jitter = 500
accesslog = None  # Django logs JSON lines with the request id; no second access log


def on_starting(server):
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
