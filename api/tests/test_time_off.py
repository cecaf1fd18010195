"""GET, POST /therapist/time-off and DELETE /therapist/time-off/{id} (R36): setting time off
removes her open slots inside it and lists her bookings inside it; a slot made, moved or
ranged into it is 409 time_off; bad bounds are 422 naming the field; another therapist's is 404."""

from datetime import date

import pytest

from api.tests.helpers import assert_conflict, assert_invalid, assert_not_found, booked, local_iso, slot_for
from domain.models import AuditEntry, Booking, Slot, TimeOff
from domain.services import time_off_create

pytestmark = pytest.mark.usefixtures("now")  # Monday 2027-01-11 08:00

WEEK = {"start": "2027-01-18", "end": "2027-01-24"}
at_day = date.fromisoformat


def test_setting_a_week_off_removes_its_open_slots_and_lists_the_booking(anna, anna_api, erik):
    open_ = slot_for(anna, "2027-01-19 09:00")
    kept = slot_for(anna, "2027-01-26 09:00")
    booking = booked(slot_for(anna, "2027-01-20 10:00"), erik)

    response = anna_api.post("/therapist/time-off", {**WEEK, "note": "Fjällen"})

    assert response.status_code == 201, response.content
    body = response.json()
    time_off = TimeOff.objects.get()
    assert body == {
        "id": time_off.pk, "start": local_iso("2027-01-18 00:00"), "end": local_iso("2027-01-25 00:00"),
        "note": "Fjällen", "removed_slots": 1, "bookings_inside": [body["bookings_inside"][0]],
    }
    inside = body["bookings_inside"][0]
    assert inside["id"] == booking.pk and inside["client"]["id"] == erik.pk and inside["status"] == "confirmed"
    assert not Slot.objects.filter(pk=open_.pk).exists() and Slot.objects.filter(pk=kept.pk).exists()
    assert Booking.objects.get(pk=booking.pk).is_confirmed
    assert AuditEntry.objects.filter(action="time_off.created", actor=anna.user).count() == 1


def test_dates_and_times_may_be_given(anna, anna_api):
    response = anna_api.post("/therapist/time-off", {"start": "2027-01-18T12:00:00+01:00", "end": "2027-01-18"})

    assert response.status_code == 201, response.content
    assert (response.json()["start"], response.json()["end"]) == (local_iso("2027-01-18 12:00"), local_iso("2027-01-19 00:00"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "2027-01-20", "end": "2027-01-18"}, "end"),
        ({"start": "2027-01-18", "end": "2028-01-19"}, "end"),
        ({"start": "2027-01-04", "end": "2027-01-10"}, "end"),
        ({"start": "2027-01-18T09:00:00", "end": "2027-01-19"}, "start"),
        ({"start": "tomorrow", "end": "2027-01-19"}, "start"),
        ({"start": "2027-01-18"}, "end"),
        ({**WEEK, "note": "x" * 201}, "note"),
        # No stored text holds a control character (domain/text.py): PostgreSQL cannot store a
        # NUL (a 500 there), a bidirectional override makes the note read other than it is.
        ({**WEEK, "note": "Fj\x00llen"}, "note"),
        ({**WEEK, "note": "\u202enelljF"}, "note"),
        ({**WEEK, "note": "Fjällen\r\nBcc: x"}, "note"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_nothing_is_written(anna, anna_api, body, field):
    slot = slot_for(anna, "2027-01-19 09:00")

    assert_invalid(anna_api.post("/therapist/time-off", body), field, statuses=(422,))

    assert not TimeOff.objects.exists() and Slot.objects.filter(pk=slot.pk).exists()


def test_the_list_holds_her_current_and_future_time_off(anna, bo, anna_api):
    past = time_off_create(therapist=anna, start=at_day("2027-01-04"), end=at_day("2027-01-11"), actor=None)[0]
    TimeOff.objects.filter(pk=past.pk).update(end_at=past.start_at.replace(day=8))  # ended last week
    current = time_off_create(therapist=anna, start=at_day("2027-01-10"), end=at_day("2027-01-12"), actor=None)[0]
    later = time_off_create(therapist=anna, start=at_day("2027-03-01"), end=at_day("2027-03-05"), note="Sportlov",
                            actor=None)[0]
    time_off_create(therapist=bo, start=at_day("2027-03-01"), end=at_day("2027-03-05"), actor=None)

    assert [t["id"] for t in anna_api.get("/therapist/time-off").json()] == [current.pk, later.pk]
    march = anna_api.get("/therapist/time-off", start="2027-02-22T00:00:00+01:00", end="2027-03-22T00:00:00+01:00")
    assert march.json() == [{"id": later.pk, "start": local_iso("2027-03-01 00:00"), "end": local_iso("2027-03-06 00:00"),
                             "note": "Sportlov"}]
    assert_invalid(anna_api.get("/therapist/time-off", start="2027-02-22T00:00:00"), "start", statuses=(422,))


def test_she_deletes_her_time_off_and_another_therapists_is_404(anna, bo, anna_api, bo_api):
    mine = time_off_create(therapist=anna, start=at_day("2027-01-18"), end=at_day("2027-01-24"), actor=None)[0]

    assert_not_found(bo_api.delete(f"/therapist/time-off/{mine.pk}"))
    assert TimeOff.objects.filter(pk=mine.pk).exists()
    assert_not_found(anna_api.delete("/therapist/time-off/999999"))

    assert anna_api.delete(f"/therapist/time-off/{mine.pk}").status_code == 204
    assert not TimeOff.objects.exists()
    assert AuditEntry.objects.filter(action="time_off.deleted", actor=anna.user).count() == 1
    assert anna_api.post("/therapist/slots", {"start": "2027-01-19T09:00:00+01:00"}).status_code == 201


# Slots inside it: 409 time_off ----------------------------------------------------------------


@pytest.fixture
def week_off(anna):
    return time_off_create(therapist=anna, start=at_day("2027-01-18"), end=at_day("2027-01-24"), actor=anna.user)[0]


def test_a_slot_made_inside_it_is_time_off(anna, anna_api, week_off):
    assert_conflict(anna_api.post("/therapist/slots", {"start": "2027-01-19T09:00:00+01:00"}), "time_off")
    assert not Slot.objects.exists()


def test_a_slot_moved_into_it_is_time_off(anna, anna_api, week_off):
    slot = slot_for(anna, "2027-01-12 09:00")

    assert_conflict(anna_api.patch(f"/therapist/slots/{slot.pk}", {"start": "2027-01-21T09:00:00+01:00"}), "time_off")
    assert Slot.objects.get(pk=slot.pk).start_at == slot.start_at


def test_a_client_sees_no_open_slot_inside_it(anna, anna_api, nora_api, erik_api):
    slot_for(anna, "2027-01-19 09:00")
    outside = slot_for(anna, "2027-01-26 09:00")

    anna_api.post("/therapist/time-off", WEEK)

    window = {"start": "2027-01-11T00:00:00+01:00", "end": "2027-02-01T00:00:00+01:00"}
    for api in (nora_api, erik_api):
        assert [s["id"] for s in api.get(f"/therapists/{anna.pk}/slots", **window).json()] == [outside.pk]
