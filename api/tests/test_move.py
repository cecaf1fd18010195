"""POST /bookings/{id}/move (R33): the client moves her own booking to another open slot of the
same therapist: 200 the same booking at the new time; 404 a booking not hers or a slot she may
not see; 409 with each code; 422 for the slot it is on and for a slot_id that is no id. The
rule's own tests are domain/tests/test_booking_move.py (and _races.py)."""

import pytest

from api.tests.helpers import assert_conflict, assert_invalid, assert_not_found, booked, self_booked, slot_for
from conftest import at
from domain.models import AuditEntry, Booking, OutboundEmail

pytestmark = pytest.mark.usefixtures("now")  # Monday 2027-01-11 08:00


@pytest.fixture
def booking(anna, erik):
    return self_booked(slot_for(anna, "2027-01-13 10:00"), erik)


@pytest.fixture
def target(anna):
    return slot_for(anna, "2027-01-14 14:00", duration_minutes=60, price=1200)


def move(api, booking, body):
    return api.post(f"/bookings/{booking.pk}/move", body)


def assert_untouched(booking):
    saved = Booking.objects.get(pk=booking.pk)
    assert (saved.slot_id, saved.start_at, saved.sequence) == (booking.slot_id, booking.start_at, booking.sequence)
    assert not AuditEntry.objects.filter(action="booking.moved").exists()


def test_she_moves_her_booking_and_gets_it_back_at_the_new_time(erik_api, anna, erik, booking, target):
    old_slot = booking.slot_id

    response = move(erik_api, booking, {"slot_id": target.pk})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == booking.pk and body["slot_id"] == target.pk
    assert (body["start"], body["end"]) == ("2027-01-14T14:00:00+01:00", "2027-01-14T15:00:00+01:00")
    assert (body["price"], body["mode"], body["status"], body["first_visit"]) == (1200, "video", "confirmed", True)
    assert body["video_url"] == booking.video_url
    [mine] = erik_api.get("/client/bookings").json()
    assert mine == body
    # The old slot is open again in her therapist's public list; the new one is not.
    open_ids = {s["id"] for s in erik_api.get(f"/therapists/{anna.pk}/slots").json()}
    assert old_slot in open_ids and target.pk not in open_ids
    assert sorted(OutboundEmail.objects.filter(booking=booking).values_list("kind", flat=True)) == [
        "booking_confirmed", "booking_moved", "therapist_booking_created", "therapist_booking_moved"]


def test_she_may_name_the_kind_of_meeting(erik_api, booking, target):
    response = move(erik_api, booking, {"slot_id": target.pk, "mode": "onsite"})

    assert response.status_code == 200 and response.json()["mode"] == "onsite"


def test_a_booking_not_hers_is_404(nora_api, anna_api, booking, target, make_client, anna):
    from conftest import api_for

    olle = make_client(first="Olle", last="Olsson", therapist=anna)
    for api in (nora_api, api_for(olle.user)):
        assert_not_found(move(api, booking, {"slot_id": target.pk}))
    assert_not_found(api_for(olle.user).post("/bookings/999999/move", {"slot_id": target.pk}))
    assert move(anna_api, booking, {"slot_id": target.pk}).status_code == 403  # a therapist drags the slot instead
    assert_untouched(booking)


def test_a_slot_she_may_not_see_is_404(erik_api, bo, booking):
    for slot_id in (slot_for(bo, "2027-01-14 14:00").pk, 10**9, 2**63 - 1):
        assert_not_found(move(erik_api, booking, {"slot_id": slot_id}))
    assert_untouched(booking)


def test_each_refusal_is_409_with_its_code(erik_api, anna, erik, make_client, booking, now):
    other = make_client(first="Olle", last="Olsson", therapist=anna)
    taken = slot_for(anna, "2027-01-15 10:00")
    booked(taken, other)
    assert_conflict(move(erik_api, booking, {"slot_id": taken.pk}), "slot_taken")

    onsite_only = slot_for(anna, "2027-01-15 12:00", modes=["onsite"])
    assert_conflict(move(erik_api, booking, {"slot_id": onsite_only.pk}), "mode_not_offered")

    far = slot_for(anna, "2027-06-01 10:00")
    type(anna).objects.filter(pk=anna.pk).update(booking_horizon_days=90)
    assert_conflict(move(erik_api, booking, {"slot_id": far.pk}), "outside_booking_window")

    soon = slot_for(anna, "2027-01-11 09:00")
    now.move_to(at("2027-01-11 09:00"))
    assert_conflict(move(erik_api, booking, {"slot_id": soon.pk}), "slot_in_past")

    later = slot_for(anna, "2027-01-20 10:00")
    now.move_to(at("2027-01-12 10:30"))  # less than 24 hours before her booking
    assert_conflict(move(erik_api, booking, {"slot_id": later.pk}), "cancellation_closed")
    assert_untouched(booking)

    now.move_to(at("2027-01-11 09:00"))
    erik_api.post(f"/bookings/{booking.pk}/cancel")
    assert_conflict(move(erik_api, booking, {"slot_id": later.pk}), "already_cancelled")


def test_the_slot_it_is_on_is_422_naming_slot_id(erik_api, booking):
    assert_invalid(move(erik_api, booking, {"slot_id": booking.slot_id}), "slot_id", statuses=(422,))
    assert_untouched(booking)


@pytest.mark.parametrize("body", [
    {}, {"slot_id": "x"}, {"slot_id": -1}, {"slot_id": 0}, {"slot_id": 2**63}, {"slot_id": 10**30},
    {"slot_id": None}, {"slot_id": True}, {"slot_id": "12"}, {"slot_id": 1.5}, {"slot_id": [1]},
])
def test_a_slot_id_that_is_no_id_is_422(erik_api, booking, body):
    assert_invalid(move(erik_api, booking, body), "slot_id", statuses=(422,))
    assert_untouched(booking)


def test_an_unknown_mode_is_422(erik_api, booking, target):
    assert_invalid(move(erik_api, booking, {"slot_id": target.pk, "mode": "phone"}), "mode", statuses=(422,))
    assert_untouched(booking)
