"""Booking by the therapist (R12–R14) and by the client (R7–R9, R17), cancelling (R18), the
first visit (R15) and one booking per slot (R16).

Anna has Client Booster, Bo has not; Erik is on Anna's list (source own); Nora is on
nobody's. Time is frozen at Monday 2027-01-11 08:00 in Stockholm."""

import json

import pytest

from conftest import at
from domain import selectors
from domain.errors import DomainError
from domain.models import AuditEntry, Booking, ClientLink, OutboundEmail, Slot
from domain.services import (
    booking_cancel,
    booking_create_by_client,
    booking_create_by_therapist,
    client_booster_set,
    slot_create,
)


def slot_at(therapist, text, **kwargs):
    return slot_create(therapist=therapist, actor=therapist.user, start=at(text), **kwargs)


def color(slot) -> str:
    """The colour the calendar shows, read afresh the way the calendar reads it."""
    prefetched = Slot.objects.with_live_booking().get(pk=slot.pk).color
    assert Slot.objects.get(pk=slot.pk).color == prefetched
    return prefetched


def refused(code, call, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    assert caught.value.code == code


def nothing_booked():
    assert not Booking.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="booking.").exists()


@pytest.fixture
def slot(anna, now):
    """Anna's slot open to all, Monday 09:00–09:45, video or on site."""
    return slot_at(anna, "2027-01-11 09:00")


@pytest.fixture
def existing_only(anna, now):
    return slot_at(anna, "2027-01-11 11:00", audience="existing")


def by_therapist(slot, client, mode="video"):
    return booking_create_by_therapist(therapist=slot.therapist, slot=slot, client=client, mode=mode,
                                       actor=slot.therapist.user)


def by_client(slot, client, mode="video"):
    return booking_create_by_client(client=client, slot=slot, mode=mode, actor=client.user)


# The therapist books a client from her list (R12–R14, R19).


def test_the_therapist_books_a_client_from_her_list(anna, erik, slot):
    booking = by_therapist(slot, erik, mode="onsite")

    row = Booking.objects.get(pk=booking.pk)
    assert (row.slot, row.therapist, row.client, row.status, row.mode) == (slot, anna, erik, "confirmed", "onsite")
    assert (row.start_at, row.end_at, row.price, row.sequence) == (at("2027-01-11 09:00"), at("2027-01-11 09:45"), 1000, 0)
    assert row.created_by == anna.user
    [mail] = OutboundEmail.objects.all()
    assert (mail.kind, mail.booking, mail.to, mail.status) == ("booking_confirmed", row, erik.email, "pending")
    assert "måndag 11 januari 2027 kl. 09:00" in mail.subject
    assert "METHOD:REQUEST" in mail.ics
    [entry] = AuditEntry.objects.filter(action="booking.created")
    assert (entry.actor, entry.therapist, entry.target_id, entry.slot_id) == (anna.user, anna, booking.pk, slot.pk)
    assert (entry.after["client_id"], entry.after["mode"], entry.after["status"]) == (erik.pk, "onsite", "confirmed")
    assert erik.personnummer not in json.dumps(entry.after)
    # Booking her own client changes nothing on her list.
    assert list(ClientLink.objects.values_list("therapist", "client", "source")) == [(anna.pk, erik.pk, "own")]


def test_a_booked_slot_shows_red_with_the_clients_name(anna, erik, slot):
    by_therapist(slot, erik)
    later = slot_at(anna, "2027-01-12 09:00")

    booking = by_therapist(later, erik)

    assert color(later) == "red"
    assert booking.first_visit is False
    [_, entry] = selectors.calendar_for_therapist(anna, at("2027-01-11 00:00"), at("2027-01-18 00:00"))
    assert (entry.pk, entry.color) == (later.pk, "red")
    assert (entry.live_booking.client.first_name, entry.live_booking.client.last_name) == ("Erik", "Eriksson")


def test_it_refuses_a_client_not_on_the_list(anna, nora, slot):
    refused("client_not_on_list", by_therapist, slot=slot, client=nora)

    nothing_booked()
    assert color(slot) == "green"


def test_it_refuses_a_client_who_is_only_on_another_therapists_list(anna, bo, make_client, slot):
    bos_client = make_client(first="Björn", therapist=bo)

    refused("client_not_on_list", by_therapist, slot=slot, client=bos_client)

    nothing_booked()


def test_the_therapist_cannot_book_a_kind_the_slot_does_not_offer(anna, erik, now):
    video_only = slot_at(anna, "2027-01-11 09:00", modes=["video"])

    refused("mode_not_offered", by_therapist, slot=video_only, client=erik, mode="onsite")
    refused("mode_not_offered", by_therapist, slot=video_only, client=erik, mode="phone")

    nothing_booked()


