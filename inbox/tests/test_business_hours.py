from datetime import UTC, datetime

import pytest

from inbox.business_hours import add_business_minutes, business_minutes_between
from inbox.models import BusinessHours

WEEKDAYS_9_TO_17 = {str(d): [["09:00", "17:00"]] for d in range(5)}


def hours(tz="UTC", holidays=()):
    return BusinessHours(name="x", timezone=tz, schedule=WEEKDAYS_9_TO_17, holidays=list(holidays))


def test_within_the_same_day():
    # Given Wednesday 10:00 UTC, when 60 business minutes pass, then it is 11:00
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert add_business_minutes(start, 60, hours()) == datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def test_friday_evening_rolls_over_the_weekend():
    start = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)  # Friday
    assert add_business_minutes(start, 60, hours()) == datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # Monday


def test_message_on_saturday_counts_from_monday_morning():
    start = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert add_business_minutes(start, 30, hours()) == datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def test_holidays_are_skipped():
    start = datetime(2026, 12, 24, 16, 0, tzinfo=UTC)  # Thursday; Friday 25 is a holiday
    due = add_business_minutes(start, 120, hours(holidays=["2026-12-25"]))
    assert due == datetime(2026, 12, 28, 10, 0, tzinfo=UTC)


def test_schedule_is_in_the_team_time_zone():
    # 09:00 in Port-au-Prince (UTC-5 in November) is 14:00 UTC
    start = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    due = add_business_minutes(start, 30, hours("America/Port-au-Prince"))
    assert due == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def test_dst_change_moves_the_schedule_in_utc():
    # Paris: CEST (UTC+2) until Sunday 25 Oct 2026, CET (UTC+1) afterwards.
    paris = hours("Europe/Paris")
    friday = datetime(2026, 10, 23, 14, 30, tzinfo=UTC)  # 16:30 Paris: 30 min left that day
    due = add_business_minutes(friday, 60, paris)
    assert due == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)  # Monday 09:30 CET
    assert business_minutes_between(friday, due, paris) == pytest.approx(60)


def test_no_schedule_means_round_the_clock():
    start = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    assert add_business_minutes(start, 90, None) == datetime(2026, 11, 29, 0, 30, tzinfo=UTC)


def test_elapsed_business_minutes_ignore_nights_and_weekends():
    start = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # Friday 16:00
    end = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # Monday 10:00
    assert business_minutes_between(start, end, hours()) == pytest.approx(120)
