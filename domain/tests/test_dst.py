"""R22: times are stored in UTC and shown in the therapist's zone; the changes to and from
summer time never shift or corrupt a slot.

In Europe/Stockholm the clocks go from 02:00 to 03:00 on Sunday 2027-03-28 and from 03:00
back to 02:00 on Sunday 2027-10-31. Time is frozen at New Year, well before both."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from api.schemas import Entry
from api.serializers import entry_out
from conftest import STOCKHOLM
from domain.models import Slot
from domain.services import booking_create_by_therapist, slot_create, slot_update
from domain.timezones import local_to_utc

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def new_year():
    with time_machine.travel(datetime(2027, 1, 4, 8, 0, tzinfo=STOCKHOLM), tick=False) as traveller:
        yield traveller


def shown(slot: Slot, therapist) -> dict:
    """The calendar entry as the API sends it: JSON, times as ISO strings."""
    return Entry.model_validate(entry_out(Slot.objects.with_live_booking().get(pk=slot.pk), therapist)).model_dump(
        mode="json"
    )


def test_a_slot_across_the_spring_change_lasts_its_real_minutes(anna, new_year):
    start = datetime(2027, 3, 28, 1, 30, tzinfo=STOCKHOLM)

    slot = slot_create(therapist=anna, actor=anna.user, start=start, duration_minutes=90)

    row = Slot.objects.get(pk=slot.pk)
    assert row.start_at == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    assert row.end_at == datetime(2027, 3, 28, 2, 0, tzinfo=UTC)
    assert row.end_at - row.start_at == timedelta(minutes=90)
    assert row.duration_minutes == 90
    assert slot.end_at - slot.start_at == timedelta(minutes=90)
    assert row.end_at.astimezone(STOCKHOLM).isoformat() == "2027-03-28T04:00:00+02:00"
    assert row.price == 2000


def test_a_slot_across_the_autumn_change_lasts_its_real_minutes(anna, new_year):
    start = datetime(2027, 10, 31, 1, 30, tzinfo=STOCKHOLM)

    slot = slot_create(therapist=anna, actor=anna.user, start=start, duration_minutes=90)

    row = Slot.objects.get(pk=slot.pk)
    assert row.start_at == datetime(2027, 10, 30, 23, 30, tzinfo=UTC)
    assert row.end_at == datetime(2027, 10, 31, 1, 0, tzinfo=UTC)
    assert row.end_at - row.start_at == timedelta(minutes=90)
    assert row.duration_minutes == 90
    assert slot.end_at - slot.start_at == timedelta(minutes=90)
    assert row.start_at.astimezone(STOCKHOLM).isoformat() == "2027-10-31T01:30:00+02:00"
    assert row.end_at.astimezone(STOCKHOLM).isoformat() == "2027-10-31T02:00:00+01:00"


def test_the_calendar_shows_a_slot_across_the_spring_change_with_both_offsets(anna, new_year):
    slot = slot_create(therapist=anna, actor=anna.user, start=datetime(2027, 3, 28, 1, 30, tzinfo=STOCKHOLM),
                       duration_minutes=90)

    entry = shown(slot, anna)

    assert (entry["start"], entry["end"], entry["duration_minutes"]) == (
        "2027-03-28T01:30:00+01:00", "2027-03-28T04:00:00+02:00", 90
    )


def test_the_calendar_shows_a_slot_across_the_autumn_change_with_both_offsets(anna, new_year):
    slot = slot_create(therapist=anna, actor=anna.user, start=datetime(2027, 10, 31, 1, 30, tzinfo=STOCKHOLM),
                       duration_minutes=90)

    entry = shown(slot, anna)

    assert (entry["start"], entry["end"], entry["duration_minutes"]) == (
        "2027-10-31T01:30:00+02:00", "2027-10-31T02:00:00+01:00", 90
    )


def test_a_slot_in_the_repeated_hour_is_told_apart_by_its_offset(anna, new_year):
    # 02:30 happens twice on 2027-10-31; given with an offset, each is its own instant.
    first = slot_create(therapist=anna, actor=anna.user, start=datetime.fromisoformat("2027-10-31T02:30:00+02:00"),
                        duration_minutes=30)
    second = slot_create(therapist=anna, actor=anna.user, start=datetime.fromisoformat("2027-10-31T02:30:00+01:00"),
                         duration_minutes=30)

    assert second.start_at - first.start_at == timedelta(hours=1)
    assert [shown(s, anna)["start"] for s in (first, second)] == [
        "2027-10-31T02:30:00+02:00", "2027-10-31T02:30:00+01:00"
    ]


def test_moving_a_slot_over_the_spring_change_keeps_its_real_length(anna, new_year):
    slot = slot_create(therapist=anna, actor=anna.user, start=datetime(2027, 3, 27, 1, 30, tzinfo=STOCKHOLM),
                       duration_minutes=90)

    slot_update(slot=slot, actor=anna.user, start=datetime(2027, 3, 28, 1, 30, tzinfo=STOCKHOLM))

    row = Slot.objects.get(pk=slot.pk)
    assert row.end_at - row.start_at == timedelta(minutes=90)
    assert shown(slot, anna)["end"] == "2027-03-28T04:00:00+02:00"


def test_a_booking_across_the_change_keeps_the_slots_instants(anna, erik, new_year):
    slot = slot_create(therapist=anna, actor=anna.user, start=datetime(2027, 3, 28, 1, 30, tzinfo=STOCKHOLM),
                       duration_minutes=90)

    booking = booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)

    booking.refresh_from_db()
    assert (booking.start_at, booking.end_at) == (
        datetime(2027, 3, 28, 0, 30, tzinfo=UTC), datetime(2027, 3, 28, 2, 0, tzinfo=UTC)
    )
    assert booking.duration_minutes == 90
    assert "kl. 01:30" in booking.emails.get().subject


def test_it_refuses_the_hour_that_does_not_exist_in_spring():
    with pytest.raises(ValidationError) as caught:
        local_to_utc(datetime(2027, 3, 28, 2, 30), STOCKHOLM)

    assert "start" in caught.value.message_dict


def test_it_refuses_the_hour_that_happens_twice_in_autumn():
    with pytest.raises(ValidationError) as caught:
        local_to_utc(datetime(2027, 10, 31, 2, 30), STOCKHOLM, field="time")

    assert "time" in caught.value.message_dict


@pytest.mark.parametrize(
    ("wall", "utc"),
    [
        (datetime(2027, 3, 28, 1, 59), datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),
        (datetime(2027, 3, 28, 3, 0), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        (datetime(2027, 10, 31, 1, 59), datetime(2027, 10, 30, 23, 59, tzinfo=UTC)),
        (datetime(2027, 10, 31, 3, 0), datetime(2027, 10, 31, 2, 0, tzinfo=UTC)),
        (datetime(2027, 1, 11, 9, 0), datetime(2027, 1, 11, 8, 0, tzinfo=UTC)),
        (datetime(2027, 7, 1, 9, 0), datetime(2027, 7, 1, 7, 0, tzinfo=UTC)),
    ],
)
def test_it_reads_the_times_either_side_of_a_change(wall, utc):
    assert local_to_utc(wall, STOCKHOLM) == utc


def test_a_therapist_in_new_york_sees_the_same_instant_with_her_offset(make_therapist, new_year):
    maria = make_therapist(email="maria@example.se", first="Maria", timezone="America/New_York")
    # New York changes on 2027-03-14, two weeks before Stockholm: 09:00 there is 14:00 here.
    slot = slot_create(therapist=maria, actor=maria.user, start=local_to_utc(datetime(2027, 3, 22, 9, 0), NEW_YORK))

    entry = shown(slot, maria)

    assert (entry["start"], entry["end"]) == ("2027-03-22T09:00:00-04:00", "2027-03-22T09:45:00-04:00")
    assert Slot.objects.get(pk=slot.pk).start_at == datetime(2027, 3, 22, 13, 0, tzinfo=UTC)
    # The same slot through a Stockholm therapist's eyes: the same instant, her offset.
    assert shown(slot, make_therapist(email="stina@example.se"))["start"] == "2027-03-22T14:00:00+01:00"


def test_local_to_utc_answers_in_utc():
    assert local_to_utc(datetime(2027, 7, 1, 9, 0), STOCKHOLM).tzinfo == UTC
