"""Each condition raises exactly one notice per window, to the right people: by e-mail through
the channel layer (sandbox provider), to a local fake Slack incoming webhook, and in the admin."""

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from abtesting.models import ABTest, ABTestDecision, DecisionAction
from inbox.models import AIClassification, Conversation, ConversationMessage, SLAEvent
from inbox.services.sla import sla_record_breaches
from madansara.channels.models import AttemptOutcome, DeliveryAttempt, InboundMessage, Message
from madansara.channels.retry import NOTIFY, RetryPolicy
from madansara.models import APIKey
from madansara.notifications import services as notification_services
from madansara.notifications.models import (
    Delivery,
    DeliveryStatus,
    DigestMode,
    NoticeKind,
    Notification,
    NotificationPreference,
)
from madansara.notifications.services import (
    deliveries_send_due,
    digests_send,
    notices_check,
    notify,
    webhook_endpoint_disabled,
)
from madansara.roles import ROLE_ADMIN, ROLE_AGENT, ROLE_MARKETER

pytestmark = pytest.mark.django_db
SLACK_PATH = "/services/T000/B000/secret"


@pytest.fixture
def slack(httpserver, settings):
    """A Slack-compatible incoming webhook on 127.0.0.1 answering 200 "ok" like Slack."""
    settings.NOTIFY_SLACK_WEBHOOK_URL = httpserver.url_for(SLACK_PATH)
    settings.NOTIFY_ADMIN_EMAILS = []
    httpserver.expect_request(SLACK_PATH, method="POST").respond_with_data("ok")
    return httpserver


def slack_texts(server) -> list[str]:
    return [json.loads(request.get_data())["text"] for request, _ in server.log]


@pytest.fixture
def people(django_user_model):
    def person(name, role):
        user = django_user_model.objects.create_user(username=name, email=f"{name}@team.example.com", password="x")
        user.groups.add(Group.objects.get(name=role))
        return user

    return {
        "ana": person("ana", ROLE_AGENT),
        "ben": person("ben", ROLE_AGENT),
        "mia": person("mia", ROLE_MARKETER),
        "root": person("root", ROLE_ADMIN),
    }


def emails_to() -> list[str]:
    """Recipients of notice e-mails the channel layer sent (sandbox provider)."""
    return sorted(Message.objects.filter(source="notification", status="sent").values_list("to", flat=True))


def check(capture, now=None) -> int:
    """One run of the checks at `now`, and of the delivery job (at `now` too: tests move the clock)."""
    with capture(execute=True):
        raised = notices_check(now=now).raised
    deliveries_send_due(now=now)
    return raised


def conversation(*, assignee=None, due_in: timedelta, channel="email") -> Conversation:
    return Conversation.objects.create(
        channel=channel,
        participant="customer@example.org",
        assignee=assignee,
        awaiting_reply=True,
        first_response_due=timezone.now() + due_in,
    )


# --- inbox ----------------------------------------------------------------------------------------


def test_sla_about_to_breach_tells_the_assignee_once(people, slack, django_capture_on_commit_callbacks):
    # given a conversation assigned to Ana whose first reply is due in 10 minutes
    item = conversation(assignee=people["ana"], due_in=timedelta(minutes=10))

    # when the checks run three times (every minute)
    raised = [check(django_capture_on_commit_callbacks) for _ in range(3)]

    # then exactly one notice, e-mailed to Ana only and posted once to Slack
    assert raised == [1, 0, 0]
    notice = Notification.objects.get()
    assert notice.kind == NoticeKind.SLA_AT_RISK and notice.target_id == str(item.pk)
    assert emails_to() == ["ana@team.example.com"]
    texts = slack_texts(slack)
    assert len(texts) == 1 and f"Conversation #{item.pk}" in texts[0] and "customer@example.org" not in texts[0]


def test_unassigned_conversation_goes_to_the_agents_role(people, slack, django_capture_on_commit_callbacks):
    conversation(due_in=timedelta(minutes=5))
    assert check(django_capture_on_commit_callbacks) == 1
    assert emails_to() == ["ana@team.example.com", "ben@team.example.com"]


