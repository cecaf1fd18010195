"""POST, PATCH and DELETE /therapist/slots: create (R2, R6, R7), move and re-size with R5's
price (R3–R5), reschedule a booked slot (R18), remove (R10), never overlap (R11)."""

from datetime import timedelta

import pytest

from api.tests.helpers import assert_conflict, assert_invalid, assert_not_found, booked, local_iso, past_slot, slot_for
from conftest import at
from domain import services
from domain.models import AuditEntry, Booking, OutboundEmail, Slot

pytestmark = pytest.mark.usefixtures("now")

TUESDAY_9 = "2027-01-12T09:00:00+01:00"


# Create ---------------------------------------------------------------------------------------
def test_it_creates_a_slot_from_the_settings(anna_api, anna):
    response = anna_api.post("/therapist/slots", {"start": TUESDAY_9})

    assert response.status_code == 201
    slot = Slot.objects.get(therapist=anna)
    assert response.json() == {
        "id": slot.pk,
        "start": "2027-01-12T09:00:00+01:00",
        "end": "2027-01-12T09:45:00+01:00",
        "duration_minutes": 45,
        "price": 1000,
        "modes": ["video", "onsite"],
        "audience": "all",
        "status": "available",
        "color": "green", "bookable_by_clients": True, "busy": False,
        "booking": None,
    }
    assert slot.start_at == at("2027-01-12 09:00")
    assert slot.end_at == at("2027-01-12 09:45")
    assert (slot.price, slot.video, slot.onsite, slot.audience) == (1000, True, True, "all")
    assert AuditEntry.objects.filter(action="slot.created", target_id=slot.pk, actor=anna.user).exists()


def test_it_creates_a_slot_with_what_is_given(anna_api, anna):
    response = anna_api.post(
        "/therapist/slots",
        {"start": TUESDAY_9, "duration_minutes": 60, "price": 1100, "modes": ["onsite"], "audience": "existing"},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["end"], body["duration_minutes"], body["price"], body["modes"], body["audience"], body["color"]) == (
        "2027-01-12T10:00:00+01:00", 60, 1100, ["onsite"], "existing", "blue",
    )
    slot = Slot.objects.get(pk=body["id"])
    assert (slot.end_at, slot.price, slot.video, slot.onsite, slot.audience) == (
        at("2027-01-12 10:00"), 1100, False, True, "existing",
    )


def test_a_length_other_than_the_default_is_priced_in_proportion(anna_api):
    body = anna_api.post("/therapist/slots", {"start": TUESDAY_9, "duration_minutes": 90}).json()

    assert (body["duration_minutes"], body["price"]) == (90, 2000)


def test_a_price_is_whole_kronor_rounded(anna_api):
    body = anna_api.post("/therapist/slots", {"start": TUESDAY_9, "duration_minutes": 50}).json()

    assert body["price"] == 1111  # 1000 * 50 / 45 = 1111.1…
    assert isinstance(body["price"], int)


def test_it_accepts_any_offset_and_answers_in_her_zone(anna_api, anna):
    body = anna_api.post("/therapist/slots", {"start": "2027-01-12T08:00:00Z"}).json()

    assert body["start"] == "2027-01-12T09:00:00+01:00"
    assert body["end"] == "2027-01-12T09:45:00+01:00"
    assert Slot.objects.get(pk=body["id"]).start_at == at("2027-01-12 09:00")


def test_a_summer_slot_is_answered_with_the_summer_offset(anna_api):
    body = anna_api.post("/therapist/slots", {"start": "2027-06-15T07:00:00Z"}).json()

    assert body["start"] == "2027-06-15T09:00:00+02:00"


def test_it_refuses_an_overlapping_slot(anna_api, anna):
    slot_for(anna, "2027-01-12 09:00")

    response = anna_api.post("/therapist/slots", {"start": "2027-01-12T09:30:00+01:00"})

    assert_conflict(response, "slot_overlap")
    assert Slot.objects.filter(therapist=anna).count() == 1


def test_a_slot_may_start_where_another_ends(anna_api, anna):
    slot_for(anna, "2027-01-12 09:00")

    assert anna_api.post("/therapist/slots", {"start": "2027-01-12T09:45:00+01:00"}).status_code == 201
    assert anna_api.post("/therapist/slots", {"start": "2027-01-12T08:15:00+01:00"}).status_code == 201


def test_another_therapists_slot_is_no_overlap(anna_api, bo):
    slot_for(bo, "2027-01-12 09:00")

    assert anna_api.post("/therapist/slots", {"start": TUESDAY_9}).status_code == 201


