"""R34: once a visit has begun, the therapist records its outcome (attended, no-show, late
cancellation); before the start it is refused (`visit_not_started`). A booking her therapist
cancels after the client's cut-off is a late cancellation on its own. Time is Monday
2027-01-11 08:00 in Stockholm; both databases."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from conftest import at
from domain.errors import DomainError
from domain.models import AuditEntry, Booking, Outcome
from domain.services import booking_cancel, booking_create_by_therapist, booking_outcome_set, slot_create

pytestmark = pytest.mark.usefixtures("now")


def booking_at(anna, erik, start):
    slot = slot_create(therapist=anna, actor=anna.user, start=at(start))
    return booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)


def started(anna, erik, now, start="2027-01-11 09:00", minutes=5):
    """A booking made in advance whose start has passed `minutes` ago."""
    booking = booking_at(anna, erik, start)
    now.move_to(booking.start_at + timedelta(minutes=minutes))
    return booking


def test_the_therapist_marks_a_no_show_after_the_start(anna, erik, now):
    booking = started(anna, erik, now)

    booking_outcome_set(booking=booking, outcome="no_show", actor=anna.user)

    saved = Booking.objects.get(pk=booking.pk)
    assert saved.outcome == Outcome.NO_SHOW and saved.outcome_by == anna.user and saved.outcome_at is not None
    assert saved.status == "confirmed"
    entry = AuditEntry.objects.get(action="booking.outcome_set")
    assert entry.actor == anna.user and entry.slot_id == booking.slot_id
    assert "outcome" not in entry.before and entry.after["outcome"] == "no_show"


def test_the_outcome_is_refused_before_the_visit_starts(anna, erik):
    booking = booking_at(anna, erik, "2027-01-11 09:00")

    with pytest.raises(DomainError) as caught:
        booking_outcome_set(booking=booking, outcome="attended", actor=anna.user)

    assert caught.value.code == "visit_not_started"
    assert Booking.objects.get(pk=booking.pk).outcome is None
    assert not AuditEntry.objects.filter(action="booking.outcome_set").exists()


def test_at_the_very_start_it_may_be_recorded(anna, erik, now):
    booking = started(anna, erik, now, minutes=0)

    assert booking_outcome_set(booking=booking, outcome="attended", actor=anna.user).outcome == "attended"


def test_marking_again_changes_it_and_is_audited(anna, erik, now):
    booking = started(anna, erik, now)
    booking_outcome_set(booking=booking, outcome="no_show", actor=anna.user)

    booking_outcome_set(booking=booking, outcome="attended", actor=anna.user)
    booking_outcome_set(booking=booking, outcome="attended", actor=anna.user)  # the same: nothing to record

    assert Booking.objects.get(pk=booking.pk).outcome == "attended"
    entries = list(AuditEntry.objects.filter(action="booking.outcome_set").order_by("pk"))
    assert [(e.before.get("outcome"), e.after["outcome"]) for e in entries] == [(None, "no_show"), ("no_show", "attended")]


def test_an_unknown_outcome_is_a_field_error(anna, erik, now):
    booking = started(anna, erik, now)

    with pytest.raises(ValidationError) as caught:
        booking_outcome_set(booking=booking, outcome="maybe", actor=anna.user)

    assert "outcome" in caught.value.message_dict
    assert Booking.objects.get(pk=booking.pk).outcome is None


def test_the_therapist_cancelling_after_the_cut_off_is_a_late_cancellation(anna, erik):
    booking = booking_at(anna, erik, "2027-01-11 15:00")  # 7 h ahead, cut-off 24 h

    booking_cancel(booking=booking, actor=anna.user)

    saved = Booking.objects.get(pk=booking.pk)
    assert saved.status == "cancelled" and saved.outcome == Outcome.LATE_CANCELLED and saved.outcome_by == anna.user
    assert AuditEntry.objects.get(action="booking.cancelled").after["outcome"] == "late_cancelled"


def test_cancelling_in_time_has_no_outcome(anna, erik):
    by_therapist = booking_at(anna, erik, "2027-01-13 09:00")
    by_client = booking_at(anna, erik, "2027-01-14 09:00")

    booking_cancel(booking=by_therapist, actor=anna.user)
    booking_cancel(booking=by_client, actor=erik.user)

    assert set(Booking.objects.values_list("outcome", flat=True)) == {None}


def test_a_booking_cancelled_in_time_gets_no_outcome_later(anna, erik, now):
    booking = booking_at(anna, erik, "2027-01-13 09:00")
    booking_cancel(booking=booking, actor=anna.user)
    now.move_to(at("2027-01-13 10:00"))

    with pytest.raises(DomainError) as caught:
        booking_outcome_set(booking=booking, outcome="no_show", actor=anna.user)

    assert caught.value.code == "already_cancelled"
    with pytest.raises(DomainError):  # cancelled in time is never late
        booking_outcome_set(booking=booking, outcome="late_cancelled", actor=anna.user)
    assert Booking.objects.get(pk=booking.pk).outcome is None


def test_the_database_refuses_an_outcome_that_is_none_or_on_a_cancelled_visit(anna, erik):
    booking = booking_at(anna, erik, "2027-01-13 09:00")

    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(outcome="maybe")
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(status="cancelled", outcome="attended")
    Booking.objects.filter(pk=booking.pk).update(status="cancelled", outcome="late_cancelled")


def test_a_cancelled_booking_answers_already_cancelled_before_its_start_too(anna, erik):
    booking = booking_at(anna, erik, "2027-01-13 09:00")
    booking_cancel(booking=booking, actor=anna.user)

    with pytest.raises(DomainError) as caught:
        booking_outcome_set(booking=booking, outcome="attended", actor=anna.user)
    assert caught.value.code == "already_cancelled"  # not "visit_not_started": it is no visit
