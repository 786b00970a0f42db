import gzip
import json
import time

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from website import services
from website.classify import parse_client
from website.ingest import spool
from website.ingest.identify import identity_hash
from website.models import WebsiteEvent
from website.tests.conftest import CHROME_UA

ORIGIN = "https://shop.example.com"


def event(name="pageview", **overrides):
    data = {
        "n": name,
        "t": int(time.time() * 1000),
        "u": "https://shop.example.com/pricing?utm_source=news",
        "r": "",
        "a": "anon-1",
        "s": "sess-1",
        "p": {},
    }
    data.update(overrides)
    return data


def post(client, payload, *, origin=ORIGIN, ua=CHROME_UA, gzip_body=False, **headers):
    body = json.dumps(payload).encode()
    if gzip_body:
        body = gzip.compress(body)
        headers["HTTP_CONTENT_ENCODING"] = "gzip"
    if origin:
        headers["HTTP_ORIGIN"] = origin
    return client.post(
        "/t/batch", data=body, content_type="text/plain", HTTP_USER_AGENT=ua, REMOTE_ADDR="203.0.113.77", **headers
    )


@pytest.mark.django_db
def test_good_events_are_kept_and_bad_ones_reported_by_index(client, site):
    # given a batch with two good events and two bad ones
    payload = {"site": site.public_key, "events": [event(), {"n": ""}, event("signup"), event(u="ftp://x")]}
    # when it is posted
    response = post(client, payload)
    # then the good ones are stored and each bad one is reported with its index
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 2
    assert [e["index"] for e in body["errors"]] == [1, 3]
    assert sorted(WebsiteEvent.objects.values_list("name", flat=True)) == ["pageview", "signup"]


@pytest.mark.django_db
def test_stored_event_has_truncated_ip_device_and_path(client, site):
    post(client, {"site": site.public_key, "events": [event()]})
    stored = WebsiteEvent.objects.get()
    assert stored.ip == "203.0.113.0"
    assert (stored.device, stored.browser, stored.os) == ("desktop", "Chrome", "Linux")
    assert stored.path == "/pricing"
    assert stored.site_id == site.pk


@pytest.mark.django_db
def test_cors_allows_registered_origin_and_refuses_others(client, site):
    allowed = post(client, {"site": site.public_key, "events": [event()]})
    refused = post(client, {"site": site.public_key, "events": [event()]}, origin="https://evil.example")
    assert allowed["Access-Control-Allow-Origin"] == ORIGIN
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    assert WebsiteEvent.objects.count() == 1


@pytest.mark.django_db
def test_preflight_answers_only_registered_origins(client, site):
    ok = client.options("/t/batch", HTTP_ORIGIN=ORIGIN)
    refused = client.options("/t/batch", HTTP_ORIGIN="https://evil.example")
    assert ok.status_code == 204
    assert ok["Access-Control-Allow-Origin"] == ORIGIN
    assert "Content-Encoding" in ok["Access-Control-Allow-Headers"]
    assert refused.status_code == 403


@pytest.mark.django_db
def test_gzip_bodies_are_accepted(client, site):
    response = post(client, {"site": site.public_key, "events": [event() for _ in range(50)]}, gzip_body=True)
    assert response.status_code == 202
    assert WebsiteEvent.objects.count() == 50


@pytest.mark.django_db
def test_more_than_500_events_is_413(client, site):
    response = post(client, {"site": site.public_key, "events": [event()] * 501})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert WebsiteEvent.objects.count() == 0


@pytest.mark.django_db
def test_gzip_bomb_beyond_the_decompressed_limit_is_413(client, site):
    padding = "x" * 600_000
    response = post(client, {"site": site.public_key, "events": [event(p={"pad": padding})]}, gzip_body=True)
    assert response.status_code == 413


@pytest.mark.django_db
def test_unknown_site_and_invalid_json_are_clear_4xx(client, site):
    assert post(client, {"site": "nope", "events": []}).status_code == 404
    response = client.post("/t/batch", data=b"{not json", content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_payload"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "ua",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36",
        "python-requests/2.32",
        "",
    ],
)
def test_bots_and_headless_browsers_are_filtered(client, site, ua):
    response = post(client, {"site": site.public_key, "events": [event(), event()]}, ua=ua)
    assert response.status_code == 202
    assert response.json()["filtered"] == 2
    assert WebsiteEvent.objects.count() == 0


@pytest.mark.django_db
def test_global_privacy_control_is_honoured_when_the_site_opts_in(client, site):
    post(client, {"site": site.public_key, "events": [event()]}, HTTP_SEC_GPC="1")
    assert WebsiteEvent.objects.count() == 0
    site.respect_dnt = False
    site.save()
    from django.core.cache import cache

    cache.clear()
    post(client, {"site": site.public_key, "events": [event()]}, HTTP_SEC_GPC="1")
    assert WebsiteEvent.objects.count() == 1


