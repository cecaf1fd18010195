"""R18 with the therapist's cut-off: a client cancels herself only until
`cancellation_cutoff_hours` before the start (default 24 h); her therapist may cancel later.
Time is Monday 2027-01-11 08:00 in Stockholm."""

from datetime import timedelta

import pytest

from conftest import at
from domain.errors import DomainError
from domain.models import Booking, OutboundEmail
from domain.services import booking_cancel, booking_create_by_therapist, slot_create

pytestmark = pytest.mark.usefixtures("now")


def booking_at(anna, erik, start):
    slot = slot_create(therapist=anna, actor=anna.user, start=at(start))
    return booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)


def test_the_client_cancels_before_the_cut_off(anna, erik):
    booking = booking_at(anna, erik, "2027-01-12 08:01")  # 24 h 1 min ahead

    booking_cancel(booking=booking, actor=erik.user)

    assert Booking.objects.get(pk=booking.pk).status == "cancelled"


@pytest.mark.parametrize("start", ["2027-01-12 08:00", "2027-01-11 12:00"])
def test_the_client_cannot_cancel_from_the_cut_off_on(anna, erik, start):
    booking = booking_at(anna, erik, start)

    with pytest.raises(DomainError) as caught:
        booking_cancel(booking=booking, actor=erik.user)

    assert caught.value.code == "cancellation_closed"
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    assert not OutboundEmail.objects.filter(kind="booking_cancelled").exists()


def test_the_therapist_may_still_cancel_after_the_cut_off(anna, erik):
    booking = booking_at(anna, erik, "2027-01-11 12:00")

    booking_cancel(booking=booking, actor=anna.user)

    assert Booking.objects.get(pk=booking.pk).status == "cancelled"
    assert OutboundEmail.objects.filter(kind="booking_cancelled", to=erik.email).count() == 1


def test_the_cut_off_is_the_therapists_setting(anna, erik):
    anna.cancellation_cutoff_hours = 2
    anna.save(update_fields=["cancellation_cutoff_hours"])
    booking = booking_at(anna, erik, "2027-01-11 10:01")

    booking_cancel(booking=booking, actor=erik.user)

    assert Booking.objects.get(pk=booking.pk).status == "cancelled"


def test_the_booking_says_until_when_the_client_may_cancel(anna, erik, now):
    booking = booking_at(anna, erik, "2027-01-13 09:00")

    assert booking.client_cancel_deadline == at("2027-01-12 09:00")
    assert booking.client_may_cancel()
    now.move_to(at("2027-01-12 09:00") - timedelta(seconds=1))
    assert booking.client_may_cancel()
    now.move_to(at("2027-01-12 09:00"))
    assert not booking.client_may_cancel()
