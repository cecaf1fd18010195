"""R33: a client moves her own booking to another open slot of the same therapist before her
cut-off, in one step (`services.booking_move`): the one booking row gets the new slot, time,
price and a raised SEQUENCE, so she never holds two bookings or none; every refusal leaves it
untouched. Time is Monday 2027-01-11 08:00 in Stockholm; both databases (the races are in
domain/tests/test_booking_move_races.py)."""

import pytest
from django.core.exceptions import ValidationError

from conftest import at
from domain.errors import DomainError
from domain.models import AuditEntry, Booking, OutboundEmail, Slot, User
from domain.selectors import open_slots_for_viewer, slot_history
from domain.services import (
    booking_cancel,
    booking_create_by_client,
    booking_create_by_therapist,
    booking_move,
    slot_create,
    slot_delete,
)
from domain.tests.icaljs import read_ical
from therapist_pages.history import describe

pytestmark = pytest.mark.usefixtures("now")


def slot(therapist, text, **fields):
    return slot_create(therapist=therapist, actor=therapist.user, start=at(text), **fields)


@pytest.fixture
def booking(anna, erik):
    """Erik's booking on Wednesday 10:00 (video), made by himself."""
    return booking_create_by_client(client=erik, slot=slot(anna, "2027-01-13 10:00"), mode="video", actor=erik.user)


@pytest.fixture
def target(anna):
    """An open slot on Thursday 14:00, 60 minutes at 1200 kr."""
    return slot(anna, "2027-01-14 14:00", duration_minutes=60, price=1200)


def unchanged(booking: Booking) -> None:
    """The refusal left everything as it was: no new version, no audit entry, no mail."""
    saved = Booking.objects.get(pk=booking.pk)
    assert (saved.slot_id, saved.start_at, saved.end_at, saved.price, saved.mode, saved.sequence, saved.status) == (
        booking.slot_id, booking.start_at, booking.end_at, booking.price, booking.mode, booking.sequence,
        booking.status)
    assert not AuditEntry.objects.filter(action="booking.moved").exists()
    assert not OutboundEmail.objects.filter(kind__in=["booking_moved", "therapist_booking_moved"]).exists()


def refused(code, booking, target, actor, **kwargs):
    with pytest.raises(DomainError) as caught:
        booking_move(booking=booking, slot=target, actor=actor, **kwargs)
    assert caught.value.code == code
    unchanged(booking)


# The happy path -------------------------------------------------------------------------------


def test_she_moves_her_booking_the_same_booking_at_the_new_time(anna, erik, booking, target):
    old_slot = booking.slot
    OutboundEmail.objects.all().delete()

    moved = booking_move(booking=booking, slot=target, actor=erik.user)

    saved = Booking.objects.get(pk=booking.pk)
    assert moved.pk == saved.pk == booking.pk
    assert Booking.objects.count() == 1  # never two, never none
    assert (saved.slot_id, saved.start_at, saved.end_at) == (target.pk, target.start_at, target.end_at)
    assert saved.price == 1200 and saved.mode == "video" and saved.status == "confirmed"
    assert saved.sequence == booking.sequence + 1
    assert saved.client_id == erik.pk and saved.by_client
    # The same video keys: her link still works at the new time.
    assert (saved.video_token, saved.therapist_video_token) == (booking.video_token, booking.therapist_video_token)
    # The old slot is open again, for anyone who may see it; the new one is not.
    open_ids = set(open_slots_for_viewer(anna, None).values_list("pk", flat=True))
    assert old_slot.pk in open_ids and target.pk not in open_ids


def test_the_move_is_audited_with_before_and_after_and_shows_in_both_slots_histories(anna, erik, booking, target):
    old_slot = booking.slot

    booking_move(booking=booking, slot=target, actor=erik.user)

    entry = AuditEntry.objects.get(action="booking.moved")
    assert entry.actor == erik.user and entry.target_id == booking.pk and entry.therapist_id == anna.pk
    assert entry.slot_id == target.pk
    assert (entry.before["slot_id"], entry.before["start"]) == (old_slot.pk, booking.start_at.isoformat())
    assert (entry.after["slot_id"], entry.after["start"], entry.after["price"]) == (
        target.pk, target.start_at.isoformat(), 1200)
    assert entry in slot_history(target) and entry in slot_history(old_slot)
    text = describe(entry, anna)
    assert "Erik Eriksson" in text and "13" in text and "14" in text


