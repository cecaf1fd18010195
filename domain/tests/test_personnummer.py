"""domain.personnummer.normalize (R24): every common written form of a personnummer or a
samordningsnummer becomes YYYYMMDD-NNNN, or is refused saying why.

The century of a ten-digit number depends on today, so time is frozen (Monday 2027-01-11)."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from conftest import pnr
from domain.personnummer import is_coordination_number, normalize


def refused(value) -> str:
    with pytest.raises(ValidationError) as caught:
        normalize(value)
    return caught.value.code


@pytest.mark.parametrize(
    "written",
    ["19850312-1231", "198503121231", "850312-1231", "8503121231", "  850312-1231\t", "850312 1231", "19850312+1231"],
)
def test_it_writes_every_form_as_twelve_digits_with_a_dash(now, written):
    assert pnr("19850312", "123") == "19850312-1231"

    assert normalize(written) == "19850312-1231"


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        (pnr("19150312")[2:].replace("-", "+"), pnr("19150312")),  # a hundred or older
        (pnr("18850312")[2:].replace("-", "+"), pnr("18850312")),
        (pnr("19270601")[2:].replace("-", "+"), pnr("19270601")),  # turns 100 this year
        (pnr("19280101")[2:], pnr("19280101")),  # 99: still a dash
        (pnr("20260101")[2:], pnr("20260101")),
        (pnr("20270105")[2:], pnr("20270105")),  # six days old
        (pnr("20000229")[2:], pnr("20000229")),
    ],
)
def test_it_reads_the_century_from_today_and_the_separator(now, written, normal):
    assert normalize(written) == normal


def test_it_keeps_the_century_written_in_twelve_digits(now):
    assert normalize(pnr("19150312").replace("-", "+")) == pnr("19150312")
    assert normalize(pnr("20150312")) == pnr("20150312")


@pytest.mark.parametrize("birth", ["19850361", "19850372", "19850391", "20000289", "20270171"])
def test_it_accepts_samordningsnummer_with_the_day_plus_sixty(now, birth):
    number = pnr(birth)

    assert normalize(number) == number
    assert normalize(number[2:].replace("-", "")) == number


def test_it_tells_a_samordningsnummer_from_a_personnummer(now):
    assert is_coordination_number(normalize(pnr("19850372")))
    assert not is_coordination_number(normalize(pnr("19850312")))
    assert not is_coordination_number(normalize(pnr("19850331")))


@pytest.mark.parametrize(
    "birth",
    ["19850230", "19850332", "19851301", "19850001", "19850300", "19000229", "19850360", "19850392", "19850290"],
)
def test_it_refuses_a_date_that_does_not_exist(now, birth):
    assert refused(pnr(birth)) == "invalid_date"


@pytest.mark.parametrize(
    "written",
    [pnr("20270112"), pnr("20270112")[2:], pnr("20271231"), pnr("21000101"), pnr("20270172")],
)
def test_it_refuses_a_birth_date_in_the_future(now, written):
    assert refused(written) == "invalid_date"


def test_someone_born_today_has_a_personnummer(now):
    assert normalize(pnr("20270111")) == pnr("20270111")


def test_the_separator_decides_the_century_of_a_birthday_later_this_year(now):
    # A dash in 2027 says born 2027, which has not happened yet; a plus says 1927.
    assert refused(pnr("19271224")[2:]) == "invalid_date"
    assert normalize(pnr("19271224")[2:].replace("-", "+")) == pnr("19271224")


@pytest.mark.parametrize(
    "written",
    ["19850312-1232", "19850312-1230", "850312-1239", "19850372-1230", "198503121234"],
)
def test_it_refuses_a_wrong_check_digit(now, written):
    assert refused(written) == "invalid_checksum"


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("", "invalid_length"),
        (None, "invalid_length"),
        ("85031212", "invalid_length"),
        ("19850312/1231", "invalid_format"),
        ("19850312-123A", "invalid_format"),
        ("ÅÄÖÅÄÖ-ÅÄÖÅ", "invalid_format"),
        ("abcdefghijkl", "invalid_format"),
        ("850312_1231", "invalid_format"),
    ],
)
def test_it_refuses_what_is_not_written_like_a_personnummer(now, written, code):
    assert refused(written) == code


@pytest.mark.parametrize("written", ["850312-123", "85031212312", "19850312-12310", "1985031212311", "8503121-1231"])
def test_it_refuses_a_digit_too_few_or_too_many(now, written):
    # Whichever way stdnum splits these, they are refused.
    assert refused(written) in ("invalid_length", "invalid_format")


def test_its_messages_say_what_is_wrong(now):
    with pytest.raises(ValidationError) as caught:
        normalize("19850312-1232")

    assert caught.value.messages == ["Personnumrets kontrollsiffra stämmer inte."]  # Swedish by default (R23)
    with translation.override("en"):
        with pytest.raises(ValidationError) as caught:
            normalize("19850312-1232")
        assert caught.value.messages == ["The personnummer's check digit is wrong."]