def test_the_therapist_cannot_book_a_taken_slot(anna, erik, make_client, slot):
    first = by_therapist(slot, erik)
    other = make_client(first="Frida", therapist=anna)

    refused("slot_taken", by_therapist, slot=slot, client=other)

    assert list(Booking.objects.values_list("pk", flat=True)) == [first.pk]
    assert OutboundEmail.objects.count() == 1


def test_the_therapist_cannot_book_a_slot_that_has_begun(anna, erik, slot, now):
    now.move_to(at("2027-01-11 09:00"))

    refused("slot_in_past", by_therapist, slot=slot, client=erik)

    nothing_booked()


def test_the_therapist_cannot_book_another_therapists_slot(anna, bo, erik, now):
    bos_slot = slot_at(bo, "2027-01-11 09:00")
    ClientLink.objects.create(therapist=bo, client=erik, source="own")

    with pytest.raises(Slot.DoesNotExist):
        booking_create_by_therapist(therapist=anna, slot=bos_slot, client=erik, mode="video", actor=anna.user)

    nothing_booked()


# The client books (R7–R9, R17).


def test_a_new_client_books_a_slot_open_to_all_of_a_therapist_with_client_booster(anna, nora, slot):
    booking = by_client(slot, nora, mode="onsite")

    row = Booking.objects.get(pk=booking.pk)
    assert (row.slot, row.client, row.therapist, row.mode, row.created_by) == (slot, nora, anna, "onsite", nora.user)
    assert list(OutboundEmail.objects.order_by("pk").values_list("kind", "to")) == [
        ("booking_confirmed", nora.email), ("therapist_booking_created", anna.user.email),  # R30
    ]
    assert color(slot) == "yellow"


def test_a_client_booking_through_the_platform_joins_the_list(anna, nora, slot):
    by_client(slot, nora)

    link = ClientLink.objects.get(therapist=anna, client=nora)
    assert link.source == "platform"
    assert [c.pk for c in selectors.client_search(anna, "Nora")] == [nora.pk]
    [entry] = AuditEntry.objects.filter(action="client.linked")
    assert (entry.actor, entry.therapist, entry.target_type, entry.target_id) == (nora.user, anna, "client", nora.pk)
    assert entry.after == {"source": "platform"}


def test_an_own_client_who_books_herself_keeps_her_source(anna, erik, slot):
    by_client(slot, erik)

    assert list(ClientLink.objects.filter(client=erik).values_list("therapist", "source")) == [(anna.pk, "own")]
    assert not AuditEntry.objects.filter(action="client.linked").exists()


def test_a_returning_platform_client_is_linked_once(anna, nora, slot):
    by_client(slot, nora)

    by_client(slot_at(anna, "2027-01-12 09:00"), nora)

    assert ClientLink.objects.filter(therapist=anna, client=nora).count() == 1
    assert AuditEntry.objects.filter(action="client.linked").count() == 1


def test_an_existing_only_slot_does_not_exist_for_a_new_client(anna, nora, existing_only):
    with pytest.raises(Slot.DoesNotExist):
        by_client(existing_only, nora)

    nothing_booked()
    assert not ClientLink.objects.filter(client=nora).exists()


def test_an_existing_only_slot_does_not_exist_for_a_client_of_someone_else(bo, erik, now):
    bos_slot = slot_at(bo, "2027-01-11 09:00", audience="existing")

    with pytest.raises(Slot.DoesNotExist):
        by_client(bos_slot, erik)

    nothing_booked()
    assert not ClientLink.objects.filter(therapist=bo).exists()


def test_a_booked_existing_only_slot_still_does_not_exist_for_a_new_client(anna, erik, nora, existing_only):
    # Nothing is learnt: not "taken", just missing.
    by_client(existing_only, erik)

    with pytest.raises(Slot.DoesNotExist):
        by_client(existing_only, nora)


def test_a_client_on_the_list_books_an_existing_only_slot(anna, erik, existing_only):
    booking = by_client(existing_only, erik)

    assert Booking.objects.get(pk=booking.pk).client == erik
    assert color(existing_only) == "yellow"


def test_a_new_client_cannot_book_a_therapist_without_client_booster(bo, nora, now):
    bos_slot = slot_at(bo, "2027-01-11 09:00")

    with pytest.raises(Slot.DoesNotExist):
        by_client(bos_slot, nora)

    nothing_booked()
    assert not ClientLink.objects.filter(client=nora).exists()


