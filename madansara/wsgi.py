import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")
application = get_wsgi_application()

# The tracker endpoint /t/batch skips Django's middleware stack (see website.ingest.wsgi).
from website.ingest.wsgi import TrackerIngestApp  # noqa: E402 - needs the app registry loaded above

application = TrackerIngestApp(application)