def test_sla_breach_tells_the_assignee_and_the_admins_once(people, slack, django_capture_on_commit_callbacks):
    # given a conversation whose reply was due a minute ago, breach recorded by the SLA job
    item = conversation(assignee=people["ben"], due_in=timedelta(minutes=-1))
    sla_record_breaches()
    sla_record_breaches()
    assert SLAEvent.objects.filter(conversation=item, met=False).count() == 1

    raised = [check(django_capture_on_commit_callbacks) for _ in range(2)]

    assert raised == [1, 0]
    notice = Notification.objects.get(kind=NoticeKind.SLA_BREACHED)
    assert notice.severity == "critical"
    assert emails_to() == ["ben@team.example.com", "root@team.example.com"]
    assert "[Critical]" in Message.objects.filter(source="notification").first().subject


def _classified(item: Conversation, **flags) -> AIClassification:
    inbound = InboundMessage.objects.create(
        channel=item.channel, sender=item.participant, external_id=f"ext-{item.pk}", text="I will sue you, call me"
    )
    ConversationMessage.objects.create(conversation=item, direction="in", inbound=inbound)
    defaults = {"intent": "complaint", "engine": "local", "confidence": 0.9}
    return AIClassification.objects.create(inbound=inbound, **(defaults | flags))


def test_legal_risk_is_critical_to_assignee_and_admins_without_the_message_text(
    people, slack, django_capture_on_commit_callbacks
):
    item = conversation(assignee=people["ana"], due_in=timedelta(hours=5))
    _classified(item, legal_risk=True, urgency="high")

    assert check(django_capture_on_commit_callbacks) == 1
    assert check(django_capture_on_commit_callbacks) == 0

    notice = Notification.objects.get()
    assert notice.kind == NoticeKind.CONVERSATION_LEGAL_RISK and notice.severity == "critical"
    assert emails_to() == ["ana@team.example.com", "root@team.example.com"]
    sent = Message.objects.filter(source="notification")
    assert all("sue" not in m.text and "sue" not in m.subject for m in sent)
    assert "sue" not in slack_texts(slack)[0]


def test_urgent_conversation_tells_the_assignee(people, slack, django_capture_on_commit_callbacks):
    item = conversation(assignee=people["ben"], due_in=timedelta(hours=5))
    _classified(item, urgency="high")
    _classified(conversation(assignee=people["ana"], due_in=timedelta(hours=5)), urgency="normal")

    assert check(django_capture_on_commit_callbacks) == 1
    assert Notification.objects.get().kind == NoticeKind.CONVERSATION_URGENT
    assert emails_to() == ["ben@team.example.com"]


# --- experiments, providers, outbound webhooks ---------------------------------------------------


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        (DecisionAction.SRM_ALERT, NoticeKind.EXPERIMENT_SRM),
        (DecisionAction.GUARDRAIL_ALERT, NoticeKind.EXPERIMENT_GUARDRAIL),
    ],
)
def test_experiment_alarm_tells_the_marketers_once(people, slack, django_capture_on_commit_callbacks, action, kind):
    test = ABTest.objects.create(key="cta-colour", name="CTA colour", primary_metric="click")
    ABTestDecision.objects.create(test=test, action=action, actor_label="beat", automatic=True, reason="p = 1e-05")

    assert [check(django_capture_on_commit_callbacks) for _ in range(2)] == [1, 0]
    notice = Notification.objects.get()
    assert notice.kind == kind and "cta-colour" in notice.title
    assert emails_to() == ["mia@team.example.com"]


def _attempts(provider: str, outcome: str, count: int, code: str = "", *, at) -> None:
    message = Message.objects.create(channel="email", to="x@example.org")
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(message=message, provider=provider, outcome=outcome, error_code=code, created_at=at)
        for _ in range(count)
    )


def test_failing_provider_tells_the_admins_once_per_hour(people, slack, django_capture_on_commit_callbacks, settings):
    settings.NOTIFY_PROVIDER_MIN_ATTEMPTS = 10
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    # given SendGrid failed 8 of 10 sends, and Twilio's refusals are ours (unsubscribed), not Twilio's
    _attempts("sendgrid", AttemptOutcome.TRANSIENT, 8, "http_500", at=start)
    _attempts("sendgrid", AttemptOutcome.SUCCESS, 2, at=start)
    _attempts("twilio", AttemptOutcome.PERMANENT, 20, "unsubscribed", at=start)

    # when the checks run at the start of the hour and ten minutes later
    raised = [check(django_capture_on_commit_callbacks, now=start + timedelta(minutes=m)) for m in (1, 10)]

    # then one notice for SendGrid in that hour, to the admins; none for Twilio
    assert raised == [1, 0]
    notice = Notification.objects.get()
    assert notice.kind == NoticeKind.PROVIDER_FAILING and "sendgrid" in notice.title and "8 of 10" in notice.title
    assert emails_to() == ["root@team.example.com"]
    # still failing in the next hour: one more notice in that window
    later = start + timedelta(minutes=70)
    _attempts("sendgrid", AttemptOutcome.TRANSIENT, 10, "http_500", at=later)
    assert [check(django_capture_on_commit_callbacks, now=later + timedelta(minutes=m)) for m in (1, 2)] == [1, 0]
    assert Notification.objects.filter(kind=NoticeKind.PROVIDER_FAILING).count() == 2