@pytest.mark.django_db
def test_cookieless_site_uses_a_daily_hash_not_the_client_id(client, site):
    site.cookieless = True
    site.save()
    post(client, {"site": site.public_key, "events": [event(a="", s="")]})
    stored = WebsiteEvent.objects.get()
    assert stored.visitor_id.startswith("cl_")
    assert stored.session_id == stored.visitor_id


def report_losses(record_property, what: str, accepted: list[str], stored: list[str]) -> None:
    """Count and report (JUnit properties, printed by .ci/run) accepted events lost or stored twice."""
    lost = len(set(accepted) - set(stored))
    duplicated = len(stored) - len(set(stored))
    record_property("lost", lost)
    record_property("duplicated", duplicated)
    print(f"{what}: {len(accepted)} accepted, {lost} lost, {duplicated} duplicated")
    assert (lost, duplicated) == (0, 0) and sorted(stored) == sorted(accepted)


class _DatabaseDown:
    """Makes every query fail the way a lost PostgreSQL connection does."""

    def __init__(self):
        self.down = True

    def __call__(self, execute, sql, params, many, context):
        if self.down:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


@pytest.mark.django_db(transaction=True)
def test_accepted_events_survive_a_database_outage(client, site, spool_dir, settings, record_property):
    # given batches stored by the request itself (the group-commit writer's outage: test_ingest_group_commit)
    settings.WEBSITE_INGEST_GROUP_COMMIT = False
    # and the site is known (cached) and then the database goes away
    post(client, {"site": site.public_key, "events": [event()]})
    outage = _DatabaseDown()
    with connection.execute_wrapper(outage):
        # when two batches arrive during the outage
        first = post(client, {"site": site.public_key, "events": [event("a"), event("b")]})
        second = post(client, {"site": site.public_key, "events": [event("c")]})
        # then they are acknowledged and spooled to disk, and a flush attempt keeps them
        assert first.status_code == second.status_code == 202
        assert first.json()["spooled"] is True
        assert services.spool_flush() == 0
        assert len(list(spool.spool_pending())) == 2
        outage.down = False
    # and once the database is back the flush stores every accepted event exactly once
    assert services.spool_flush() == 3
    assert services.spool_flush() == 0
    stored = list(WebsiteEvent.objects.values_list("name", flat=True))
    report_losses(record_property, "database down while the tracker takes traffic", ["a", "b", "c", "pageview"], stored)


@pytest.mark.django_db
def test_replaying_a_spooled_batch_twice_stores_it_once(site, spool_dir):
    rows = services._complete_rows(
        [
            {
                "name": "x",
                "occurred_at": timezone.now(),
                "url": "https://shop.example.com/",
                "path": "/",
                "referrer": "",
                "visitor_id": "v",
                "session_id": "s",
                "props": {},
            }
        ],
        client=parse_client(CHROME_UA),
        ip="1.2.3.4",
        received_at=timezone.now(),
    )
    batch_id = spool.spool_write(site_id=site.pk, rows=rows)
    batch = spool.spool_read(next(spool.spool_pending()))
    assert services.events_store(site_id=site.pk, rows=batch["rows"], batch_id=batch_id) == 1
    assert services.events_store(site_id=site.pk, rows=batch["rows"], batch_id=batch_id) == 0
    assert WebsiteEvent.objects.count() == 1


@pytest.mark.django_db
def test_stored_events_are_signalled_after_commit(client, site, django_capture_on_commit_callbacks):
    from website.signals import events_ingested

    received = []

    def receiver(sender, site_id, events, **kwargs):
        received.append((site_id, events))

    events_ingested.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post(client, {"site": site.public_key, "events": [event(p={"plan": "pro"})]})
    finally:
        events_ingested.disconnect(receiver)
    assert received[0][0] == site.pk
    assert received[0][1][0]["props"] == {"plan": "pro"}
    assert set(received[0][1][0]) == {"name", "visitor_id", "contact_id", "session_id", "occurred_at", "url", "props"}


@pytest.mark.django_db
def test_a_plain_batch_is_stored_in_one_lookup_and_one_write(client, site, django_assert_num_queries):
    # given the site is known (cached in the process)
    post(client, {"site": site.public_key, "events": [event()]})
    # when a 50-event batch arrives
    with django_assert_num_queries(2):  # identified-visitor lookup + COPY (bulk INSERT on SQLite)
        response = post(client, {"site": site.public_key, "events": [event() for _ in range(50)]}, gzip_body=True)
    # then every event is stored
    assert response.status_code == 202
    assert WebsiteEvent.objects.count() == 51


