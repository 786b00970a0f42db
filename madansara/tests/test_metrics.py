"""`/metrics`: scraped after real traffic (sends, webhooks, a tracker batch, a classified message
with its draft), every family is there with bounded labels; scrapes without the token are refused."""

import json
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator

from inbox.models import ReplyDraft
from madansara.channels.models import Message
from madansara.channels.providers.sendgrid import SendGridProvider
from madansara.channels.services import message_create, message_send
from website.models import Site

pytestmark = pytest.mark.django_db
TOKEN = "scrape-token-123"
CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict:
    """{(sample name, frozenset(labels)): value} of one authorised scrape."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_is_404_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_scrapes_without_the_right_bearer_token_are_refused(client, metrics_token):
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"}):
        response = client.get("/metrics", **header)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"madansara_" not in response.content


def _twilio_post(client, params, *, signed=True):
    url = "http://testserver/webhooks/twilio/messages"
    signature = RequestValidator("twilio-token").compute_signature(url, params) if signed else "forged"
    return client.post("/webhooks/twilio/messages", data=params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_scrape_after_real_traffic_finds_every_family_with_its_labels(
    client, metrics_token, settings, httpserver, django_capture_on_commit_callbacks
):
    settings.TWILIO_AUTH_TOKEN = "twilio-token"
    before = scrape(client)

    # a send through the sandbox, and one SendGrid refuses with a 500 (a transient failure)
    message_send(message=message_create(channel="email", to="ada@example.com", subject="Hi", text="Hello"))
    settings.SENDGRID_API_KEY, settings.SENDGRID_API_HOST = "SG.key", httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/v3/mail/send", method="POST").respond_with_data("boom", status=500)
    failing = message_create(channel="email", to="bob@example.com", subject="Hi", text="Hello")
    message_send(message=failing, provider=SendGridProvider())
    assert Message.objects.filter(status="sent").count() == 1

    # a signed inbound SMS (stored, processed, classified, drafted) and a forged one (refused)
    inbound = {"MessageSid": "SM-metrics-1", "From": "+14155550100", "To": "+15005550006", "Body": "What is the price?"}
    with django_capture_on_commit_callbacks(execute=True):
        assert _twilio_post(client, inbound).status_code == 200
    assert _twilio_post(client, inbound | {"MessageSid": "SM-x"}, signed=False).status_code == 403
    assert ReplyDraft.objects.filter(status="pending").count() == 1

    # a tracker batch with one good and one bad event
    site = Site.objects.create(name="Shop", domain="shop.example.com", allowed_origins=["https://shop.example.com"])
    good = {"n": "pageview", "t": int(time.time() * 1000), "u": "https://shop.example.com/", "a": "v1", "s": "s1"}
    body = json.dumps({"site": site.public_key, "events": [good, {"n": ""}]})
    response = client.post("/t/batch", data=body, content_type="text/plain", HTTP_USER_AGENT=CHROME_UA)
    assert response.status_code == 202

    after = scrape(client)

    def grew(name, by=1.0, **labels):
        assert value(after, name, **labels) - value(before, name, **labels) == by, (name, labels)

    grew("madansara_channel_sends_total", channel="email", provider="sandbox", outcome="success")
    grew("madansara_channel_sends_total", channel="email", provider="sendgrid", outcome="transient")
    grew("madansara_channel_send_duration_seconds_count", channel="email", provider="sendgrid")
    grew("madansara_webhooks_received_total", provider="twilio", kind="message")
    grew("madansara_webhooks_refused_total", provider="twilio", reason="signature")
    grew("madansara_tracker_events_total", outcome="accepted")
    grew("madansara_tracker_events_total", outcome="rejected")
    grew("madansara_inbox_classifications_total", engine="local", status="done")
    grew("madansara_inbox_drafts_total", engine=ReplyDraft.objects.get().source)
    grew("madansara_http_requests_total", route="webhooks:twilio-messages", method="POST", status="403")
    grew("madansara_http_requests_total", route="website-ingest", method="POST", status="202")
    grew("madansara_http_request_duration_seconds_count", route="website-ingest", method="POST")

    # gauges read from the database at scrape time
    assert value(after, "madansara_review_queue_drafts") == 1
    assert value(after, "madansara_review_queue_oldest_age_seconds") >= 0
    assert ("madansara_conversations_past_sla", frozenset()) in after
    assert ("madansara_outbox_due", frozenset()) in after and ("madansara_outbox_claimed", frozenset()) in after
    assert ("madansara_outbox_oldest_due_age_seconds", frozenset()) in after
    assert value(after, "madansara_experiments_alarm", kind="srm") == 0
    assert ("madansara_experiments_alarm", frozenset({("kind", "guardrail")})) in after
    assert ("madansara_celery_queue_length", frozenset({("queue", "celery")})) in after
    assert ("madansara_webhook_events_unprocessed", frozenset({("status", "pending")})) in after

    # every project family is madansara_…, and no label value is an id, address or phone number
    for (name, labels), _ in after.items():
        if name.startswith(("python_", "process_")):
            continue
        assert name.startswith("madansara_"), name
        for _, label_value in labels:
            assert "@" not in label_value and "+1415" not in label_value and "SM-" not in label_value


def test_unresolved_paths_share_one_route_label(client, metrics_token):
    before = scrape(client)
    for path in ("/no-such-page-1", "/no-such-page-2", "/wp-login.php"):
        client.get(path)
    after = scrape(client)
    labels = {"route": "unmatched", "method": "GET", "status": "404"}
    assert (
        value(after, "madansara_http_requests_total", **labels)
        - value(before, "madansara_http_requests_total", **labels)
        == 3
    )
    assert not any("wp-login" in v for _, labels in after for _, v in labels)
