"""Slot hoarding (finding 8): a client holds at most MAX_OPEN_BOOKINGS_PER_THERAPIST future
bookings she made herself with one therapist, and a client who came through the platform
stays on a therapist's list only while she has a live or a held booking there."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from conftest import api_for, at
from domain.errors import DomainError
from domain.models import Booking, ClientLink, Slot
from domain.selectors import open_slots_for_viewer
from domain.services import booking_cancel, booking_create_by_client, booking_create_by_therapist


def slot(therapist, day=1, hour=9, audience="all"):
    start = at("2027-01-11 09:00") + timedelta(days=day, hours=hour - 9)
    return Slot.objects.create(therapist=therapist, start_at=start, end_at=start + timedelta(minutes=45), price=1000,
                               audience=audience)


def book(client, s):
    return booking_create_by_client(client=client, slot=s, mode="video", actor=client.user)


@pytest.fixture
def limit(settings):
    return settings.MAX_OPEN_BOOKINGS_PER_THERAPIST


def test_the_default_limit_is_two(limit):
    assert limit == 2


def test_a_client_books_up_to_the_limit_with_one_therapist_then_is_refused(anna, nora, now, limit):
    for day in range(1, limit + 1):
        book(nora, slot(anna, day))

    extra = slot(anna, 9)
    with pytest.raises(DomainError) as refused:
        book(nora, extra)

    assert refused.value.code == "booking_limit"
    assert not extra.bookings.exists()
    assert Booking.objects.filter(client=nora).count() == limit


def test_another_therapist_is_counted_apart(anna, bo, nora, now, limit):
    bo.client_booster = True
    bo.save()
    for day in range(1, limit + 1):
        book(nora, slot(anna, day))

    assert book(nora, slot(bo, 1)).is_confirmed


def test_her_therapists_bookings_of_her_are_neither_limited_nor_counted(anna, erik, now, limit):
    for day in range(1, limit + 3):
        booking_create_by_therapist(therapist=anna, slot=slot(anna, day), client=erik, mode="video", actor=anna.user)

    for day in range(10, 10 + limit):
        book(erik, slot(anna, day))
    with pytest.raises(DomainError):
        book(erik, slot(anna, 20))


def test_a_cancelled_or_past_booking_frees_a_place(anna, nora, now, limit):
    first = book(nora, slot(anna, 1))
    for day in range(2, limit + 1):
        book(nora, slot(anna, day))
    booking_cancel(booking=first, actor=nora.user)
    assert book(nora, slot(anna, 8)).is_confirmed

    now.shift(timedelta(days=8, hours=2))  # all of them over
    assert book(nora, slot(anna, 12)).is_confirmed


@pytest.mark.django_db(transaction=True)
def test_parallel_bookings_by_one_client_stop_at_the_limit(anna, nora, limit):
    """Her bookings are serialised on her own row: of six at the same moment, `limit` win."""
    slots = [slot(anna, 400 + day) for day in range(6)]  # far ahead on the real clock
    barrier = threading.Barrier(len(slots))
    outcomes = []

    def attempt(s):
        try:
            barrier.wait()
            book(nora, s)
            outcomes.append("booked")
        except DomainError as e:
            outcomes.append(e.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(s,)) for s in slots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == sorted(["booked"] * limit + ["booking_limit"] * (len(slots) - limit))
    assert Booking.objects.filter(client=nora, status="confirmed").count() == limit


def test_the_api_answers_409_booking_limit(anna, nora, now, limit):
    api = api_for(nora.user)
    for day in range(1, limit + 1):
        assert api.post(f"/slots/{slot(anna, day).pk}/book", {"mode": "video"}).status_code == 201

    response = api.post(f"/slots/{slot(anna, 9).pk}/book", {"mode": "video"})

    assert response.status_code == 409
    assert response.json()["code"] == "booking_limit"


# The list: a platform client stays only while she has a live or a held booking there.


def test_cancelling_her_only_booking_takes_a_platform_client_off_the_list(anna, nora, now):
    """Finding 8: one booking, cancelled at once, no longer makes a stranger an existing
    client who sees (and books) every existing-only slot."""
    hidden = slot(anna, 3, audience="existing")
    booking = book(nora, slot(anna, 1))
    assert ClientLink.objects.filter(therapist=anna, client=nora, source="platform").exists()
    assert hidden in open_slots_for_viewer(anna, nora)

    booking_cancel(booking=booking, actor=nora.user)

    assert not ClientLink.objects.filter(therapist=anna, client=nora).exists()
    assert hidden not in open_slots_for_viewer(anna, nora)
    with pytest.raises(Slot.DoesNotExist):
        book(nora, hidden)


def test_the_therapist_cancelling_takes_her_off_the_list_too(anna, nora, now):
    booking = book(nora, slot(anna, 1))

    booking_cancel(booking=booking, actor=anna.user)

    assert not ClientLink.objects.filter(therapist=anna, client=nora).exists()


def test_she_stays_while_another_booking_is_live(anna, nora, now):
    first = book(nora, slot(anna, 1))
    book(nora, slot(anna, 2))

    booking_cancel(booking=first, actor=nora.user)

    assert ClientLink.objects.filter(therapist=anna, client=nora, source="platform").exists()


def test_she_stays_once_she_has_had_a_visit(anna, nora, now):
    held = book(nora, slot(anna, 1))
    later = book(nora, slot(anna, 5))
    now.shift(timedelta(days=2))  # the first visit is over: held

    booking_cancel(booking=later, actor=nora.user)

    assert Booking.objects.get(pk=held.pk).is_confirmed
    assert ClientLink.objects.filter(therapist=anna, client=nora, source="platform").exists()


def test_an_own_client_stays_on_the_list_whatever_she_cancels(anna, erik, now):
    booking = book(erik, slot(anna, 1))

    booking_cancel(booking=booking, actor=erik.user)

    assert ClientLink.objects.filter(therapist=anna, client=erik, source="own").exists()