@pytest.mark.django_db
def test_events_of_an_identified_visitor_carry_the_contact(client, site):
    # given a visitor who identified earlier (signed by the site's server)
    signed = {"id": "ada@example.com", "hash": identity_hash(secret=site.identity_secret, identifier="ada@example.com")}
    post(client, {"site": site.public_key, "events": [event("$identify", a="v-9", p=signed)]})
    # when the same visitor sends a plain batch
    post(client, {"site": site.public_key, "events": [event("pageview", a="v-9")]})
    # then the new event is attributed to the contact
    contact_ids = set(WebsiteEvent.objects.filter(visitor_id="v-9").values_list("contact_id", flat=True))
    assert len(contact_ids) == 1 and None not in contact_ids


@pytest.mark.django_db
def test_buffered_signal_publishes_many_batches_at_once(client, site, settings, django_capture_on_commit_callbacks):
    from website.signals import events_ingested

    # given notifications are buffered (WEBSITE_SIGNAL_BUFFER_SECONDS)
    settings.WEBSITE_SIGNAL_BUFFER_SECONDS = 60
    received = []

    def receiver(sender, site_id, events, **kwargs):
        received.append((site_id, [e["name"] for e in events]))

    events_ingested.connect(receiver)
    try:
        # when two batches are stored
        with django_capture_on_commit_callbacks(execute=True):
            post(client, {"site": site.public_key, "events": [event("a")]})
            post(client, {"site": site.public_key, "events": [event("b"), event("c")]})
        # then nobody is told yet, and one flush tells subscribers about all of them at once
        assert received == []
        assert services.events_ingested_flush() == 3
    finally:
        services.events_ingested_flush()
        events_ingested.disconnect(receiver)
    assert received == [(site.pk, ["a", "b", "c"])]


def test_signal_buffer_publishes_by_itself_after_the_delay(monkeypatch):
    # given a buffer whose publishing is recorded
    published = []
    monkeypatch.setattr(services, "_events_ingested_publish", lambda site_id, events: published.append(len(events)))
    buffer = services._SignalBuffer()
    # when events are added with a short delay and nothing else happens
    buffer.add(7, [{"name": "x"}], 0.05)
    buffer.add(7, [{"name": "y"}], 0.05)
    deadline = time.monotonic() + 5
    while not published and time.monotonic() < deadline:
        time.sleep(0.01)
    # then they were published together, once
    assert published == [2]
    assert buffer.flush() == 0


def test_a_full_signal_buffer_publishes_without_waiting(monkeypatch):
    # given a buffer with a long delay whose publishing is recorded
    published = []
    monkeypatch.setattr(services, "_events_ingested_publish", lambda site_id, events: published.append(len(events)))
    monkeypatch.setattr(services, "SIGNAL_BUFFER_MAX_EVENTS", 3)
    buffer = services._SignalBuffer()
    # when more events than its limit arrive
    buffer.add(7, [{"name": "x"}] * 2, 60)
    buffer.add(7, [{"name": "y"}] * 2, 60)
    # then they are published at once, not a minute later
    assert published == [4]
    assert buffer.timer is None


@pytest.mark.django_db
def test_nul_characters_are_reported_per_event_not_stored(client, site):
    # given NUL characters, which PostgreSQL text and jsonb cannot hold, in a URL and in properties
    events = [
        event("ok"),
        event(u="https://shop.example.com/\x00"),
        event(p={"k": "a\x00b"}),
        event(p={"k": "\\u0000"}),
    ]
    # when the batch is posted
    body = post(client, {"site": site.public_key, "events": events}).json()
    # then those events are reported and the others stored (a literal backslash-u0000 text is fine)
    assert [(e["index"], "NUL" in e["error"]) for e in body["errors"]] == [(1, True), (2, True)]
    assert body["accepted"] == 2
    assert WebsiteEvent.objects.filter(props__k="\\u0000").count() == 1


@pytest.mark.django_db
def test_events_with_values_of_the_wrong_json_type_are_reported(client, site):
    # given events whose name, ids and timestamp are lists, objects, booleans
    events = [event(n=["x"]), event(a={"id": 1}), event(s=[1]), event(t=True), event(), event(n={"x": 1})]
    # when they are posted
    body = post(client, {"site": site.public_key, "events": events}).json()
    # then each is reported by index and the one good event is kept
    assert [e["index"] for e in body["errors"]] == [0, 1, 2, 3, 5]
    assert body["accepted"] == 1
