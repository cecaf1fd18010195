"""R38's effect: an open slot overlapping a busy time of the therapist's external calendar is
hidden from clients (her profile's open slots, the listing's next_available, matching) and
refused if a client books or moves into it (`slot_busy`); the therapist may still book it.
Touching ends do not overlap. Time is Monday 2027-01-11 08:00 in Stockholm; both databases
(run with DATABASE_URL=postgres://… for PostgreSQL)."""

import pytest

from conftest import at, connected
from domain import selectors
from domain.errors import Code, DomainError
from domain.matching import Wish, therapists_matching
from domain.models import BusyTime
from domain.services import booking_create_by_client, booking_create_by_therapist, booking_move, slot_create

pytestmark = pytest.mark.usefixtures("now")


def slot_at(therapist, start, minutes=60):
    return slot_create(therapist=therapist, actor=therapist.user, start=at(start), duration_minutes=minutes)


def busy(therapist, start, end):
    connected(therapist)
    return BusyTime.objects.create(therapist=therapist, start_at=at(start), end_at=at(end), title="Möte")


@pytest.fixture
def slots(anna):
    s = {
        "free": slot_at(anna, "2027-01-12 09:00"),
        "busy": slot_at(anna, "2027-01-12 11:00"),
        "touching": slot_at(anna, "2027-01-12 13:00"),  # the busy time ends as it starts
    }
    busy(anna, "2027-01-12 11:30", "2027-01-12 13:00")
    return s


@pytest.fixture
def slots_pieces(anna):
    """A long busy time as the fetch stores it: pieces of at most a day."""
    s = {"late": slot_at(anna, "2027-01-14 10:00"), "next": slot_at(anna, "2027-01-14 12:00")}
    busy(anna, "2027-01-12 11:00", "2027-01-13 11:00")
    busy(anna, "2027-01-13 11:00", "2027-01-14 11:00")
    return s


def test_hidden_from_clients(anna, nora, slots):
    shown = [s.pk for s in selectors.open_slots_for_viewer(anna, nora)]
    assert shown == [slots["free"].pk, slots["touching"].pk]


def test_a_slot_inside_a_long_busy_time_is_hidden(anna, nora, slots_pieces):
    shown = {s.pk for s in selectors.open_slots_for_viewer(anna, nora)}
    assert slots_pieces["late"].pk not in shown
    assert slots_pieces["next"].pk in shown


def test_touching_ends_do_not_overlap(anna, nora):
    slot = slot_at(anna, "2027-01-12 13:00")
    busy(anna, "2027-01-12 11:30", "2027-01-12 13:00")
    busy(anna, "2027-01-12 14:00", "2027-01-12 15:00")
    assert [s.pk for s in selectors.open_slots_for_viewer(anna, nora)] == [slot.pk]


def test_listing_next_available_skips_busy(anna, nora):
    busy_slot = slot_at(anna, "2027-01-12 09:00")
    free_slot = slot_at(anna, "2027-01-12 11:00")
    busy(anna, "2027-01-12 08:30", "2027-01-12 09:30")
    listed = {t.pk: t for t in selectors.therapist_listing_live()}
    assert listed[anna.pk].next_available == free_slot.start_at
    BusyTime.objects.all().delete()
    listed = {t.pk: t for t in selectors.therapist_listing_live()}
    assert listed[anna.pk].next_available == busy_slot.start_at


def test_matching_skips_busy(anna):
    slot = slot_at(anna, "2027-01-12 09:00")
    busy(anna, "2027-01-12 08:30", "2027-01-12 09:30")
    match = {m.therapist.pk: m for m in therapists_matching(Wish())}[anna.pk]
    assert match.next_open is None
    BusyTime.objects.all().delete()
    match = {m.therapist.pk: m for m in therapists_matching(Wish())}[anna.pk]
    assert match.next_open == slot.start_at


def test_client_booking_refused_with_slot_busy(anna, nora, slots):
    with pytest.raises(DomainError) as e:
        booking_create_by_client(client=nora, slot=slots["busy"], mode="video", actor=nora.user)
    assert e.value.code == Code.SLOT_BUSY
    assert not slots["busy"].bookings.exists()
    booking = booking_create_by_client(client=nora, slot=slots["touching"], mode="video", actor=nora.user)
    assert booking.slot_id == slots["touching"].pk


def test_the_therapist_may_still_book_it(anna, erik, slots):
    booking = booking_create_by_therapist(therapist=anna, slot=slots["busy"], client=erik, mode="video", actor=anna.user)
    assert booking.slot_id == slots["busy"].pk


def test_client_move_into_busy_refused(anna, nora, slots):
    booking = booking_create_by_client(client=nora, slot=slots["free"], mode="video", actor=nora.user)
    with pytest.raises(DomainError) as e:
        booking_move(booking=booking, slot=slots["busy"], actor=nora.user)
    assert e.value.code == Code.SLOT_BUSY
    booking.refresh_from_db()
    assert booking.slot_id == slots["free"].pk
