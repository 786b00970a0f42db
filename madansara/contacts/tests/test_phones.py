"""The bulk phone check agrees with libphonenumber: in Python (madansara.contacts.phones) and in SQL (the
import's PostgreSQL path), a number said valid is one libphonenumber takes, written as it writes it."""

import random

import phonenumbers
import pytest
from django.db import connection
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from madansara.contacts.csv_io import phone_rules_load, phone_valid_sql
from madansara.contacts.phones import e164_is_valid


def _libphonenumber(value: str) -> tuple[bool, str | None]:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False, None
    return phonenumbers.is_valid_number(number), phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _samples() -> list[str]:
    """Example numbers of every region and type, each with mutated variants, and random numbers."""
    rng = random.Random(22)
    samples = ["+15550000000", "+999123456789", "+15093000001", "+14165550123", "+447911123456", "+4407911123456"]
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
                     PhoneNumberType.VOIP, PhoneNumberType.PREMIUM_RATE):  # fmt: skip
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            value = phonenumbers.format_number(example, PhoneNumberFormat.E164)
            samples.append(value)
            for _ in range(6):
                digits = list(value[1:])
                digits[rng.randrange(len(digits))] = str(rng.randrange(10))
                mutated = "+" + "".join(digits)
                samples += [mutated, mutated[:-1], mutated + str(rng.randrange(10))]
    for _ in range(3000):
        samples.append(f"+{rng.randrange(1, 10)}{rng.randrange(10**5, 10**13)}")
    return samples


def test_python_check_agrees_with_libphonenumber():
    decided = 0
    for value in _samples():
        verdict = e164_is_valid(value)
        if verdict is None:
            continue
        decided += 1
        valid, e164 = _libphonenumber(value)
        assert verdict == valid, value
        assert not valid or e164 == value, value
    assert decided > 10_000  # most numbers are decided without libphonenumber's parser


@pytest.mark.postgres
@pytest.mark.django_db
def test_sql_check_agrees_with_libphonenumber():
    samples = _samples()
    with connection.cursor() as cursor:
        phone_rules_load(cursor)
        cursor.execute("CREATE TEMP TABLE phone_sample (value text)")
        with cursor.copy("COPY phone_sample (value) FROM STDIN") as copy:
            for value in samples:
                copy.write_row((value,))
        joins, valid = phone_valid_sql("s.value")
        cursor.execute(f"SELECT s.value, {valid} FROM phone_sample s {joins}")
        verdicts = dict(cursor.fetchall())
    assert len(verdicts) == len(set(samples))
    accepted = [value for value, ok in verdicts.items() if ok]
    for value in accepted:
        assert _libphonenumber(value) == (True, value), value
    assert verdicts["+15093000001"] and not verdicts["+15550000000"] and not verdicts["+999123456789"]
    assert len(accepted) > 3_000  # SQL vouches for most valid numbers; the rest go to libphonenumber