def test_one_mail_to_each_party_with_the_same_event_at_the_new_time(anna, erik, booking, target):
    OutboundEmail.objects.all().delete()

    booking_move(booking=booking, slot=target, actor=erik.user)

    mails = {m.kind: m for m in OutboundEmail.objects.all()}
    assert set(mails) == {"booking_moved", "therapist_booking_moved"}
    assert mails["booking_moved"].to == erik.email and mails["therapist_booking_moved"].to == anna.user.email
    assert "Du har flyttat din tid hos Anna Andersson." in mails["booking_moved"].body
    assert "Tidigare: onsdag 13 januari 2027 kl. 10:00" in mails["booking_moved"].body
    assert "Erik Eriksson har flyttat sin tid hos dig." in mails["therapist_booking_moved"].body
    for mail in mails.values():
        calendar = read_ical(mail.ics)
        [event] = calendar["events"]
        assert calendar["method"] == "REQUEST"
        assert event["uid"] == f"booking-{booking.pk}@tidbok"
        assert event["sequence"] == booking.sequence + 1
        assert event["start"]["utc"] == "2027-01-14T13:00:00.000Z"
        assert event["end"]["utc"] == "2027-01-14T14:00:00.000Z"


def test_the_therapist_who_turned_her_mails_off_is_not_mailed(anna, erik, booking, target):
    type(anna).objects.filter(pk=anna.pk).update(notify_by_email=False)
    OutboundEmail.objects.all().delete()

    booking_move(booking=Booking.objects.get(pk=booking.pk), slot=target, actor=erik.user)

    assert list(OutboundEmail.objects.values_list("kind", flat=True)) == ["booking_moved"]


def test_she_may_choose_the_kind_of_meeting_at_the_new_slot(erik, booking, target):
    booking_move(booking=booking, slot=target.pk, actor=erik.user, mode="onsite")

    assert Booking.objects.get(pk=booking.pk).mode == "onsite"


def test_the_first_visit_follows_the_move(anna, erik, booking):
    """R15 is computed when read: moving her first booking after her second makes the second
    her first visit."""
    later = booking_create_by_client(client=erik, slot=slot(anna, "2027-01-15 10:00"), mode="video",
                                     actor=erik.user)
    assert Booking.objects.with_first_visit().get(pk=booking.pk).first_visit

    booking_move(booking=booking, slot=slot(anna, "2027-01-20 10:00"), actor=erik.user)

    assert not Booking.objects.with_first_visit().get(pk=booking.pk).first_visit
    assert Booking.objects.with_first_visit().get(pk=later.pk).first_visit
    assert Booking.objects.get(pk=later.pk).first_visit


def test_a_therapists_booking_of_her_may_be_moved_by_her_and_moved_back(anna, erik, target):
    booking = booking_create_by_therapist(therapist=anna, slot=slot(anna, "2027-01-13 10:00"), client=erik,
                                          mode="video", actor=anna.user)
    first = booking.slot

    booking_move(booking=booking, slot=target, actor=erik.user)
    booking_move(booking=booking, slot=first, actor=erik.user)

    saved = Booking.objects.get(pk=booking.pk)
    assert saved.slot_id == first.pk and saved.sequence == 2 and not saved.by_client
    assert AuditEntry.objects.filter(action="booking.moved").count() == 2


def test_the_reminder_is_for_the_new_time(erik, booking, target, now):
    Booking.objects.filter(pk=booking.pk).update(reminder_queued_at=at("2027-01-11 07:00"))

    booking_move(booking=booking, slot=target, actor=erik.user)

    assert Booking.objects.get(pk=booking.pk).reminder_queued_at is None


# Her booking: only a live, future one before her cut-off --------------------------------------


def test_only_her_own_booking_moves(anna, erik, nora, booking, target):
    for actor in (nora.user, anna.user, None, User(email="x@example.se")):
        with pytest.raises(Booking.DoesNotExist):
            booking_move(booking=booking, slot=target, actor=actor)
    unchanged(booking)


def test_a_cancelled_booking_is_already_cancelled(erik, booking, target):
    booking_cancel(booking=booking, actor=erik.user)
    booking.refresh_from_db()

    refused("already_cancelled", booking, target, erik.user)


def test_after_her_cut_off_it_is_cancellation_closed(erik, booking, target, now):
    now.move_to(at("2027-01-12 10:00"))  # exactly 24 hours before: the cut-off has come

    refused("cancellation_closed", booking, target, erik.user)


