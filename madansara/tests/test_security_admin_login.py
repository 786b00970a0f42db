"""Security: console logins are throttled and locked out (django-axes).

The attack (issue #22): 30 wrong passwords in 20 s against /admin/login/, all answered, with no
throttling or lockout: a password guesser could go on for ever.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from madansara.tests.factories import make_user

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/?next=/admin/"


def attempt(client, username, password, ip="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_thirty_wrong_passwords_lock_the_account_out_even_for_the_right_password(client):
    make_user("Admin", username="boss")

    answers = [attempt(client, "boss", f"guess-{n}").status_code for n in range(30)]
    right_password = attempt(client, "boss", "pw-123456")

    assert answers[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert set(answers[settings.AXES_FAILURE_LIMIT :]) == {429}
    assert right_password.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username="boss").failures_since_start >= settings.AXES_FAILURE_LIMIT


def test_the_lockout_is_per_username_and_address_and_ends_after_the_cool_off(client):
    make_user("Admin", username="boss")
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "boss", f"guess-{n}")

    from_elsewhere = attempt(client, "boss", "pw-123456", ip="198.51.100.9")
    client.logout()
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=1))
    after_cool_off = attempt(client, "boss", "pw-123456")

    assert from_elsewhere.status_code == 302  # a guesser elsewhere cannot lock the owner out everywhere
    assert after_cool_off.status_code == 302


def test_a_successful_login_resets_the_failure_count(client):
    make_user("Admin", username="boss")
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "boss", f"guess-{n}")

    assert attempt(client, "boss", "pw-123456").status_code == 302
    client.logout()
    assert attempt(client, "boss", "one-more-typo").status_code == 200  # not locked by old failures
