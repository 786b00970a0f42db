#!/bin/sh
# The Celery worker (Procfile, Dockerfile, compose.yaml). Its prefork children write Prometheus
# counters to PROMETHEUS_MULTIPROC_DIR; with METRICS_PORT and METRICS_TOKEN set, the main
# process serves them on http://0.0.0.0:$METRICS_PORT/metrics.
set -eu
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/madansara-metrics-worker}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
exec celery -A madansara worker --loglevel=INFO --concurrency="${CELERY_CONCURRENCY:-2}" \
  --max-tasks-per-child="${CELERY_MAX_TASKS_PER_CHILD:-1000}"
