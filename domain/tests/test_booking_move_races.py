"""R33 under real concurrency (`services.booking_move` through the API, each request on its own
thread and database connection, released together: domain/tests/test_concurrency.py's `race`).
On PostgreSQL the row locks (both slots in ascending id, then the client, then the booking)
and the unique index `booking_one_live_per_slot` decide; on SQLite the IMMEDIATE transactions.
Whatever the interleaving: exactly one winner, the loser's booking untouched, no deadlock, no
500, and every live booking where its slot is."""

import pytest

from conftest import api_for, days_ahead
from domain.models import AuditEntry, Booking, Slot
from domain.services import booking_create_by_therapist, slot_create
from domain.tests.test_concurrency import answer, never_a_server_error, race

ROUNDS = 3

pytestmark = pytest.mark.django_db(transaction=True)


def open_slot(therapist, days, time="09:00", **fields):
    return slot_create(therapist=therapist, actor=therapist.user, start=days_ahead(days, time), **fields)


def book(client, slot):
    """Her therapist books her (a client's own bookings are limited, R17's hoarding rule)."""
    return booking_create_by_therapist(therapist=slot.therapist, slot=slot, client=client, mode="video",
                                       actor=slot.therapist.user)


def move(api, booking, slot):
    return lambda: answer(api.post(f"/bookings/{booking.pk}/move", {"slot_id": slot.pk}))


def snapshot(booking):
    b = Booking.objects.get(pk=booking.pk)
    return b.slot_id, b.start_at, b.end_at, b.price, b.mode, b.sequence, b.status


def every_live_booking_is_where_its_slot_is():
    for b in Booking.objects.live().select_related("slot"):
        assert (b.start_at, b.end_at) == (b.slot.start_at, b.slot.end_at)
    slot_ids = list(Booking.objects.live().values_list("slot_id", flat=True))
    assert len(slot_ids) == len(set(slot_ids))


@pytest.fixture
def two_clients(anna, make_client):
    erik = make_client(therapist=anna)
    olle = make_client(first="Olle", last="Olsson", therapist=anna)
    return erik, olle


def test_two_clients_moving_into_one_slot_give_exactly_one_move(anna, two_clients):
    erik, olle = two_clients
    for round_ in range(ROUNDS):
        base = 10 + 3 * round_
        eriks, olles = book(erik, open_slot(anna, base)), book(olle, open_slot(anna, base, "11:00"))
        target = open_slot(anna, base + 1)
        before = {b.pk: snapshot(b) for b in (eriks, olles)}

        outcomes = race(move(api_for(erik.user), eriks, target), move(api_for(olle.user), olles, target))

        never_a_server_error(outcomes)
        assert sorted(status for status, _ in outcomes) == [200, 409], outcomes
        [(_, won)] = [o for o in outcomes if o[0] == 200]
        [(_, lost)] = [o for o in outcomes if o[0] == 409]
        assert lost["code"] == "slot_taken"
        winner = Booking.objects.get(pk=won["id"])
        loser = eriks if winner.pk == olles.pk else olles
        assert winner.slot_id == target.pk and won["slot_id"] == target.pk
        assert snapshot(loser) == before[loser.pk]  # untouched: same slot, time, sequence
        assert Booking.objects.live().filter(slot=target).count() == 1
        assert AuditEntry.objects.filter(action="booking.moved", target_id=loser.pk).count() == 0
        every_live_booking_is_where_its_slot_is()


def test_a_move_racing_a_new_booking_of_the_slot_gives_one_winner(anna, erik, make_client):
    for round_ in range(ROUNDS):
        base = 20 + 3 * round_
        nora = make_client(first="Nora", last="Nilsson", birth="19920704")  # new to Anna each round
        eriks = book(erik, open_slot(anna, base))
        target = open_slot(anna, base + 1)
        before = snapshot(eriks)

        nora_api = api_for(nora.user)
        moved, booked = race(
            move(api_for(erik.user), eriks, target),
            lambda target=target, nora_api=nora_api: answer(nora_api.post(f"/slots/{target.pk}/book", {"mode": "video"})),
        )

        never_a_server_error([moved, booked])
        assert [moved[0], booked[0]] in ([200, 409], [409, 201])
        loser = booked if moved[0] == 200 else moved
        assert loser[1]["code"] == "slot_taken"
        live = Booking.objects.live().get(slot=target)
        if moved[0] == 200:
            assert live.pk == eriks.pk
        else:
            assert live.client_id == nora.pk and snapshot(eriks) == before
        every_live_booking_is_where_its_slot_is()


