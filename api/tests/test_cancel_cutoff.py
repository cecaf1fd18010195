"""POST /bookings/{id}/cancel and the therapist's cut-off: a client is refused from the
cut-off on (409 cancellation_closed); the therapist is not."""

import pytest

from api.tests.helpers import booked, slot_for
from domain.models import Booking

pytestmark = pytest.mark.usefixtures("now")  # Monday 2027-01-11 08:00


def test_a_client_cannot_cancel_after_the_cut_off(erik_api, anna, erik):
    booking = booked(slot_for(anna, "2027-01-11 15:00"), erik)

    response = erik_api.post(f"/bookings/{booking.pk}/cancel")

    assert response.status_code == 409
    assert response.json()["code"] == "cancellation_closed"
    assert response.json()["detail"]
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"


def test_a_client_cancels_before_the_cut_off(erik_api, anna, erik):
    booking = booked(slot_for(anna, "2027-01-12 09:00"), erik)

    assert erik_api.post(f"/bookings/{booking.pk}/cancel").status_code == 200


def test_the_therapist_cancels_after_the_cut_off(anna_api, anna, erik):
    booking = booked(slot_for(anna, "2027-01-11 15:00"), erik)

    response = anna_api.post(f"/bookings/{booking.pk}/cancel")

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