def test_it_refuses_a_slot_in_the_past(anna_api, anna):
    response = anna_api.post("/therapist/slots", {"start": "2027-01-11T07:59:00+01:00"})

    assert_conflict(response, "slot_in_past")
    assert not Slot.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("start", "2027-01-12T09:00:00"),  # naive
        ("start", "2027-01-12T09:00:30+01:00"),  # not a whole minute
        ("start", "next tuesday"),
        ("start", None),
        ("start", 12),
        ("start", "9999-12-31T23:30:00-05:00"),
        ("start", "0001-01-01T00:30:00+05:00"),
        ("duration_minutes", 0),
        ("duration_minutes", -45),
        ("duration_minutes", 12 * 60 + 1),
        ("duration_minutes", "45 min"),
        ("duration_minutes", 45.5),
        ("price", -1),
        ("price", 10**20),
        ("price", "tusen"),
        ("price", 999.5),
        ("modes", []),
        ("modes", ["phone"]),
        ("modes", ["video", "phone"]),
        ("modes", "video"),
        ("audience", "friends"),
        ("audience", ["all"]),
    ],
)
def test_it_refuses_bad_input_naming_the_field(anna_api, field, value):
    response = anna_api.post("/therapist/slots", {"start": TUESDAY_9, field: value})

    assert_invalid(response, field)
    assert not Slot.objects.exists()


def test_it_needs_a_start(anna_api):
    assert_invalid(anna_api.post("/therapist/slots", {"duration_minutes": 45}), "start")


@pytest.mark.parametrize("body", ['{"start": ', "start=2027-01-12", '{"start": "2027-01-12T09:00:00+01:00",}'])
def test_it_refuses_malformed_json(anna_api, body):
    response = anna_api.post("/therapist/slots", body)

    assert response.status_code == 400
    assert not Slot.objects.exists()


def test_a_client_may_not_create_slots(erik_api):
    assert erik_api.post("/therapist/slots", {"start": TUESDAY_9}).status_code == 403
    assert not Slot.objects.exists()


def test_creating_slots_needs_a_login(anon_api):
    assert anon_api.post("/therapist/slots", {"start": TUESDAY_9}).status_code == 401
    assert not Slot.objects.exists()


# Change -------------------------------------------------------------------------------------
@pytest.fixture
def slot(anna):
    return slot_for(anna, "2027-01-12 09:00")


def test_it_moves_a_slot(anna_api, slot):
    response = anna_api.patch(f"/therapist/slots/{slot.pk}", {"start": "2027-01-13T14:00:00+01:00"})

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["start"], body["end"], body["price"], body["status"], body["color"]) == (
        slot.pk, "2027-01-13T14:00:00+01:00", "2027-01-13T14:45:00+01:00", 1000, "available", "green",
    )
    slot.refresh_from_db()
    assert (slot.start_at, slot.end_at) == (at("2027-01-13 14:00"), at("2027-01-13 14:45"))


def test_a_move_accepts_any_offset(anna_api, slot):
    body = anna_api.patch(f"/therapist/slots/{slot.pk}", {"start": "2027-01-13T13:00:00Z"}).json()

    assert body["start"] == "2027-01-13T14:00:00+01:00"


def test_a_new_length_without_a_price_reprices(anna_api, slot):
    response = anna_api.patch(f"/therapist/slots/{slot.pk}", {"duration_minutes": 90})

    assert response.status_code == 200
    assert (response.json()["duration_minutes"], response.json()["price"], response.json()["end"]) == (
        90, 2000, "2027-01-12T10:30:00+01:00",
    )
    slot.refresh_from_db()
    assert (slot.price, slot.end_at) == (2000, at("2027-01-12 10:30"))


def test_repricing_follows_the_settings_not_the_slots_old_price(anna_api, anna):
    slot = slot_for(anna, "2027-01-12 09:00", price=700)

    body = anna_api.patch(f"/therapist/slots/{slot.pk}", {"duration_minutes": 90}).json()

    assert body["price"] == 2000


def test_a_new_length_with_a_price_keeps_that_price(anna_api, slot):
    body = anna_api.patch(f"/therapist/slots/{slot.pk}", {"duration_minutes": 90, "price": 1500}).json()

    assert (body["duration_minutes"], body["price"]) == (90, 1500)
    slot.refresh_from_db()
    assert slot.price == 1500


def test_a_price_alone_is_an_override(anna_api, slot):
    body = anna_api.patch(f"/therapist/slots/{slot.pk}", {"price": 0}).json()

    assert (body["duration_minutes"], body["price"]) == (45, 0)
    slot.refresh_from_db()
    assert slot.price == 0