def test_crossing_moves_between_two_slots_never_deadlock(anna, two_clients):
    """Erik moves A→B while Olle moves B→A: both slots are taken, so both are refused; with
    the locks taken in one order (ascending id) neither waits on the other for ever."""
    erik, olle = two_clients
    for round_ in range(ROUNDS):
        base = 30 + 3 * round_
        a, b = open_slot(anna, base), open_slot(anna, base, "11:00")
        eriks, olles = book(erik, a), book(olle, b)
        before = {x.pk: snapshot(x) for x in (eriks, olles)}

        outcomes = race(move(api_for(erik.user), eriks, b), move(api_for(olle.user), olles, a))

        assert [(status, body["code"]) for status, body in outcomes] == [(409, "slot_taken")] * 2, outcomes
        assert {x.pk: snapshot(x) for x in (eriks, olles)} == before


def test_a_move_racing_the_therapist_moving_the_slot_is_consistent(anna, erik):
    """Anna drags the target an hour later while Erik moves into it: both succeed in either
    order, and his booking ends up where the slot is (a booking follows its slot)."""
    for round_ in range(ROUNDS):
        base = 40 + 3 * round_
        eriks = book(erik, open_slot(anna, base))
        target = open_slot(anna, base + 1)
        later = days_ahead(base + 1, "10:00")

        moved, dragged = race(
            move(api_for(erik.user), eriks, target),
            lambda target=target, later=later: answer(
                api_for(anna.user).patch(f"/therapist/slots/{target.pk}", {"start": later.isoformat()})),
        )

        never_a_server_error([moved, dragged])
        assert (moved[0], dragged[0]) == (200, 200), (moved, dragged)
        saved = Booking.objects.select_related("slot").get(pk=eriks.pk)
        assert saved.slot_id == target.pk and saved.start_at == later == saved.slot.start_at
        every_live_booking_is_where_its_slot_is()


def test_a_move_racing_the_therapist_removing_the_slot_is_consistent(anna, erik):
    """Either the slot goes first and the move finds it missing (404, his booking where it
    was), or the move comes first and the booked slot cannot be removed (409 slot_booked)."""
    for round_ in range(ROUNDS):
        base = 50 + 3 * round_
        eriks = book(erik, open_slot(anna, base))
        target = open_slot(anna, base + 1)
        before = snapshot(eriks)

        moved, removed = race(
            move(api_for(erik.user), eriks, target),
            lambda target=target: answer(api_for(anna.user).delete(f"/therapist/slots/{target.pk}")),
        )

        never_a_server_error([moved, removed])
        if moved[0] == 200:
            assert removed == (409, removed[1]) and removed[1]["code"] == "slot_booked"
            assert Slot.objects.filter(pk=target.pk).exists() and snapshot(eriks)[0] == target.pk
        else:
            assert (moved[0], removed[0]) == (404, 204), (moved, removed)
            assert snapshot(eriks) == before and not Slot.objects.filter(pk=target.pk).exists()
        every_live_booking_is_where_its_slot_is()


def test_a_move_racing_the_therapist_moving_the_old_slot_is_consistent(anna, erik):
    """Anna drags the slot Erik is on while he moves away from it: both succeed; his booking
    ends on the target, and each step raised its SEQUENCE."""
    for round_ in range(ROUNDS):
        base = 60 + 3 * round_
        old = open_slot(anna, base)
        eriks = book(erik, old)
        target = open_slot(anna, base + 1)
        later = days_ahead(base, "12:00")

        moved, dragged = race(
            move(api_for(erik.user), eriks, target),
            lambda old=old, later=later: answer(
                api_for(anna.user).patch(f"/therapist/slots/{old.pk}", {"start": later.isoformat()})),
        )

        never_a_server_error([moved, dragged])
        assert (moved[0], dragged[0]) == (200, 200), (moved, dragged)
        saved = Booking.objects.get(pk=eriks.pk)
        assert saved.slot_id == target.pk and saved.start_at == target.start_at
        assert saved.sequence in (1, 2)  # 2 when the drag came first and moved the booking with it
        every_live_booking_is_where_its_slot_is()


def test_a_move_racing_the_therapist_cancelling_the_booking_is_consistent(anna, erik):
    """Either the cancellation comes first (the move is already_cancelled) or the move (the
    booking is cancelled on its new slot); never a live booking left behind on either slot."""
    for round_ in range(ROUNDS):
        base = 70 + 3 * round_
        old = open_slot(anna, base)
        eriks = book(erik, old)
        target = open_slot(anna, base + 1)

        moved, cancelled = race(
            move(api_for(erik.user), eriks, target),
            lambda eriks=eriks: answer(api_for(anna.user).post(f"/bookings/{eriks.pk}/cancel")),
        )

        never_a_server_error([moved, cancelled])
        assert cancelled[0] == 200, cancelled
        saved = Booking.objects.get(pk=eriks.pk)
        assert saved.status == "cancelled"
        if moved[0] == 200:
            assert saved.slot_id == target.pk and saved.sequence == 2
        else:
            assert moved == (409, moved[1]) and moved[1]["code"] == "already_cancelled"
            assert saved.slot_id == old.pk and saved.sequence == 1
        assert not Booking.objects.live().filter(slot__in=[old, target]).exists()
