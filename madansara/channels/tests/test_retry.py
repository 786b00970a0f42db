"""The one retry policy: exponential backoff with jitter, Retry-After honoured, countdowns the
broker will not deliver twice."""

from madansara.channels.retry import SEND, RetryPolicy


def test_backoff_grows_exponentially_with_jitter_up_to_its_cap():
    policy = RetryPolicy(base=30.0, cap=3600.0, max_attempts=6)
    assert all(15 <= policy.delay(1) <= 30 for _ in range(50))
    assert all(120 <= policy.delay(4) <= 240 for _ in range(50))
    assert all(1800 <= policy.delay(20) <= 3600 for _ in range(50))


def test_a_providers_retry_after_is_never_cut_short_by_the_backoff():
    assert SEND.delay(1, retry_after=500) >= 500


def test_a_countdown_stays_below_the_brokers_visibility_timeout(settings):
    # given Redis re-delivering an unacknowledged task after an hour
    settings.QUEUE_VISIBILITY_TIMEOUT = 3600
    # when a provider asks for a day's wait (a daily limit)
    countdown = SEND.countdown(0, retry_after=86_400)
    # then the retry is scheduled within the hour (the shared rate-limit bucket holds the rest),
    # so Redis never hands the same retry to a second worker
    assert 1 <= countdown < 3600
    assert SEND.countdown(0, retry_after=0.2) >= 1


def test_the_policy_knows_when_attempts_are_used_up():
    assert not SEND.exhausted(SEND.max_attempts - 1)
    assert SEND.exhausted(SEND.max_attempts)
