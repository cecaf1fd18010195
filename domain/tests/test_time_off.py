"""R36: time off. Setting it removes her open slots inside it that have not begun, keeps and lists
her bookings inside it, and from then on no slot is made or moved into it (`time_off`). A bare
date is a whole day on her wall clock, the end date inclusive. Time is Monday 2027-01-11 08:00
in Stockholm; both databases."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from conftest import STOCKHOLM, at
from domain import selectors
from domain.errors import DomainError
from domain.models import AuditEntry, Booking, Slot, TimeOff
from domain.services import (
    booking_create_by_therapist,
    slot_create,
    slot_create_many,
    slot_create_repeating,
    slot_repeat_weekly,
    slot_update,
    time_off_create,
    time_off_delete,
    time_off_preview,
)

pytestmark = pytest.mark.usefixtures("now")

WEEK = (date(2027, 1, 18), date(2027, 1, 24))  # Monday to Sunday, the next week


def slot_at(therapist, start, minutes=60):
    return slot_create(therapist=therapist, actor=therapist.user, start=at(start), duration_minutes=minutes)


def booked_at(therapist, client, start):
    slot = slot_at(therapist, start)
    return booking_create_by_therapist(therapist=therapist, slot=slot, client=client, mode="video", actor=therapist.user)


def starts(therapist):
    return [s.start_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
            for s in Slot.objects.filter(therapist=therapist).order_by("start_at")]


@pytest.fixture
def calendar(anna, erik, bo):
    """Anna's slots around and in the week of 18 jan, one of them booked by Erik; one of Bo's."""
    slots = {
        "before": slot_at(anna, "2027-01-17 23:00"),  # ends at the time off's start: stays
        "monday": slot_at(anna, "2027-01-18 09:00"),
        "friday": slot_at(anna, "2027-01-22 15:00"),
        "sunday_late": slot_at(anna, "2027-01-24 23:30", minutes=45),  # runs past the end: goes
        "after": slot_at(anna, "2027-01-25 00:15"),  # after it: stays
        "bo": slot_at(bo, "2027-01-19 09:00"),
    }
    booking = booked_at(anna, erik, "2027-01-20 10:00")
    return slots, booking


def test_a_week_off_removes_her_open_slots_in_it_and_lists_the_booking(anna, calendar):
    slots, booking = calendar

    time_off, removed, inside = time_off_create(therapist=anna, start=WEEK[0], end=WEEK[1], note="Fjällen", actor=anna.user)

    assert removed == 3
    assert [b.pk for b in inside] == [booking.pk]
    assert starts(anna) == ["2027-01-17 23:00", "2027-01-20 10:00", "2027-01-25 00:15"]
    assert Slot.objects.filter(pk=slots["bo"].pk).exists()
    saved = TimeOff.objects.get()
    assert (saved.therapist, saved.note, saved.created_by) == (anna, "Fjällen", anna.user)
    # Whole local days, the end date inclusive, stored in UTC.
    assert saved.start_at == at("2027-01-18 00:00") and saved.end_at == at("2027-01-25 00:00")
    assert Booking.objects.get(pk=booking.pk).is_confirmed


def test_each_removed_slot_and_the_time_off_are_audited(anna, calendar):
    slots, _booking = calendar

    time_off, _, _ = time_off_create(therapist=anna, start=WEEK[0], end=WEEK[1], actor=anna.user)

    gone = {slots[k].pk for k in ("monday", "friday", "sunday_late")}
    entries = AuditEntry.objects.filter(action="slot.deleted")
    assert {e.slot_id for e in entries} == gone
    assert all(e.actor == anna.user and e.after == {"time_off_id": time_off.pk} for e in entries)
    created = AuditEntry.objects.get(action="time_off.created")
    assert created.target_id == time_off.pk and created.therapist_id == anna.pk
    assert sorted(created.after["removed_slots"]) == sorted(gone)


def test_the_preview_is_what_setting_it_does(anna, calendar):
    preview = time_off_preview(anna, WEEK[0], WEEK[1])
    expected = ([s.pk for s in preview.slots], [b.pk for b in preview.bookings])
    assert not TimeOff.objects.exists() and Slot.objects.filter(pk__in=expected[0]).count() == 3  # nothing written

    before = set(Slot.objects.values_list("pk", flat=True))
    _time_off, removed, inside = time_off_create(therapist=anna, start=WEEK[0], end=WEEK[1], actor=anna.user)

    assert sorted(before - set(Slot.objects.values_list("pk", flat=True))) == sorted(expected[0])
    assert removed == len(expected[0]) and [b.pk for b in inside] == expected[1]


@pytest.fixture
def begun_slot(anna, now):
    """07:30–08:30 today: made at 07:00, begun by 08:00."""
    now.move_to(at("2027-01-11 07:00"))
    slot = slot_at(anna, "2027-01-11 07:30")
    now.move_to(at("2027-01-11 08:00"))
    return slot


def test_a_slot_that_has_begun_stays(anna, begun_slot):
    later = slot_at(anna, "2027-01-11 10:00")

    _t, removed, _b = time_off_create(therapist=anna, start=date(2027, 1, 11), end=date(2027, 1, 11), actor=anna.user)

    assert removed == 1
    assert Slot.objects.filter(pk=begun_slot.pk).exists() and not Slot.objects.filter(pk=later.pk).exists()


def test_a_part_day_takes_instants(anna):
    morning = slot_at(anna, "2027-01-18 09:00")
    afternoon = slot_at(anna, "2027-01-18 13:00")

    time_off, removed, _ = time_off_create(
        therapist=anna, start=at("2027-01-18 12:00"), end=at("2027-01-18 17:00"), actor=anna.user
    )

    assert removed == 1 and Slot.objects.filter(pk=morning.pk).exists() and not Slot.objects.filter(pk=afternoon.pk).exists()
    assert (time_off.start_at, time_off.end_at) == (at("2027-01-18 12:00"), at("2027-01-18 17:00"))


def test_time_off_may_overlap_other_time_off(anna):
    time_off_create(therapist=anna, start=date(2027, 1, 18), end=date(2027, 1, 22), actor=anna.user)
    time_off_create(therapist=anna, start=date(2027, 1, 20), end=date(2027, 1, 24), actor=anna.user)

    assert TimeOff.objects.filter(therapist=anna).count() == 2


def test_time_off_that_has_begun_may_be_set_for_what_is_left_of_it(anna):
    later = slot_at(anna, "2027-01-11 15:00")

    _t, removed, _ = time_off_create(therapist=anna, start=date(2027, 1, 4), end=date(2027, 1, 12), actor=anna.user)

    assert removed == 1 and not Slot.objects.filter(pk=later.pk).exists()


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(2027, 1, 20), date(2027, 1, 18), "end"),  # end before start
        (at("2027-01-18 12:00"), at("2027-01-18 12:00"), "end"),  # empty
        (date(2027, 1, 18), date(2028, 1, 19), "end"),  # 367 days
        (date(2027, 1, 4), date(2027, 1, 10), "end"),  # already over
        (at("2027-01-10 10:00"), at("2027-01-11 08:00"), "end"),  # ends now
        ("2027-01-18", date(2027, 1, 19), "start"),  # not a date
        (at("2027-01-18 12:00").replace(tzinfo=None), date(2027, 1, 19), "start"),  # no offset
        (date(1800, 1, 1), date(1800, 1, 2), "start"),  # out of range
    ],
)
def test_bad_bounds_are_field_errors_and_nothing_is_written(anna, start, end, field):
    slot = slot_at(anna, "2027-01-18 09:00")

    with pytest.raises(ValidationError) as caught:
        time_off_create(therapist=anna, start=start, end=end, actor=anna.user)

    assert list(caught.value.message_dict) == [field]
    assert not TimeOff.objects.exists() and Slot.objects.filter(pk=slot.pk).exists()
    assert not AuditEntry.objects.filter(action__startswith="time_off").exists()


def test_a_full_year_is_allowed(anna):
    time_off, _, _ = time_off_create(therapist=anna, start=date(2027, 1, 18), end=date(2028, 1, 18), actor=anna.user)

    assert time_off.end_at - time_off.start_at == timedelta(days=366)


def test_a_note_too_long_is_a_field_error(anna):
    with pytest.raises(ValidationError) as caught:
        time_off_create(therapist=anna, start=WEEK[0], end=WEEK[1], note="x" * 201, actor=anna.user)

    assert list(caught.value.message_dict) == ["note"] and not TimeOff.objects.exists()


# No slot is made or moved into it ------------------------------------------------------------


@pytest.fixture
def week_off(anna):
    return time_off_create(therapist=anna, start=WEEK[0], end=WEEK[1], actor=anna.user)[0]


def code_of(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def test_a_slot_cannot_be_made_in_it(anna, bo, week_off):
    assert code_of(lambda: slot_at(anna, "2027-01-19 09:00")) == "time_off"
    assert code_of(lambda: slot_at(anna, "2027-01-17 23:30")) == "time_off"  # runs into it
    assert slot_at(anna, "2027-01-17 23:00")  # ends as it starts
    assert slot_at(bo, "2027-01-19 09:00")  # hers only


def test_a_slot_cannot_be_moved_into_it(anna, week_off):
    slot = slot_at(anna, "2027-01-12 09:00")

    assert code_of(lambda: slot_update(slot=slot, actor=anna.user, start=at("2027-01-19 09:00"))) == "time_off"
    assert Slot.objects.get(pk=slot.pk).start_at == at("2027-01-12 09:00")


def test_a_range_into_it_makes_none(anna, week_off):
    call = lambda: slot_create_many(  # noqa: E731
        therapist=anna, actor=anna.user, start=at("2027-01-17 21:00"), end=at("2027-01-18 03:00")
    )

    assert code_of(call) == "time_off"
    assert not Slot.objects.filter(therapist=anna).exists()


def test_a_repeat_skips_the_week_off_and_names_it(anna, week_off):
    slot = slot_at(anna, "2027-01-12 09:00")

    result = slot_repeat_weekly(slot=slot, actor=anna.user, weeks=3)

    assert result.skipped == [(date(2027, 1, 19), "time_off")]
    assert starts(anna) == ["2027-01-12 09:00", "2027-01-26 09:00", "2027-02-02 09:00"]


def test_a_new_repeating_slot_skips_the_week_off(anna, week_off):
    _slot, result = slot_create_repeating(
        therapist=anna, actor=anna.user, weeks=2, start=at("2027-01-12 09:00"), duration_minutes=60
    )

    assert result.skipped == [(date(2027, 1, 19), "time_off")]


def test_a_client_sees_no_open_slot_inside_it(anna, nora, erik):
    slot_at(anna, "2027-01-19 09:00")
    outside = slot_at(anna, "2027-01-26 09:00")
    booked_at(anna, erik, "2027-01-20 10:00")

    time_off_create(therapist=anna, start=WEEK[0], end=WEEK[1], actor=anna.user)

    for viewer in (nora, erik, None):
        assert [s.pk for s in selectors.open_slots_for_viewer(anna, viewer)] == [outside.pk]


# Deleting it ---------------------------------------------------------------------------------


def test_deleting_it_is_audited_and_the_removed_slots_stay_removed(anna):
    slot_at(anna, "2027-01-19 09:00")
    time_off, _, _ = time_off_create(therapist=anna, start=WEEK[0], end=WEEK[1], actor=anna.user)

    time_off_delete(time_off=time_off, actor=anna.user)

    assert not TimeOff.objects.exists() and not Slot.objects.filter(therapist=anna).exists()
    entry = AuditEntry.objects.get(action="time_off.deleted")
    assert entry.target_id == time_off.pk and datetime.fromisoformat(entry.before["start"]) == at("2027-01-18 00:00")
    assert slot_at(anna, "2027-01-19 09:00")  # her calendar is open there again


def test_deleting_it_twice_is_no_error_and_is_audited_once(anna):
    # "Ta bort" pressed twice, or two tabs: the second finds it gone (on PostgreSQL it waits for
    # the first's lock and then reads no row), which is what it asked for, not a 500.
    time_off, _, _ = time_off_create(therapist=anna, start=WEEK[0], end=WEEK[1], actor=anna.user)

    time_off_delete(time_off=time_off, actor=anna.user)
    time_off_delete(time_off=time_off, actor=anna.user)

    assert not TimeOff.objects.exists()
    assert AuditEntry.objects.filter(action="time_off.deleted").count() == 1


def test_staff_read_time_off_in_the_admin_and_cannot_change_it(anna, admin_client):
    time_off, _, _ = time_off_create(therapist=anna, start=WEEK[0], end=WEEK[1], note="Fjällen", actor=anna.user)

    assert "Fjällen" in admin_client.get("/admin/domain/timeoff/").content.decode()
    assert admin_client.get(f"/admin/domain/timeoff/{time_off.pk}/change/").status_code == 200
    assert admin_client.post(f"/admin/domain/timeoff/{time_off.pk}/delete/", {"post": "yes"}).status_code == 403
    assert TimeOff.objects.filter(pk=time_off.pk).exists()
