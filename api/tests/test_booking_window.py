"""R35 through the API: the settings' `min_notice_hours` and `booking_horizon_days`, a client's
booking outside the window (`409 outside_booking_window`), her open slots and the listing,
and the calendar's `bookable_by_clients`. Time is Monday 2027-01-11 08:00 in Stockholm."""

import pytest

from api.tests.helpers import assert_conflict, assert_invalid, slot_for
from conftest import api_for
from domain.models import DEFAULT_BOOKING_HORIZON_DAYS, DEFAULT_MIN_NOTICE_HOURS, Therapist, User
from domain.services import booking_create_by_therapist

pytestmark = pytest.mark.usefixtures("now")

DAY = {"start": "2027-01-11T00:00:00+01:00", "end": "2027-01-12T00:00:00+01:00"}


@pytest.fixture
def anna(make_therapist):
    """Anna with the model's window: 12 hours' notice, 90 days ahead."""
    return make_therapist(min_notice_hours=DEFAULT_MIN_NOTICE_HOURS, booking_horizon_days=DEFAULT_BOOKING_HORIZON_DAYS)


def test_a_new_therapists_settings_say_12_hours_and_90_days(db):
    user = User.objects.create_user(email="ny@example.se", password="x", email_verified=True)
    Therapist.objects.create(user=user)
    body = api_for(user).get("/therapist/settings").json()
    assert (body["min_notice_hours"], body["booking_horizon_days"]) == (12, 90)


def test_she_sets_her_window(anna_api, anna):
    response = anna_api.patch("/therapist/settings", {"min_notice_hours": 0, "booking_horizon_days": 730})

    assert response.status_code == 200
    assert (response.json()["min_notice_hours"], response.json()["booking_horizon_days"]) == (0, 730)
    anna.refresh_from_db()
    assert (anna.min_notice_hours, anna.booking_horizon_days) == (0, 730)


@pytest.mark.parametrize("field, value", [
    ("min_notice_hours", -1), ("min_notice_hours", 721), ("min_notice_hours", "tolv"),
    ("booking_horizon_days", 0), ("booking_horizon_days", 731), ("booking_horizon_days", 2.5),
    ("min_notice_hours", True), ("min_notice_hours", "12"), ("booking_horizon_days", 30.0),
])
def test_a_bad_window_is_422_naming_the_field(anna_api, anna, field, value):
    assert_invalid(anna_api.patch("/therapist/settings", {field: value}), field)
    anna.refresh_from_db()
    assert (anna.min_notice_hours, anna.booking_horizon_days) == (12, 90)


def test_a_client_cannot_book_too_soon_or_too_far_ahead(anna, nora_api):
    too_soon = slot_for(anna, "2027-01-11 19:00")
    too_far = slot_for(anna, "2027-04-11 10:00")
    inside = slot_for(anna, "2027-01-11 20:00")

    for s in (too_soon, too_far):
        assert_conflict(nora_api.post(f"/slots/{s.pk}/book", {"mode": "video"}), "outside_booking_window")
    assert nora_api.post(f"/slots/{inside.pk}/book", {"mode": "video"}).status_code == 201


def test_clients_see_only_the_slots_inside_and_the_listing_the_first_of_them(anna, anon_api):
    slot_for(anna, "2027-01-11 19:00")
    inside = slot_for(anna, "2027-01-11 20:00")
    slot_for(anna, "2027-04-11 10:00")

    assert [s["id"] for s in anon_api.get(f"/therapists/{anna.pk}/slots").json()] == [inside.pk]
    [listed] = anon_api.get("/therapists").json()
    assert listed["next_available"] == "2027-01-11T20:00:00+01:00"


def test_the_calendar_says_which_open_slots_clients_can_book(anna, anna_api, erik):
    soon = slot_for(anna, "2027-01-11 10:00")
    booked = slot_for(anna, "2027-01-11 21:00")
    later = slot_for(anna, "2027-01-11 22:00")
    booking_create_by_therapist(therapist=anna, slot=booked, client=erik, mode="video", actor=anna.user)

    entries = {e["id"]: e["bookable_by_clients"] for e in anna_api.get("/therapist/calendar", **DAY).json()}

    assert entries == {soon.pk: False, booked.pk: False, later.pk: True}