def test_a_new_client_can_book_once_staff_switch_client_booster_on(bo, nora, now):
    bos_slot = slot_at(bo, "2027-01-11 09:00")
    client_booster_set(therapist=bo, on=True, actor=None)

    booking = by_client(Slot.objects.get(pk=bos_slot.pk), nora)

    assert Booking.objects.get(pk=booking.pk).therapist == bo
    assert ClientLink.objects.get(therapist=bo, client=nora).source == "platform"


def test_an_own_client_books_a_therapist_without_client_booster(bo, make_client, now):
    bos_client = make_client(first="Björn", therapist=bo)
    bos_slot = slot_at(bo, "2027-01-11 09:00")

    booking = by_client(bos_slot, bos_client)

    assert Booking.objects.get(pk=booking.pk).client == bos_client
    assert list(ClientLink.objects.filter(client=bos_client).values_list("source", flat=True)) == ["own"]


def test_a_client_cannot_book_a_kind_the_slot_does_not_offer(anna, nora, now):
    onsite_only = slot_at(anna, "2027-01-11 09:00", modes=["onsite"])

    refused("mode_not_offered", by_client, slot=onsite_only, client=nora, mode="video")

    nothing_booked()
    assert not ClientLink.objects.filter(client=nora).exists()


def test_a_client_cannot_book_a_slot_that_has_begun(anna, nora, slot, now):
    now.move_to(at("2027-01-11 09:01"))

    refused("slot_in_past", by_client, slot=slot, client=nora)

    nothing_booked()
    assert not ClientLink.objects.filter(client=nora).exists()


# R16: one slot, one booking.


def test_a_second_booking_of_the_same_slot_is_refused(anna, erik, nora, slot):
    first = by_client(slot, nora)

    refused("slot_taken", by_client, slot=slot, client=erik)
    refused("slot_taken", by_therapist, slot=slot, client=erik)

    assert list(Booking.objects.values_list("pk", "client")) == [(first.pk, nora.pk)]
    assert OutboundEmail.objects.count() == 2  # the first booking's: Nora's and her therapist's
    assert AuditEntry.objects.filter(action="booking.created").count() == 1


def test_the_same_client_cannot_book_a_slot_twice(anna, erik, slot):
    by_client(slot, erik)

    refused("slot_taken", by_client, slot=slot, client=erik)

    assert Booking.objects.count() == 1


# R18: cancelling.


def test_the_therapist_cancels_a_booking_and_the_slot_opens_again(anna, erik, slot):
    booking = by_therapist(slot, erik)

    cancelled = booking_cancel(booking=booking, actor=anna.user)

    assert cancelled.status == "cancelled"
    row = Booking.objects.get(pk=booking.pk)
    assert (row.status, row.cancelled_at, row.cancelled_by, row.slot) == ("cancelled", at("2027-01-11 08:00"), anna.user, slot)
    assert color(slot) == "green"
    assert list(selectors.open_slots_for_viewer(anna, erik)) == [slot]
    mail = OutboundEmail.objects.get(kind="booking_cancelled")
    assert (mail.booking, mail.to, mail.status) == (row, erik.email, "pending")
    assert "Avbokad" in mail.subject
    assert "METHOD:CANCEL" in mail.ics and "STATUS:CANCELLED" in mail.ics
    [entry] = AuditEntry.objects.filter(action="booking.cancelled")
    assert (entry.actor, entry.therapist, entry.target_id, entry.slot_id) == (anna.user, anna, booking.pk, slot.pk)
    assert (entry.before["status"], entry.after["status"]) == ("confirmed", "cancelled")


def test_the_client_cancels_her_booking(anna, erik, existing_only):
    anna.cancellation_cutoff_hours = 0  # the slot is today; the cut-off has tests of its own
    anna.save(update_fields=["cancellation_cutoff_hours"])
    booking = by_client(existing_only, erik)

    booking_cancel(booking=booking, actor=erik.user)

    row = Booking.objects.get(pk=booking.pk)
    assert (row.status, row.cancelled_by) == ("cancelled", erik.user)
    assert color(existing_only) == "blue"
    assert OutboundEmail.objects.filter(kind="booking_cancelled", to=erik.email).count() == 1


def test_a_cancelled_slot_can_be_booked_again(anna, erik, nora, slot):
    booking_cancel(booking=by_therapist(slot, erik), actor=anna.user)

    again = by_client(slot, nora)

    assert list(Booking.objects.filter(slot=slot).order_by("pk").values_list("status", "client")) == [
        ("cancelled", erik.pk), ("confirmed", nora.pk)
    ]
    assert Slot.objects.with_live_booking().get(pk=slot.pk).live_booking == again