def test_just_before_her_cut_off_she_may(erik, booking, target, now):
    now.move_to(at("2027-01-12 09:59"))

    assert booking_move(booking=booking, slot=target, actor=erik.user).slot_id == target.pk


def test_a_booking_that_has_begun_is_slot_in_past(erik, booking, target, now):
    now.move_to(at("2027-01-13 10:00"))

    refused("slot_in_past", booking, target, erik.user)


# The target -------------------------------------------------------------------------------------


def test_another_therapists_slot_is_missing(bo, erik, booking):
    bos = slot(bo, "2027-01-14 14:00")

    with pytest.raises(Slot.DoesNotExist):
        booking_move(booking=booking, slot=bos, actor=erik.user)
    unchanged(booking)


def test_a_slot_that_does_not_exist_is_missing(erik, booking):
    """Also an id no id column can hold, or none can have (with a live booking here she is on
    Anna's list, so every slot of Anna's is one she may see: another therapist's is the one
    she may not)."""
    for target in (10**9, 2**63, 2**70, 0, -1):
        with pytest.raises(Slot.DoesNotExist):
            booking_move(booking=booking, slot=target, actor=erik.user)
    unchanged(booking)


def test_the_slot_she_is_on_is_a_field_error(erik, booking):
    with pytest.raises(ValidationError) as caught:
        booking_move(booking=booking, slot=booking.slot_id, actor=erik.user)

    assert "slot_id" in caught.value.message_dict
    unchanged(booking)


def test_a_slot_id_that_is_no_number_is_a_field_error(erik, booking):
    for bad in ("x", None, True, 1.5):
        with pytest.raises(ValidationError) as caught:
            booking_move(booking=booking, slot=bad, actor=erik.user)
        assert "slot_id" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        booking_move(booking=booking, slot=booking.slot_id + 1, actor=erik.user, mode="phone")
    assert "mode" in caught.value.message_dict
    unchanged(booking)


def test_a_slot_that_has_begun_is_slot_in_past(anna, erik, booking, now):
    past = slot(anna, "2027-01-11 09:00")
    now.move_to(at("2027-01-11 09:00"))

    refused("slot_in_past", booking, past, erik.user)


def test_outside_the_booking_window_is_refused(anna, erik, booking):
    soon, far = slot(anna, "2027-01-11 12:00"), slot(anna, "2027-06-01 10:00")
    type(anna).objects.filter(pk=anna.pk).update(min_notice_hours=12, booking_horizon_days=90)

    refused("outside_booking_window", booking, soon, erik.user)
    refused("outside_booking_window", booking, far, erik.user)


def test_a_booked_slot_is_slot_taken(anna, erik, make_client, booking, target):
    other = make_client(first="Olle", last="Olsson", therapist=anna)
    booking_create_by_client(client=other, slot=target, mode="video", actor=other.user)

    refused("slot_taken", booking, target, erik.user)


def test_her_own_other_booking_is_slot_taken(anna, erik, booking, target):
    booking_create_by_client(client=erik, slot=target, mode="video", actor=erik.user)

    refused("slot_taken", booking, target, erik.user)


def test_a_kind_the_slot_does_not_offer_is_refused(anna, erik, booking):
    onsite_only = slot(anna, "2027-01-14 14:00", modes=["onsite"])

    refused("mode_not_offered", booking, onsite_only, erik.user)  # her booking is a video call
    refused("mode_not_offered", booking, slot(anna, "2027-01-15 14:00", modes=["video"]), erik.user, mode="onsite")


def test_a_slot_removed_before_the_move_is_missing(anna, erik, booking, target):
    target_id = target.pk
    slot_delete(slot=target, actor=anna.user)

    with pytest.raises(Slot.DoesNotExist):
        booking_move(booking=booking, slot=target_id, actor=erik.user)
    unchanged(booking)


def test_the_old_slot_once_left_can_be_booked_and_removed(anna, erik, nora, booking, target):
    old = booking.slot

    booking_move(booking=booking, slot=target, actor=erik.user)

    assert booking_create_by_client(client=nora, slot=old, mode="video", actor=nora.user).slot_id == old.pk
    assert Booking.objects.live().count() == 2
    # and the slot she moved to is hers: nobody else books it, it cannot be removed
    with pytest.raises(DomainError) as caught:
        slot_delete(slot=target, actor=anna.user)
    assert caught.value.code == "slot_booked"
