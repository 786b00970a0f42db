"""A dispatcher process for the SIGKILL test: `python dispatch_worker.py <fake server url>`
(DATABASE_URL points at the test database)."""

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")
    import django

    django.setup()
    from outreach.services.dispatch import outbox_dispatch
    from outreach.tests.fake_provider import CountingProvider

    print(outbox_dispatch(once=True, batch=int(os.environ.get("BATCH", "20")), provider=CountingProvider(sys.argv[1])))