def test_a_cancelled_booking_cannot_be_cancelled_again(anna, erik, slot):
    booking = by_therapist(slot, erik)
    booking_cancel(booking=booking, actor=anna.user)

    refused("already_cancelled", booking_cancel, booking=booking, actor=erik.user)

    assert Booking.objects.get(pk=booking.pk).cancelled_by == anna.user
    assert OutboundEmail.objects.filter(kind="booking_cancelled").count() == 1
    assert AuditEntry.objects.filter(action="booking.cancelled").count() == 1


def test_a_booking_cannot_be_cancelled_once_it_has_begun(anna, erik, slot, now):
    booking = by_therapist(slot, erik)
    now.move_to(at("2027-01-11 09:00"))

    refused("slot_in_past", booking_cancel, booking=booking, actor=anna.user)

    assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    assert not OutboundEmail.objects.filter(kind="booking_cancelled").exists()
    assert not AuditEntry.objects.filter(action="booking.cancelled").exists()


# R15: the first visit on the whole platform shows yellow.


def test_a_clients_first_visit_anywhere_shows_yellow(anna, erik, slot):
    booking = by_therapist(slot, erik)

    assert booking.first_visit is True
    assert color(slot) == "yellow"
    assert selectors.bookings_for_client(erik).get().first_visit is True


def test_a_first_meeting_with_a_second_therapist_is_red(anna, bo, erik, now):
    ClientLink.objects.create(therapist=bo, client=erik, source="own")
    by_therapist(slot_at(bo, "2027-01-11 09:00"), erik)
    annas = slot_at(anna, "2027-01-12 09:00")

    booking = by_therapist(annas, erik)

    assert booking.first_visit is False
    assert color(annas) == "red"


def test_a_meeting_that_has_already_happened_elsewhere_makes_the_next_red(anna, bo, erik, now):
    ClientLink.objects.create(therapist=bo, client=erik, source="own")
    past = slot_at(bo, "2027-01-11 09:00")
    by_therapist(past, erik)
    now.move_to(at("2027-01-18 08:00"))
    annas = slot_at(anna, "2027-01-19 09:00")

    by_client(annas, erik)

    assert color(annas) == "red"
    assert color(past) == "yellow"


def test_cancelling_the_earlier_booking_makes_the_later_one_a_first_visit_again(anna, bo, erik, now):
    ClientLink.objects.create(therapist=bo, client=erik, source="own")
    earlier = by_therapist(slot_at(bo, "2027-01-11 09:00"), erik)
    annas = slot_at(anna, "2027-01-12 09:00")
    by_therapist(annas, erik)
    assert color(annas) == "red"

    booking_cancel(booking=earlier, actor=bo.user)

    assert color(annas) == "yellow"
    assert [b.first_visit for b in selectors.bookings_for_client(erik).filter(status="confirmed")] == [True]


def test_a_later_booking_elsewhere_does_not_make_this_one_red(anna, bo, erik, now):
    annas = slot_at(anna, "2027-01-12 09:00")
    by_therapist(annas, erik)
    ClientLink.objects.create(therapist=bo, client=erik, source="own")
    bos = slot_at(bo, "2027-01-13 09:00")

    by_therapist(bos, erik)

    assert color(annas) == "yellow"
    assert color(bos) == "red"


def test_an_earlier_booking_made_later_takes_the_first_visit_over(anna, bo, erik, now):
    annas = slot_at(anna, "2027-01-12 09:00")
    by_therapist(annas, erik)
    assert color(annas) == "yellow"
    ClientLink.objects.create(therapist=bo, client=erik, source="own")
    bos = slot_at(bo, "2027-01-11 09:00")

    by_therapist(bos, erik)

    assert color(bos) == "yellow"
    assert color(annas) == "red"


def test_another_clients_bookings_do_not_count(anna, erik, nora, slot):
    by_client(slot, nora)
    later = slot_at(anna, "2027-01-12 09:00")

    by_therapist(later, erik)

    assert (color(slot), color(later)) == ("yellow", "yellow")


def test_a_cancelled_booking_is_no_first_visit_however_it_is_read(anna, erik, slot):
    booking = by_therapist(slot, erik)
    booking_cancel(booking=booking, actor=anna.user)

    assert Booking.objects.get(pk=booking.pk).first_visit is False
    assert Booking.objects.with_first_visit().get(pk=booking.pk).first_visit is False
    assert [b.first_visit for b in selectors.bookings_for_client(erik)] == [False]
