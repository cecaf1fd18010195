"""R11, R16, R10 under real concurrency, and the database constraints that stand behind the
services' checks.

The race tests start real threads, each with its own database connection (Django's
connections are per thread), release them together through a barrier and send each request
through the whole HTTP stack, so every status is the API's own. They run on SQLite (where the
IMMEDIATE transactions serialise writers and "database is locked" must never become a 500)
and on PostgreSQL (row locks, the exclusion constraint and the partial unique index).
Slots lie days ahead of the real clock (`conftest.days_ahead`), so that time need not be frozen
across threads and the tests hold whatever year they run in."""

import threading
import traceback
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from conftest import api_for, days_ahead, postgres_only
from domain.models import AuditEntry, Booking, ClientLink, OutboundEmail, Slot
from domain.services import slot_create

RACE_TIMEOUT = 60


def race(*calls):
    """Run each call in its own thread, all released at once; answer their results in order.
    Any exception in a thread (a 500 re-raised by the test client, a lock timeout) fails
    the test with its traceback."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def run(i, call):
        try:
            barrier.wait(timeout=RACE_TIMEOUT)
            results[i] = call()
        except BaseException:
            errors.append(traceback.format_exc())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RACE_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a racing request hung"
    assert not errors, "\n".join(errors)
    return results


def answer(response):
    """(status, JSON body or None): what a caller of the API sees."""
    body = response.json() if response.content else None
    return response.status_code, body


def book(api, slot_id, mode="video"):
    return lambda: answer(api.post(f"/slots/{slot_id}/book", {"mode": mode}))


def never_a_server_error(outcomes):
    assert all(status < 500 for status, _ in outcomes), outcomes


def open_slot(therapist, start, **kwargs):
    return slot_create(therapist=therapist, actor=therapist.user, start=start, **kwargs)


def ics_start(email: OutboundEmail):
    event = next(iter(Calendar.from_ical(email.ics).walk("VEVENT")))
    return event.decoded("dtstart")


# The races -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_clients_booking_one_slot_give_exactly_one_booking(anna, make_client):
    # Half are on Anna's list, half are new and find her through Client Booster (R9).
    clients = [
        make_client(first=f"Klient{i}", last="Samtidig", therapist=anna if i % 2 else None) for i in range(20)
    ]
    apis = [api_for(c.user) for c in clients]
    slot = open_slot(anna, days_ahead(7), audience="all")
    links_before = ClientLink.objects.filter(therapist=anna).count()

    outcomes = race(*(book(api, slot.pk) for api in apis))

    never_a_server_error(outcomes)
    winners = [body for status, body in outcomes if status == 201]
    losers = [body for status, body in outcomes if status != 201]
    assert len(winners) == 1, outcomes
    assert len(losers) == 19
    assert all(status == 409 for status, _ in outcomes if status != 201), outcomes
    assert {body["code"] for body in losers} == {"slot_taken"}

    live = Booking.objects.filter(slot=slot, status=Booking.Status.CONFIRMED)
    assert live.count() == 1
    assert Booking.objects.count() == 1
    booking = live.get()
    assert booking.pk == winners[0]["id"]
    assert booking.client_id == winners[0]["client"]["id"]
    # The winner's confirmation and Anna's note (R30); their send tasks committed with them,
    # and the losers' with nothing (R25).
    emails = list(OutboundEmail.objects.order_by("pk"))
    assert [(e.booking_id, e.kind, e.to) for e in emails] == [
        (booking.pk, "booking_confirmed", booking.client.email),
        (booking.pk, "therapist_booking_created", anna.user.email),
    ]
    assert sorted(t.args_kwargs["args"] for t in DBTaskResult.objects.all()) == [[e.pk] for e in emails]
    # A loser that was new to Anna did not join her list: its transaction rolled back whole.
    winner_was_new = clients.index(booking.client) % 2 == 0
    assert ClientLink.objects.filter(therapist=anna).count() == links_before + winner_was_new
    assert AuditEntry.objects.filter(action="booking.created").count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_overlapping_slots_created_at_once_leave_exactly_one(anna):
    apis = [api_for(anna.user) for _ in range(10)]
    # 45-minute slots starting 4 minutes apart: every pair overlaps.
    starts = [days_ahead(8) + timedelta(minutes=4 * i) for i in range(10)]

    def create(api, start):
        return lambda: answer(api.post("/therapist/slots", {"start": start.isoformat()}))

    outcomes = race(*(create(api, start) for api, start in zip(apis, starts, strict=True)))

    never_a_server_error(outcomes)
    created = [body for status, body in outcomes if status == 201]
    refused = [(status, body) for status, body in outcomes if status != 201]
    assert len(created) == 1, outcomes
    assert [status for status, _ in refused] == [409] * 9
    assert {body["code"] for _, body in refused} == {"slot_overlap"}
    slot = Slot.objects.get()
    assert slot.pk == created[0]["id"]
    assert slot.start_at in starts
    assert slot.end_at - slot.start_at == timedelta(minutes=45)


@pytest.mark.django_db(transaction=True)
def test_overlapping_slots_of_two_therapists_racing_are_both_created(anna, bo):
    """The serialisation is per therapist: Bo's calendar does not clash with Anna's."""
    start = days_ahead(9).isoformat()
    anna_api, bo_api = api_for(anna.user), api_for(bo.user)
    outcomes = race(
        lambda: answer(anna_api.post("/therapist/slots", {"start": start})),
        lambda: answer(bo_api.post("/therapist/slots", {"start": start})),
    )
    assert [status for status, _ in outcomes] == [201, 201], outcomes
    assert Slot.objects.filter(therapist=anna).count() == Slot.objects.filter(therapist=bo).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_move_racing_a_booking_leaves_the_booking_at_the_slots_time(anna, erik, settings):
    settings.MAX_OPEN_BOOKINGS_PER_THERAPIST = 100  # one client books every round's slot
    anna_api, erik_api = api_for(anna.user), api_for(erik.user)
    for round_ in range(10):
        old_start = days_ahead(14) + timedelta(days=round_)
        new_start = old_start + timedelta(hours=2)
        slot = open_slot(anna, old_start)

        moved, booked = race(
            lambda s=slot.pk, n=new_start: answer(
                anna_api.patch(f"/therapist/slots/{s}", {"start": n.isoformat(), "duration_minutes": 60})
            ),
            book(erik_api, slot.pk),
        )

        assert moved[0] == 200, moved
        assert booked[0] == 201, booked
        slot.refresh_from_db()
        booking = Booking.objects.get(slot=slot)
        assert (slot.start_at, slot.end_at) == (new_start, new_start + timedelta(minutes=60))
        assert slot.price == 1333  # R5: 1000 kr for 45 min re-prices to 1333 kr for 60
        # Whichever came first, the booking ends where the slot is, at the slot's price.
        assert booking.is_confirmed
        assert (booking.start_at, booking.end_at, booking.price) == (slot.start_at, slot.end_at, slot.price)

        emails = OutboundEmail.objects.filter(booking=booking)
        confirmed = emails.get(kind="booking_confirmed")
        rescheduled = list(emails.filter(kind="booking_rescheduled"))
        booked_first = booking.sequence == 1
        if booked_first:
            # Booked at the old time, then moved: the client is told of the new time (R18).
            # Answers are read after their own commit, so the booking's may already be moved.
            assert booked[1]["start"] in (old_start.isoformat(), new_start.isoformat())
            assert moved[1]["status"] == "booked" and moved[1]["booking"]["id"] == booking.pk
            assert ics_start(confirmed) == old_start
            assert len(rescheduled) == 1
            assert ics_start(rescheduled[0]) == new_start
        else:
            # Moved first, then booked at the new time: nothing to reschedule.
            assert booking.sequence == 0
            assert moved[1]["booking"] is None or moved[1]["booking"]["id"] == booking.pk
            assert booked[1]["start"] == new_start.isoformat()
            assert booked[1]["price"] == 1333
            assert ics_start(confirmed) == new_start
            assert rescheduled == []

    # Nowhere a confirmed booking at a time other than its slot's.
    for booking in Booking.objects.live().select_related("slot"):
        assert (booking.start_at, booking.end_at) == (booking.slot.start_at, booking.slot.end_at)


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_racing_a_move_tells_the_client_what_really_happened(anna, erik):
    anna_api, erik_api = api_for(anna.user), api_for(erik.user)
    for round_ in range(6):
        old_start = days_ahead(30) + timedelta(days=round_)
        new_start = old_start + timedelta(hours=3)
        slot = open_slot(anna, old_start)
        status, body = answer(erik_api.post(f"/slots/{slot.pk}/book", {"mode": "video"}))
        assert status == 201, body
        booking = Booking.objects.get(pk=body["id"])

        moved, cancelled = race(
            lambda s=slot.pk, n=new_start: answer(anna_api.patch(f"/therapist/slots/{s}", {"start": n.isoformat()})),
            lambda b=booking.pk: answer(erik_api.post(f"/bookings/{b}/cancel")),
        )

        assert (moved[0], cancelled[0]) == (200, 200), (moved, cancelled)
        booking.refresh_from_db()
        slot.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        assert slot.start_at == new_start
        assert not slot.bookings.live().exists()  # open again either way (R18)
        emails = list(OutboundEmail.objects.filter(booking=booking, to=erik.email).order_by("pk"))
        # Each version of the event has a higher SEQUENCE: the move raises it, the cancellation too.
        if booking.sequence == 2:
            # Moved, then cancelled: told of the new time, then that the new time is off.
            assert [e.kind for e in emails] == ["booking_confirmed", "booking_rescheduled", "booking_cancelled"]
            assert booking.start_at == new_start
        else:
            # Cancelled, then the open slot moved: nothing more to tell the client.
            assert booking.sequence == 1
            assert [e.kind for e in emails] == ["booking_confirmed", "booking_cancelled"]
            assert booking.start_at == old_start
        assert ics_start(emails[-1]) == booking.start_at
        # Anna is told what her client did (booked, cancelled), never of her own move (R30).
        notes = OutboundEmail.objects.filter(booking=booking, to=anna.user.email).order_by("pk")
        assert [e.kind for e in notes] == ["therapist_booking_created", "therapist_booking_cancelled"]
        assert ics_start(notes.last()) == booking.start_at


@pytest.mark.django_db(transaction=True)
def test_a_delete_racing_a_booking_never_leaves_a_booking_without_its_slot(anna, erik, settings):
    settings.MAX_OPEN_BOOKINGS_PER_THERAPIST = 100  # one client books every round's slot
    anna_api, erik_api = api_for(anna.user), api_for(erik.user)
    for round_ in range(6):
        slot = open_slot(anna, days_ahead(21) + timedelta(days=round_))

        deleted, booked = race(
            lambda s=slot.pk: answer(anna_api.delete(f"/therapist/slots/{s}")),
            book(erik_api, slot.pk),
        )

        assert (deleted[0], booked[0]) in {(204, 404), (409, 201)}, (deleted, booked)
        if deleted[0] == 204:
            assert not Slot.objects.filter(pk=slot.pk).exists()
            assert not Booking.objects.filter(start_at=slot.start_at).exists()
            assert not OutboundEmail.objects.filter(booking__start_at=slot.start_at).exists()
        else:
            assert deleted[1]["code"] == "slot_booked"
            booking = Booking.objects.get(pk=booked[1]["id"])
            assert booking.is_confirmed and booking.slot_id == slot.pk
            assert Slot.objects.filter(pk=slot.pk).exists()

    assert not Booking.objects.live().filter(slot__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_two_cancellations_at_once_cancel_once_and_mail_once(anna, erik):
    slot = open_slot(anna, days_ahead(28))
    booking_id = answer(api_for(erik.user).post(f"/slots/{slot.pk}/book", {"mode": "onsite"}))[1]["id"]

    erik_api, anna_api = api_for(erik.user), api_for(anna.user)
    outcomes = race(
        lambda: answer(erik_api.post(f"/bookings/{booking_id}/cancel")),
        lambda: answer(anna_api.post(f"/bookings/{booking_id}/cancel")),
    )

    assert sorted(status for status, _ in outcomes) == [200, 409], outcomes
    assert [body["code"] for status, body in outcomes if status == 409] == ["already_cancelled"]
    assert Booking.objects.get(pk=booking_id).status == Booking.Status.CANCELLED
    assert OutboundEmail.objects.filter(booking_id=booking_id, kind="booking_cancelled").count() == 1


# The database holds the rules itself ----------------------------------------------------------
# These bypass the services on purpose: a bug in a check, or a second code path, must still be
# refused by the database.


def _slot_row(therapist, start, minutes=45):
    return Slot(therapist=therapist, start_at=start, end_at=start + timedelta(minutes=minutes), price=1000)


def _booking_row(slot, client, status=Booking.Status.CONFIRMED):
    return Booking(
        slot=slot, therapist=slot.therapist, client=client, start_at=slot.start_at, end_at=slot.end_at,
        price=slot.price, mode="video", status=status,
    )


@postgres_only
def test_the_database_refuses_an_overlapping_slot_with_an_exclusion_violation(anna):
    Slot.objects.create(**_fields(_slot_row(anna, days_ahead(35, "09:00"))))
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Slot.objects.create(**_fields(_slot_row(anna, days_ahead(35, "09:30"))))
    assert refused.value.__cause__.sqlstate == "23P01"
    # A slot inside another, and one covering another, are refused alike.
    for start, minutes in (("09:10", 10), ("08:00", 180)):
        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            Slot.objects.create(**_fields(_slot_row(anna, days_ahead(35, start), minutes)))
        assert refused.value.__cause__.sqlstate == "23P01"
    assert Slot.objects.count() == 1


@postgres_only
def test_the_database_refuses_moving_a_slot_onto_another(anna):
    Slot.objects.create(**_fields(_slot_row(anna, days_ahead(35, "09:00"))))
    other = Slot.objects.create(**_fields(_slot_row(anna, days_ahead(35, "11:00"))))
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Slot.objects.filter(pk=other.pk).update(start_at=days_ahead(35, "09:15"), end_at=days_ahead(35, "10:00"))
    assert refused.value.__cause__.sqlstate == "23P01"


@postgres_only
def test_the_database_allows_adjacent_slots_and_other_therapists_overlaps(anna, bo):
    Slot.objects.create(**_fields(_slot_row(anna, days_ahead(35, "09:00"))))
    Slot.objects.create(**_fields(_slot_row(anna, days_ahead(35, "09:45"))))  # starts as the first ends
    Slot.objects.create(**_fields(_slot_row(anna, days_ahead(35, "08:15"))))  # ends as the first starts
    Slot.objects.create(**_fields(_slot_row(bo, days_ahead(35, "09:00"))))
    assert Slot.objects.filter(therapist=anna).count() == 3
    assert Slot.objects.filter(therapist=bo).count() == 1


@pytest.mark.django_db
def test_the_database_refuses_a_second_confirmed_booking_for_one_slot(anna, erik, nora):
    slot = Slot.objects.create(**_fields(_slot_row(anna, days_ahead(36))))
    Booking.objects.create(**_fields(_booking_row(slot, erik)))
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(**_fields(_booking_row(slot, nora)))
    assert Booking.objects.filter(slot=slot).count() == 1


@pytest.mark.django_db
def test_the_database_allows_cancelled_bookings_beside_the_live_one(anna, erik, nora):
    slot = Slot.objects.create(**_fields(_slot_row(anna, days_ahead(36))))
    Booking.objects.create(**_fields(_booking_row(slot, erik, Booking.Status.CANCELLED)))
    Booking.objects.create(**_fields(_booking_row(slot, nora, Booking.Status.CANCELLED)))
    Booking.objects.create(**_fields(_booking_row(slot, erik)))
    assert Booking.objects.filter(slot=slot).count() == 3


@pytest.mark.django_db
def test_the_database_refuses_deleting_a_slot_with_a_live_booking(anna, erik):
    slot = Slot.objects.create(**_fields(_slot_row(anna, days_ahead(37))))
    booking = Booking.objects.create(**_fields(_booking_row(slot, erik)))
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        slot.delete()
    if connection.vendor == "postgresql":
        assert refused.value.__cause__.sqlstate == "23514"  # check_violation
        assert refused.value.__cause__.diag.constraint_name == "booking_live_has_slot"
    else:
        assert "booking_live_has_slot" in str(refused.value)
    assert Slot.objects.filter(pk=slot.pk).exists()
    booking.refresh_from_db()
    assert booking.slot_id == slot.pk


@pytest.mark.django_db
def test_the_database_lets_a_slot_go_once_its_booking_is_cancelled(anna, erik):
    slot = Slot.objects.create(**_fields(_slot_row(anna, days_ahead(37))))
    booking = Booking.objects.create(**_fields(_booking_row(slot, erik, Booking.Status.CANCELLED)))
    slot.delete()
    booking.refresh_from_db()
    assert booking.slot_id is None  # the cancelled booking keeps its own time and price
    assert booking.start_at == days_ahead(37)


def _fields(obj):
    """The concrete field values of an unsaved model instance, for objects.create()."""
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if not f.primary_key}
