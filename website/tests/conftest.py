import pytest

from website.models import Site
from website.tracker_build import GZIP_BUDGET, build

CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


def pytest_terminal_summary(terminalreporter):
    """Report the tracker's size on every run (the issue asks for it in the test output)."""
    minified, size = build()
    terminalreporter.write_line(
        f"website tracker static/madansara.min.js: {len(minified)} B minified, {size} B gzipped (budget {GZIP_BUDGET} B)"
    )


@pytest.fixture
def site(db):
    return Site.objects.create(
        name="Shop", domain="shop.example.com", allowed_origins=["https://shop.example.com"], respect_dnt=True
    )


@pytest.fixture
def spool_dir(tmp_path, settings):
    settings.WEBSITE_SPOOL_DIR = str(tmp_path / "spool")
    return tmp_path / "spool"


@pytest.fixture(autouse=True)
def _empty_unmanaged_events_table(request):
    """website_event is unmanaged: Django's flush after transactional tests skips it."""
    yield
    from website.ingest.writer import writer_stop

    writer_stop()  # the group-commit thread's own connection must not outlive the test database
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction")
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM website_event")
