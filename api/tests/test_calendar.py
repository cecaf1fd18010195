"""GET /therapist/calendar: every slot of hers overlapping the window, by start, with its
colour (R2, R7, R14, R15) and its booking."""

import pytest

from api.tests.helpers import assert_invalid, booked, local_iso, past_slot, slot_for
from domain import services
from domain.models import ClientLink

pytestmark = pytest.mark.usefixtures("now")

DAY = {"start": "2027-01-12T00:00:00+01:00", "end": "2027-01-13T00:00:00+01:00"}


def test_it_answers_an_open_slot_with_every_field(anna_api, anna):
    slot = slot_for(anna, "2027-01-12 09:00")

    response = anna_api.get("/therapist/calendar", **DAY)

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": slot.pk,
            "start": "2027-01-12T09:00:00+01:00",
            "end": "2027-01-12T09:45:00+01:00",
            "duration_minutes": 45,
            "price": 1000,
            "modes": ["video", "onsite"],
            "audience": "all",
            "status": "available",
            "color": "green",
            "bookable_by_clients": True,
            "busy": False,
            "booking": None,
        }
    ]


def test_an_existing_only_slot_is_blue(anna_api, anna):
    slot_for(anna, "2027-01-12 09:00", audience="existing")

    [entry] = anna_api.get("/therapist/calendar", **DAY).json()

    assert entry["audience"] == "existing"
    assert entry["color"] == "blue"
    assert entry["status"] == "available"


def test_a_first_visit_is_yellow_with_the_client_and_her_personnummer(anna_api, anna, erik):
    booking = booked(slot_for(anna, "2027-01-12 09:00"), erik, mode="onsite")

    [entry] = anna_api.get("/therapist/calendar", **DAY).json()

    assert entry["status"] == "booked"
    assert entry["color"] == "yellow"
    assert entry["booking"] == {
        "id": booking.pk,
        "mode": "onsite",
        "first_visit": True,
        "client": {"id": erik.pk, "first_name": "Erik", "last_name": "Eriksson", "personnummer": erik.personnummer,
                   "personnummer_verified": False},
        "video_url": None,  # on site: no call
        "outcome": None,  # R34: nothing recorded yet
        "series_id": None,  # R32: no series
    }
    assert len(entry["booking"]["client"]["personnummer"]) == 13
    assert entry["booking"]["client"]["personnummer"][8] == "-"


def test_a_video_booking_carries_the_therapists_own_link_never_the_clients(anna_api, anna, erik, settings):
    booking = booked(slot_for(anna, "2027-01-12 09:00"), erik, mode="video")

    response = anna_api.get("/therapist/calendar", **DAY)

    [entry] = response.json()
    assert entry["booking"]["video_url"] == f"{settings.SITE_URL}/video/{booking.therapist_video_token}"
    assert booking.video_token not in response.content.decode()


def test_a_later_visit_is_red(anna_api, anna, erik):
    booked(slot_for(anna, "2027-01-12 09:00"), erik)
    booked(slot_for(anna, "2027-01-12 11:00"), erik)

    entries = anna_api.get("/therapist/calendar", **DAY).json()

    assert [(e["color"], e["booking"]["first_visit"]) for e in entries] == [("yellow", True), ("red", False)]


def test_a_client_who_met_another_therapist_first_is_red(anna_api, anna, bo, erik):
    """R15 across therapists, for one person: Erik is on both lists (he joined Bo's record by
    his invitation, R26)."""
    ClientLink.objects.create(therapist=bo, client=erik, source="own")
    booked(slot_for(bo, "2027-01-11 10:00"), erik)
    booked(slot_for(anna, "2027-01-12 09:00"), erik)

    [entry] = anna_api.get("/therapist/calendar", **DAY).json()

    assert entry["color"] == "red"
    assert entry["booking"]["first_visit"] is False


def test_a_cancelled_booking_leaves_the_slot_open_and_green(anna_api, anna, erik):
    booking = booked(slot_for(anna, "2027-01-12 09:00"), erik)
    services.booking_cancel(booking=booking, actor=erik.user)

    [entry] = anna_api.get("/therapist/calendar", **DAY).json()

    assert (entry["status"], entry["color"], entry["booking"]) == ("available", "green", None)


def test_an_earlier_cancelled_booking_makes_the_next_one_the_first_visit(anna_api, anna, erik):
    first = booked(slot_for(anna, "2027-01-12 09:00"), erik)
    booked(slot_for(anna, "2027-01-12 11:00"), erik)
    services.booking_cancel(booking=first, actor=erik.user)

    entries = anna_api.get("/therapist/calendar", **DAY).json()

    assert [e["color"] for e in entries] == ["green", "yellow"]


def test_it_answers_every_slot_overlapping_the_window_in_order(anna_api, anna):
    slot_for(anna, "2027-01-12 14:00")
    across_start = slot_for(anna, "2027-01-11 23:30", duration_minutes=60)
    slot_for(anna, "2027-01-12 08:00")
    slot_for(anna, "2027-01-11 22:00")  # ends before the window
    slot_for(anna, "2027-01-13 00:00")  # starts at the window's end

    entries = anna_api.get("/therapist/calendar", **DAY).json()

    assert [e["start"] for e in entries] == [
        local_iso("2027-01-11 23:30"), local_iso("2027-01-12 08:00"), local_iso("2027-01-12 14:00"),
    ]
    assert entries[0]["id"] == across_start.pk


