"""The Celery app: configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")

app = Celery("madansara")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["madansara.channels"])

from madansara import observability  # noqa: E402  (connects the request-id signals)

observability.connect_celery_signals()

from madansara import metrics  # noqa: E402  (task failure counts, the worker's metrics port)

metrics.connect_celery_signals()
