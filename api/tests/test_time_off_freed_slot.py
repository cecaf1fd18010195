"""R36 with R18 and R33: a booking inside her time off stays for her to move or cancel; once it
is moved away or cancelled, its slot is free again but still inside her time off. Clients must
not see it, book it or move into it: "open slots inside it go" (docs/rules.md R36)."""

from datetime import date

import pytest

from api.tests.helpers import assert_not_found, self_booked, slot_for
from domain.services import booking_cancel, booking_move, time_off_create

pytestmark = pytest.mark.usefixtures("now")  # Monday 2027-01-11 08:00


@pytest.fixture
def freed(anna, erik):
    """Erik's booking on 20 jan, Anna's time off 18–24 jan set over it, and Erik moving it out."""
    inside = slot_for(anna, "2027-01-20 10:00")
    booking = self_booked(inside, erik)
    time_off_create(therapist=anna, start=date(2027, 1, 18), end=date(2027, 1, 24), actor=anna.user)
    booking_move(booking=booking, slot=slot_for(anna, "2027-01-27 10:00"), actor=erik.user)
    return inside


def test_a_slot_freed_inside_time_off_is_not_shown_to_clients(anna, nora_api, freed):
    slots = nora_api.get(f"/therapists/{anna.pk}/slots", start="2027-01-18T00:00:00+01:00",
                         end="2027-01-25T00:00:00+01:00")

    assert slots.status_code == 200, slots.content
    assert freed.pk not in [s["id"] for s in slots.json()]


def test_a_slot_freed_inside_time_off_cannot_be_booked(nora_api, freed):
    assert_not_found(nora_api.post(f"/slots/{freed.pk}/book", {"mode": "video"}))
    assert not freed.bookings.live().exists()


def test_a_booking_cannot_be_moved_into_time_off(anna, erik, erik_api, freed):
    other = self_booked(slot_for(anna, "2027-01-13 09:00"), erik)

    assert_not_found(erik_api.post(f"/bookings/{other.pk}/move", {"slot_id": freed.pk}))
    assert not freed.bookings.live().exists()


def test_a_cancelled_booking_frees_no_bookable_slot_inside_time_off(anna, erik, nora_api):
    inside = slot_for(anna, "2027-01-21 10:00")
    booking = self_booked(inside, erik)
    time_off_create(therapist=anna, start=date(2027, 1, 18), end=date(2027, 1, 24), actor=anna.user)
    booking_cancel(booking=booking, actor=anna.user)

    assert_not_found(nora_api.post(f"/slots/{inside.pk}/book", {"mode": "video"}))


def test_the_freed_slot_goes_as_the_open_ones_went_when_the_time_off_was_set(anna, erik, freed):
    """Moved away (the fixture) or cancelled: the slot inside the time off is removed, audited
    as the time off's removals are; a slot outside it is left alone."""
    from domain.models import AuditEntry, Slot, TimeOff

    time_off = TimeOff.objects.get(therapist=anna)
    outside = slot_for(anna, "2027-01-26 10:00")
    booking_cancel(booking=self_booked(outside, erik), actor=erik.user)

    assert not Slot.objects.filter(pk=freed.pk).exists()
    assert Slot.objects.filter(pk=outside.pk).exists()
    removal = AuditEntry.objects.get(action="slot.deleted", slot_id=freed.pk)
    assert removal.after == {"time_off_id": time_off.pk} and removal.actor == erik.user