def test_it_includes_past_slots(anna_api, anna):
    old = past_slot(anna, "2027-01-11 07:00")

    entries = anna_api.get("/therapist/calendar", start="2027-01-11T00:00:00+01:00", end="2027-01-12T00:00:00+01:00").json()

    assert [e["id"] for e in entries] == [old.pk]


def test_without_a_window_it_answers_the_current_week(anna_api, anna):
    monday = slot_for(anna, "2027-01-11 09:00")
    sunday = slot_for(anna, "2027-01-17 20:00")
    slot_for(anna, "2027-01-18 09:00")  # next week

    entries = anna_api.get("/therapist/calendar").json()

    assert [e["id"] for e in entries] == [monday.pk, sunday.pk]


def test_it_accepts_any_offset_and_answers_in_her_zone(anna_api, anna):
    slot = slot_for(anna, "2027-01-12 09:00")

    entries = anna_api.get("/therapist/calendar", start="2027-01-12T07:00:00Z", end="2027-01-12T04:00:00-05:00").json()

    assert [e["id"] for e in entries] == [slot.pk]
    assert entries[0]["start"] == "2027-01-12T09:00:00+01:00"


def test_summer_times_are_answered_with_the_summer_offset(anna_api, anna):
    slot_for(anna, "2027-06-15 09:00")

    [entry] = anna_api.get("/therapist/calendar", start="2027-06-15T00:00:00+02:00", end="2027-06-16T00:00:00+02:00").json()

    assert entry["start"] == "2027-06-15T09:00:00+02:00"


def test_it_shows_only_her_own_slots(anna_api, bo_api, anna, bo):
    slot_for(anna, "2027-01-12 09:00")
    bos = slot_for(bo, "2027-01-12 10:00")

    assert [e["id"] for e in bo_api.get("/therapist/calendar", **DAY).json()] == [bos.pk]
    assert bos.pk not in [e["id"] for e in anna_api.get("/therapist/calendar", **DAY).json()]


def test_it_refuses_an_end_before_the_start(anna_api):
    response = anna_api.get("/therapist/calendar", start="2027-01-13T00:00:00+01:00", end="2027-01-12T00:00:00+01:00")

    assert_invalid(response, "end")


def test_it_refuses_an_empty_window(anna_api):
    response = anna_api.get("/therapist/calendar", start="2027-01-13T00:00:00+01:00", end="2027-01-13T00:00:00+01:00")

    assert_invalid(response, "end")


def test_it_refuses_a_window_longer_than_a_year(anna_api):
    response = anna_api.get("/therapist/calendar", start="2027-01-01T00:00:00+01:00", end="2028-06-01T00:00:00+01:00")

    assert_invalid(response, "end")


@pytest.mark.parametrize("field", ["start", "end"])
def test_it_refuses_a_naive_time(anna_api, field):
    window = {**DAY, field: DAY[field][:19]}

    assert_invalid(anna_api.get("/therapist/calendar", **window), field)


@pytest.mark.parametrize("value", ["tomorrow", "2027-13-01T00:00:00+01:00", "2027-01-12T25:00:00+01:00", "1e30"])
@pytest.mark.parametrize("field", ["start", "end"])
def test_it_refuses_a_time_that_is_not_one(anna_api, field, value):
    assert_invalid(anna_api.get("/therapist/calendar", **{**DAY, field: value}), field)


@pytest.mark.parametrize("field, value", [("start", "0001-01-01T00:00:00+05:00"), ("end", "9999-12-31T23:00:00-05:00")])
def test_it_refuses_a_time_at_the_edge_of_the_calendar(anna_api, field, value):
    window = {**DAY, field: value}

    assert_invalid(anna_api.get("/therapist/calendar", **window), field)


def test_a_client_may_not_read_a_calendar(erik_api):
    assert erik_api.get("/therapist/calendar").status_code == 403


def test_the_calendar_needs_a_login(anon_api):
    assert anon_api.get("/therapist/calendar").status_code == 401


def test_every_answer_keeps_to_the_entry_schema(anna_api, anna, erik, bo):
    """The calendar is rendered without ninja's response validation (api.api.unvalidated), so
    this checks its answer against the schema the document publishes."""
    from pydantic import TypeAdapter

    from api.schemas import Entry

    slot_for(anna, "2027-01-12 08:00", audience="existing")
    booked(slot_for(anna, "2027-01-12 09:00"), erik, mode="onsite")
    booked(slot_for(anna, "2027-01-12 10:00"), erik, mode="video")

    body = anna_api.get("/therapist/calendar", **DAY).json()

    assert [e["color"] for e in body] == ["blue", "yellow", "red"]
    assert TypeAdapter(list[Entry]).validate_python(body)


def test_a_slot_that_began_the_day_before_is_in_the_window(anna_api, anna):
    """The query reads only slots starting at most 12 hours (the longest slot) before the
    window; the longest slot, starting just inside that, is found."""
    late = past_slot(anna, "2027-01-10 12:01", minutes=12 * 60)  # ends 00:01 on the 11th

    body = anna_api.get("/therapist/calendar", start="2027-01-11T00:00:00+01:00", end="2027-01-12T00:00:00+01:00").json()

    assert [e["id"] for e in body] == [late.pk]