def test_a_move_keeps_the_price(anna_api, anna):
    slot = slot_for(anna, "2027-01-12 09:00", price=850)

    body = anna_api.patch(f"/therapist/slots/{slot.pk}", {"start": "2027-01-13T09:00:00+01:00"}).json()

    assert body["price"] == 850


def test_it_changes_kinds_and_audience(anna_api, slot):
    body = anna_api.patch(f"/therapist/slots/{slot.pk}", {"modes": ["video"], "audience": "existing"}).json()

    assert (body["modes"], body["audience"], body["color"]) == (["video"], "existing", "blue")
    slot.refresh_from_db()
    assert (slot.video, slot.onsite, slot.audience) == (True, False, "existing")


def test_an_empty_change_changes_nothing(anna_api, slot):
    response = anna_api.patch(f"/therapist/slots/{slot.pk}", {})

    assert response.status_code == 200
    assert response.json()["start"] == local_iso("2027-01-12 09:00")
    assert response.json()["price"] == 1000


def test_it_refuses_a_move_onto_another_slot(anna_api, anna, slot):
    slot_for(anna, "2027-01-12 11:00")

    response = anna_api.patch(f"/therapist/slots/{slot.pk}", {"start": "2027-01-12T10:30:00+01:00"})

    assert_conflict(response, "slot_overlap")
    slot.refresh_from_db()
    assert slot.start_at == at("2027-01-12 09:00")


def test_it_refuses_a_lengthening_onto_another_slot(anna_api, anna, slot):
    slot_for(anna, "2027-01-12 10:00")

    assert_conflict(anna_api.patch(f"/therapist/slots/{slot.pk}", {"duration_minutes": 90}), "slot_overlap")
    slot.refresh_from_db()
    assert (slot.duration_minutes, slot.price) == (45, 1000)


def test_a_slot_may_move_over_its_own_old_time(anna_api, slot):
    assert anna_api.patch(f"/therapist/slots/{slot.pk}", {"start": "2027-01-12T09:30:00+01:00"}).status_code == 200


def test_it_refuses_a_move_into_the_past(anna_api, slot):
    assert_conflict(anna_api.patch(f"/therapist/slots/{slot.pk}", {"start": "2027-01-11T07:00:00+01:00"}), "slot_in_past")
    slot.refresh_from_db()
    assert slot.start_at == at("2027-01-12 09:00")


@pytest.mark.parametrize(
    "field, value",
    [
        ("start", "2027-01-13T14:00:00"),
        ("start", "soon"),
        ("start", "9999-12-31T23:30:00-05:00"),
        ("duration_minutes", 2),
        ("duration_minutes", "ninety"),
        ("price", -100),
        ("price", 10**20),
        ("price", 12.5),
        ("modes", []),
        ("modes", ["teleport"]),
        ("audience", "nobody"),
    ],
)
def test_it_refuses_bad_changes_naming_the_field(anna_api, slot, field, value):
    response = anna_api.patch(f"/therapist/slots/{slot.pk}", {field: value})

    assert_invalid(response, field)
    slot.refresh_from_db()
    assert (slot.start_at, slot.end_at, slot.price, slot.modes, slot.audience) == (
        at("2027-01-12 09:00"), at("2027-01-12 09:45"), 1000, ["video", "onsite"], "all",
    )


def test_it_refuses_malformed_json_for_a_change(anna_api, slot):
    assert anna_api.patch(f"/therapist/slots/{slot.pk}", "{price: 5}").status_code == 400


def test_another_therapists_slot_is_not_found(bo_api, slot):
    response = bo_api.patch(f"/therapist/slots/{slot.pk}", {"price": 1})

    assert_not_found(response)
    slot.refresh_from_db()
    assert slot.price == 1000


@pytest.mark.parametrize("slot_id", ["999999", str(10**20), "0", "-1"])
def test_a_missing_slot_is_not_found(anna_api, slot_id):
    assert_not_found(anna_api.patch(f"/therapist/slots/{slot_id}", {"price": 1}))


def test_a_client_may_not_change_slots(erik_api, slot):
    assert erik_api.patch(f"/therapist/slots/{slot.pk}", {"price": 1}).status_code == 403


def test_changing_slots_needs_a_login(anon_api, slot):
    assert anon_api.patch(f"/therapist/slots/{slot.pk}", {"price": 1}).status_code == 401
    slot.refresh_from_db()
    assert slot.price == 1000


