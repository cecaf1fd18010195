"""R36 under real concurrency: a client books an open slot inside the stretch while her therapist
sets time off. Either the booking wins (it stands and is listed among the bookings inside) or
the time off does (the slot is gone and the client gets 404); never a booking on a removed
slot, never a deadlock or a 500. Real threads through the whole HTTP stack, on SQLite and on
PostgreSQL (`test_concurrency.race`); the slots lie days ahead of the real clock."""

from datetime import timedelta

import pytest

from conftest import api_for, days_ahead
from domain.models import Booking, Slot, TimeOff
from domain.services import slot_create
from domain.tests.test_concurrency import answer, book, never_a_server_error, race


@pytest.mark.django_db(transaction=True)
def test_a_booking_racing_time_off_is_either_listed_or_refused(anna, erik, settings):
    settings.MAX_OPEN_BOOKINGS_PER_THERAPIST = 100
    anna_api, erik_api = api_for(anna.user), api_for(erik.user)
    seen = set()
    for round_ in range(6):
        day = days_ahead(21 + 2 * round_)
        slots = [slot_create(therapist=anna, actor=anna.user, start=day + timedelta(hours=h)) for h in range(3)]
        target = slots[1]

        set_off, booked = race(
            lambda d=day: answer(anna_api.post("/therapist/time-off", {"start": d.date().isoformat(),
                                                                      "end": d.date().isoformat()})),
            book(erik_api, target.pk),
        )

        never_a_server_error([set_off, booked])
        assert set_off[0] == 201, set_off
        inside = [b["id"] for b in set_off[1]["bookings_inside"]]
        if booked[0] == 201:
            seen.add("booking first")
            assert inside == [booked[1]["id"]]
            assert set_off[1]["removed_slots"] == 2
            assert Slot.objects.filter(pk=target.pk).exists()
            assert Booking.objects.get(pk=booked[1]["id"]).is_confirmed
        else:
            seen.add("time off first")
            assert (booked[0], inside, set_off[1]["removed_slots"]) == (404, [], 3), (booked, set_off)
            assert not Slot.objects.filter(pk=target.pk).exists()
        assert not Slot.objects.filter(pk__in=[s.pk for s in slots]).exclude(pk=target.pk).exists()
        assert TimeOff.objects.filter(therapist=anna).count() == round_ + 1

    assert not Booking.objects.live().filter(slot__isnull=True).exists()
    print("orders seen:", seen)
