"""slot_repeat_weekly and slot_create_many: a slot copied to the next weeks at the same wall
clock time, skipping weeks that are taken (R11) or that summer time makes ambiguous (R22);
a marked stretch of time filled with back-to-back default slots (R2).

Time is frozen at Monday 2027-01-11 08:00 in Stockholm."""

from datetime import date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from conftest import STOCKHOLM, at
from domain.errors import DomainError
from domain.models import AuditEntry, Slot
from domain.services import (
    booking_create_by_therapist,
    slot_create,
    slot_create_many,
    slot_create_repeating,
    slot_repeat_weekly,
)


@pytest.fixture
def slot(anna, now):
    """Monday 09:00–10:00, 1500 kr, video only, existing clients only."""
    return slot_create(
        therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"), duration_minutes=60, price=1500,
        modes=["video"], audience="existing",
    )


def starts(therapist):
    slots = Slot.objects.filter(therapist=therapist).order_by("start_at")
    return [s.start_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") for s in slots]


def test_it_copies_a_slot_to_the_next_weeks(anna, slot):
    result = slot_repeat_weekly(slot=slot, actor=anna.user, weeks=3)

    assert starts(anna) == ["2027-01-11 09:00", "2027-01-18 09:00", "2027-01-25 09:00", "2027-02-01 09:00"]
    assert result.skipped == []
    for copy in result.created:
        copy.refresh_from_db()
        assert (copy.duration_minutes, copy.price, copy.modes, copy.audience) == (60, 1500, ["video"], "existing")
    assert AuditEntry.objects.filter(action="slot.created").count() == 4


def test_it_skips_the_weeks_where_the_time_is_taken_and_says_which(anna, slot, erik):
    slot_create(therapist=anna, actor=anna.user, start=at("2027-01-18 09:30"))
    booked = slot_create(therapist=anna, actor=anna.user, start=at("2027-02-01 08:30"))
    booking_create_by_therapist(therapist=anna, slot=booked, client=erik, mode="video", actor=anna.user)

    result = slot_repeat_weekly(slot=slot, actor=anna.user, weeks=4)

    assert [s.start_at for s in result.created] == [at("2027-01-25 09:00"), at("2027-02-08 09:00")]
    assert result.skipped == [(date(2027, 1, 18), "slot_overlap"), (date(2027, 2, 1), "slot_overlap")]


def test_it_keeps_the_wall_clock_time_across_the_change_to_summer_time(anna, now):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-03-22 09:00"))

    result = slot_repeat_weekly(slot=slot, actor=anna.user, weeks=1)

    (copy,) = result.created
    assert copy.start_at.astimezone(STOCKHOLM).hour == 9
    assert copy.start_at.utcoffset() is not None
    assert copy.start_at == datetime(2027, 3, 29, 9, 0, tzinfo=STOCKHOLM)


def test_it_skips_a_week_where_the_time_does_not_exist(anna, now):
    # Sunday 02:30 does not exist on 2027-03-28 in Stockholm (02:00 → 03:00).
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-03-21 02:30"))

    result = slot_repeat_weekly(slot=slot, actor=anna.user, weeks=2)

    assert result.skipped == [(date(2027, 3, 28), "dst")]
    assert [s.start_at for s in result.created] == [at("2027-04-04 02:30")]


def test_a_copy_that_would_lie_in_the_past_is_skipped(anna, slot):
    with time_machine.travel(at("2027-01-19 08:00"), tick=False):
        result = slot_repeat_weekly(slot=slot, actor=anna.user, weeks=2)

    assert [s.start_at for s in result.created] == [at("2027-01-25 09:00")]
    assert result.skipped == [(date(2027, 1, 18), "slot_in_past")]


@pytest.mark.parametrize("weeks", [0, -1, 53, "3", 2.0, True, None])
def test_it_refuses_a_bad_number_of_weeks(anna, slot, weeks):
    with pytest.raises(ValidationError) as caught:
        slot_repeat_weekly(slot=slot, actor=anna.user, weeks=weeks)

    assert "weeks" in caught.value.message_dict
    assert Slot.objects.count() == 1


def test_it_fills_a_marked_stretch_with_back_to_back_default_slots(anna, now):
    slots = slot_create_many(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"), end=at("2027-01-12 11:30"))

    assert starts(anna) == ["2027-01-12 09:00", "2027-01-12 09:45", "2027-01-12 10:30"]
    assert all((s.duration_minutes, s.price, s.color) == (45, 1000, "green") for s in slots)


def test_a_stretch_shorter_than_the_default_gives_one_slot(anna, now):
    slot_create_many(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"), end=at("2027-01-12 09:30"))

    assert starts(anna) == ["2027-01-12 09:00"]
    assert Slot.objects.get().duration_minutes == 45


def test_a_stretch_over_a_taken_time_makes_nothing(anna, now):
    slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 10:00"))

    with pytest.raises(DomainError) as caught:
        slot_create_many(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"), end=at("2027-01-12 11:30"))

    assert caught.value.code == "slot_overlap"
    assert starts(anna) == ["2027-01-12 10:00"]


def test_it_refuses_too_many_slots_at_once(anna, now):
    with pytest.raises(ValidationError):
        slot_create_many(therapist=anna, actor=anna.user, start=at("2027-01-12 00:00"), end=at("2027-01-14 00:00"))
    assert not Slot.objects.exists()


def test_a_new_slot_and_its_repeats_are_one_step(anna, now):
    slot, repeated = slot_create_repeating(
        therapist=anna, actor=anna.user, weeks=2, start=at("2027-01-12 09:00"), price=900
    )

    assert [s.start_at for s in repeated.created] == [at("2027-01-19 09:00"), at("2027-01-26 09:00")]
    assert {s.price for s in repeated.created} == {900} and slot.price == 900


def test_without_weeks_it_is_one_slot(anna, now):
    slot, repeated = slot_create_repeating(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"))

    assert repeated is None
    assert list(Slot.objects.filter(therapist=anna)) == [slot]


def test_a_refused_repeat_leaves_no_lone_slot(anna, now):
    with pytest.raises(ValidationError):
        slot_create_repeating(therapist=anna, actor=anna.user, weeks=53, start=at("2027-01-12 09:00"))

    assert not Slot.objects.filter(therapist=anna).exists()