def test_disabled_webhook_endpoint_tells_admins_and_its_owner(people, slack, django_capture_on_commit_callbacks):
    endpoint = APIKey.objects.create(name="crm-hook", user=people["mia"], prefix="abcd1234", hashed_key="0" * 64)
    with django_capture_on_commit_callbacks(execute=True):
        first = webhook_endpoint_disabled(
            endpoint=endpoint, reason="50 failed deliveries in a row", owner=people["mia"]
        )
        again = webhook_endpoint_disabled(
            endpoint=endpoint, reason="50 failed deliveries in a row", owner=people["mia"]
        )
    assert first is not None and again is None
    assert first.kind == NoticeKind.WEBHOOK_ENDPOINT_DISABLED
    assert emails_to() == ["mia@team.example.com", "root@team.example.com"]
    assert len(slack_texts(slack)) == 1


# --- delivery: quiet hours, digest, admin list, Slack errors ------------------------------------


def _raise(**kwargs) -> Notification:
    defaults = {
        "kind": NoticeKind.PROVIDER_FAILING,
        "key": "provider:x",
        "title": "Provider x is failing",
        "roles": [ROLE_AGENT],
    }
    return notify(**(defaults | kwargs))


def test_quiet_hours_hold_the_email_until_they_end(people, slack):
    # given Ana's quiet hours are 22:00-07:00 in Port-au-Prince (UTC-5) and it is 23:30 there
    NotificationPreference.objects.create(
        user=people["ana"], timezone="America/Port-au-Prince", quiet_start=time(22), quiet_end=time(7)
    )
    night = datetime(2026, 12, 5, 4, 30, tzinfo=UTC)
    _raise(now=night)
    deliveries_send_due(now=night)

    # then Ben (no quiet hours) and Slack get it at once, Ana's e-mail waits until 07:00 her time
    assert emails_to() == ["ben@team.example.com"]
    held = Delivery.objects.get(address="ana@team.example.com")
    assert held.status == DeliveryStatus.HELD and held.deliver_after == datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert deliveries_send_due(now=datetime(2026, 12, 5, 11, 59, tzinfo=UTC)) == 0
    assert deliveries_send_due(now=datetime(2026, 12, 5, 12, 0, tzinfo=UTC)) == 1
    assert emails_to() == ["ana@team.example.com", "ben@team.example.com"]


def test_daily_digest_sends_one_email_listing_the_notices(people, slack, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=people["ana"], digest=DigestMode.DAILY)
    with django_capture_on_commit_callbacks(execute=True):
        _raise(key="provider:a", title="Provider a is failing")
        _raise(key="provider:b", title="Provider b is failing")
    assert emails_to() == ["ben@team.example.com", "ben@team.example.com"]

    assert digests_send() == 1
    assert digests_send() == 0
    digest = Message.objects.get(source="notification", to="ana@team.example.com")
    assert digest.subject == "Madan Sara daily digest: 2 notices"
    assert "Provider a is failing" in digest.text and "Provider b is failing" in digest.text