# Reschedule (R18) ---------------------------------------------------------------------------
def test_moving_a_booked_slot_reschedules_the_booking_and_tells_the_client(anna_api, slot, erik):
    booking = booked(slot, erik)

    response = anna_api.patch(f"/therapist/slots/{slot.pk}", {"start": "2027-01-14T15:00:00+01:00"})

    assert response.status_code == 200
    body = response.json()
    assert body["start"] == "2027-01-14T15:00:00+01:00"
    assert body["status"] == "booked"
    assert body["booking"]["id"] == booking.pk
    assert body["booking"]["client"]["id"] == erik.pk
    booking.refresh_from_db()
    assert (booking.start_at, booking.end_at, booking.status, booking.slot_id) == (
        at("2027-01-14 15:00"), at("2027-01-14 15:45"), "confirmed", slot.pk,
    )
    mail = OutboundEmail.objects.get(kind="booking_rescheduled")
    assert mail.to == erik.email
    assert mail.booking_id == booking.pk
    assert "15:00" in mail.body


def test_repricing_a_booked_slot_changes_the_bookings_price_without_a_reschedule_mail(anna_api, slot, erik):
    booking = booked(slot, erik)

    anna_api.patch(f"/therapist/slots/{slot.pk}", {"price": 1200})

    booking.refresh_from_db()
    assert booking.price == 1200
    assert not OutboundEmail.objects.filter(kind="booking_rescheduled").exists()


def test_it_refuses_to_stop_offering_the_kind_a_booking_has(anna_api, slot, erik):
    booked(slot, erik, mode="video")

    assert_conflict(anna_api.patch(f"/therapist/slots/{slot.pk}", {"modes": ["onsite"]}), "mode_not_offered")
    slot.refresh_from_db()
    assert slot.modes == ["video", "onsite"]


def test_a_refused_reschedule_leaves_the_booking_and_sends_nothing(anna_api, anna, slot, erik):
    booking = booked(slot, erik)
    slot_for(anna, "2027-01-12 11:00")

    assert_conflict(anna_api.patch(f"/therapist/slots/{slot.pk}", {"start": "2027-01-12T11:15:00+01:00"}), "slot_overlap")

    booking.refresh_from_db()
    assert booking.start_at == at("2027-01-12 09:00")
    assert not OutboundEmail.objects.filter(kind="booking_rescheduled").exists()


# Remove -------------------------------------------------------------------------------------
def test_it_removes_an_open_slot(anna_api, slot):
    response = anna_api.delete(f"/therapist/slots/{slot.pk}")

    assert response.status_code == 204
    assert response.content == b""
    assert not Slot.objects.filter(pk=slot.pk).exists()


def test_it_refuses_to_remove_a_booked_slot(anna_api, slot, erik):
    booking = booked(slot, erik)

    assert_conflict(anna_api.delete(f"/therapist/slots/{slot.pk}"), "slot_booked")
    assert Slot.objects.filter(pk=slot.pk).exists()
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"


def test_a_slot_whose_booking_was_cancelled_can_be_removed(anna_api, slot, erik):
    booking = booked(slot, erik)
    services.booking_cancel(booking=booking, actor=erik.user)

    assert anna_api.delete(f"/therapist/slots/{slot.pk}").status_code == 204
    assert not Slot.objects.filter(pk=slot.pk).exists()
    booking.refresh_from_db()
    assert (booking.status, booking.slot_id) == ("cancelled", None)


def test_a_past_open_slot_can_be_removed(anna_api, anna):
    old = past_slot(anna, at("2027-01-11 08:00") - timedelta(hours=2))

    assert anna_api.delete(f"/therapist/slots/{old.pk}").status_code == 204


def test_another_therapists_slot_cannot_be_removed(bo_api, slot):
    assert_not_found(bo_api.delete(f"/therapist/slots/{slot.pk}"))
    assert Slot.objects.filter(pk=slot.pk).exists()


@pytest.mark.parametrize("slot_id", ["999999", str(10**20)])
def test_removing_a_missing_slot_is_not_found(anna_api, slot_id):
    assert_not_found(anna_api.delete(f"/therapist/slots/{slot_id}"))


def test_a_client_may_not_remove_slots(erik_api, slot):
    assert erik_api.delete(f"/therapist/slots/{slot.pk}").status_code == 403
    assert Slot.objects.filter(pk=slot.pk).exists()


def test_removing_slots_needs_a_login(anon_api, slot):
    assert anon_api.delete(f"/therapist/slots/{slot.pk}").status_code == 401
    assert Slot.objects.filter(pk=slot.pk).exists()
