"""POST /bookings/{id}/cancel: either party cancels, the slot opens again and the client is
told (R18); nobody else learns the booking exists."""

import pytest

from api.tests.helpers import assert_conflict, assert_not_found, booked, past_slot, slot_for
from conftest import api_for, at
from domain import services
from domain.models import AuditEntry, Booking, OutboundEmail

pytestmark = pytest.mark.usefixtures("now")


@pytest.fixture
def booking(anna, erik):
    return booked(slot_for(anna, "2027-01-12 09:00"), erik, mode="video")


def test_the_client_cancels_her_booking(erik_api, anna, erik, booking, settings):
    response = erik_api.post(f"/bookings/{booking.pk}/cancel")

    assert response.status_code == 200
    assert response.json() == {
        "id": booking.pk,
        "slot_id": booking.slot_id,
        "start": "2027-01-12T09:00:00+01:00",
        "end": "2027-01-12T09:45:00+01:00",
        "mode": "video",
        "price": 1000,
        "status": "cancelled",
        "first_visit": False,  # a cancelled booking is no visit at all
        "outcome": None,  # cancelled in time (R34)
        "series_id": None,  # R32: no series
        "therapist": {"id": anna.pk, "first_name": "Anna", "last_name": "Andersson"},
        "client": {"id": erik.pk, "first_name": "Erik", "last_name": "Eriksson"},
        "video_url": f"{settings.SITE_URL}/video/{booking.video_token}",
        "reception_address": None,
        "personal_info": None,
    }
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by, booking.cancelled_at) == ("cancelled", erik.user, at("2027-01-11 08:00"))
    mail = OutboundEmail.objects.get(booking=booking, kind="booking_cancelled")
    assert mail.to == erik.email
    assert AuditEntry.objects.filter(action="booking.cancelled", target_id=booking.pk, actor=erik.user).exists()


def test_the_therapist_cancels_and_the_client_is_told(anna_api, anna, erik, booking):
    response = anna_api.post(f"/bookings/{booking.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by) == ("cancelled", anna.user)
    assert OutboundEmail.objects.get(booking=booking, kind="booking_cancelled").to == erik.email


def test_the_slot_is_open_again_after_a_cancellation(erik_api, nora_api, anna, booking):
    erik_api.post(f"/bookings/{booking.pk}/cancel")

    assert booking.slot_id in [s["id"] for s in nora_api.get(f"/therapists/{anna.pk}/slots").json()]
    assert nora_api.post(f"/slots/{booking.slot_id}/book", {"mode": "video"}).status_code == 201


def test_an_onsite_cancellation_still_answers_where_it_was(erik_api, anna, erik):
    services.therapist_settings_update(therapist=anna, actor=None, reception_address="Storgatan 1", personal_info="Ring på.")
    onsite = booked(slot_for(anna, "2027-01-12 11:00"), erik, mode="onsite")

    body = erik_api.post(f"/bookings/{onsite.pk}/cancel").json()

    assert (body["video_url"], body["reception_address"], body["personal_info"]) == (None, "Storgatan 1", "Ring på.")


@pytest.mark.parametrize("first", ["erik", "anna"])
@pytest.mark.parametrize("second", ["erik", "anna"])
def test_a_second_cancellation_is_refused(anna_api, erik_api, booking, first, second):
    apis = {"anna": anna_api, "erik": erik_api}
    apis[first].post(f"/bookings/{booking.pk}/cancel")

    assert_conflict(apis[second].post(f"/bookings/{booking.pk}/cancel"), "already_cancelled")
    assert OutboundEmail.objects.filter(booking=booking, kind="booking_cancelled").count() == 1


def test_a_booking_that_has_begun_cannot_be_cancelled(erik_api, anna, erik):
    slot = past_slot(anna, "2027-01-11 07:30")
    started = Booking.objects.create(
        slot=slot, therapist=anna, client=erik, start_at=slot.start_at, end_at=slot.end_at, price=slot.price, mode="video",
    )

    assert_conflict(erik_api.post(f"/bookings/{started.pk}/cancel"), "slot_in_past")
    started.refresh_from_db()
    assert started.status == "confirmed"


def test_another_therapist_cannot_cancel_it(bo_api, booking):
    assert_not_found(bo_api.post(f"/bookings/{booking.pk}/cancel"))
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    assert not OutboundEmail.objects.filter(kind="booking_cancelled").exists()


def test_another_client_cannot_cancel_it(nora_api, booking):
    assert_not_found(nora_api.post(f"/bookings/{booking.pk}/cancel"))
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_a_client_of_the_same_therapist_cannot_cancel_it(anna, booking, make_client):
    frida = make_client(first="Frida", therapist=anna)

    assert_not_found(api_for(frida.user).post(f"/bookings/{booking.pk}/cancel"))


def test_someone_elses_booking_answers_exactly_like_a_missing_one(nora_api, booking):
    theirs = nora_api.post(f"/bookings/{booking.pk}/cancel")
    missing = nora_api.post("/bookings/999999/cancel")

    assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json())


@pytest.mark.parametrize("booking_id", ["999999", str(10**20), "0"])
def test_a_missing_booking_is_not_found(erik_api, booking_id):
    assert_not_found(erik_api.post(f"/bookings/{booking_id}/cancel"))


def test_cancelling_needs_a_login(anon_api, booking):
    assert anon_api.post(f"/bookings/{booking.pk}/cancel").status_code == 401
    booking.refresh_from_db()
    assert booking.status == "confirmed"