def test_email_can_be_switched_off_and_admin_list_addresses_always_get_it(
    people, slack, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFY_ADMIN_EMAILS = ["oncall@ops.example.com"]
    NotificationPreference.objects.create(user=people["ben"], email_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        _raise()
    assert emails_to() == ["ana@team.example.com", "oncall@ops.example.com"]


def test_slack_errors_are_retried_or_given_up_by_status(
    people, httpserver, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFY_SLACK_WEBHOOK_URL = httpserver.url_for(SLACK_PATH)
    httpserver.expect_ordered_request(SLACK_PATH).respond_with_data("rate_limited", status=429)
    httpserver.expect_ordered_request(SLACK_PATH).respond_with_data("ok")
    with django_capture_on_commit_callbacks(execute=True):
        _raise(roles=[])
    delivery = Delivery.objects.get(transport="slack")
    assert delivery.status == DeliveryStatus.PENDING and "429" in delivery.error
    assert deliveries_send_due(now=delivery.deliver_after) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2

    httpserver.clear()
    httpserver.expect_request(SLACK_PATH).respond_with_data("no_service", status=404)
    with django_capture_on_commit_callbacks(execute=True):
        _raise(key="provider:y", roles=[])
    gone = Delivery.objects.get(transport="slack", notification__dedup_key__startswith="provider_failing:provider:y")
    assert gone.status == DeliveryStatus.FAILED and "no_service" in gone.error


def test_failed_deliveries_wait_and_give_up_by_the_notify_retry_policy(
    people, httpserver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # given the one retry policy of notices (a short one here, to tell it from any other backoff)
    # and a Slack webhook that keeps failing
    policy = RetryPolicy(base=40.0, cap=50.0, max_attempts=3)
    monkeypatch.setattr(notification_services, "NOTIFY", policy)
    settings.NOTIFY_SLACK_WEBHOOK_URL = httpserver.url_for(SLACK_PATH)
    httpserver.expect_request(SLACK_PATH).respond_with_data("boom", status=500)

    def timed(run) -> tuple:
        started = timezone.now()
        run()
        return started, timezone.now()

    # when the notice is raised, and each retry is run when due
    with django_capture_on_commit_callbacks(execute=True):
        started, ended = timed(lambda: _raise(roles=[]))
    delivery = Delivery.objects.get(transport="slack")
    attempt = 1
    while delivery.status == DeliveryStatus.PENDING:
        # then each retry waits the policy's jittered delay for the attempts made
        ceiling = min(policy.cap, policy.base * 2 ** (attempt - 1))
        assert started + timedelta(seconds=ceiling / 2) <= delivery.deliver_after, attempt
        assert delivery.deliver_after <= ended + timedelta(seconds=ceiling), attempt
        started, ended = timed(lambda: deliveries_send_due(now=delivery.deliver_after))
        delivery.refresh_from_db()
        attempt += 1
        assert attempt <= policy.max_attempts + 1
    # and it gives up after the policy's number of attempts
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == policy.max_attempts
    assert len(httpserver.log) == policy.max_attempts


def test_a_rate_limited_delivery_waits_at_least_the_retry_after(
    people, httpserver, settings, django_capture_on_commit_callbacks
):
    # given Slack answering 429 with a Retry-After longer than the policy's first delay
    settings.NOTIFY_SLACK_WEBHOOK_URL = httpserver.url_for(SLACK_PATH)
    httpserver.expect_request(SLACK_PATH).respond_with_data("rate_limited", status=429, headers={"Retry-After": "1800"})
    # when the notice is raised
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        _raise(roles=[])
    # then its retry waits for the Retry-After, not the policy's two minutes
    delivery = Delivery.objects.get(transport="slack")
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.deliver_after - before >= timedelta(seconds=1800)
    assert NOTIFY.delay(1) < 1800


def test_admin_lists_every_notice_for_admins_and_only_their_own_for_agents(client, people, slack):
    _raise(key="provider:agents", title="For the agents", roles=[ROLE_AGENT])
    _raise(key="provider:marketers", title="For the marketers", roles=[ROLE_MARKETER])
    for user in people.values():
        user.is_staff = True
        user.save()

    client.force_login(people["root"])
    page = client.get("/admin/notifications/notification/").content.decode()
    assert "For the agents" in page and "For the marketers" in page
    client.force_login(people["ana"])
    response = client.get("/admin/notifications/notification/")
    assert response.status_code == 200
    assert "For the agents" in response.content.decode() and "For the marketers" not in response.content.decode()


def test_a_full_batch_never_starves_later_conditions(people, slack, monkeypatch, django_capture_on_commit_callbacks):
    # given checks that raise at most one notice per run, and three conversations about to breach
    from inbox import notices as inbox_notices

    monkeypatch.setattr(inbox_notices, "BATCH", 1)
    for minutes in (5, 10, 15):
        conversation(assignee=people["ana"], due_in=timedelta(minutes=minutes))
    # when the checks run four times, then each conversation was raised once, one per run
    assert [check(django_capture_on_commit_callbacks) for _ in range(4)] == [1, 1, 1, 0]
    assert Notification.objects.filter(kind=NoticeKind.SLA_AT_RISK).count() == 3
