"""POST /therapist/bookings/{id}/outcome (R34): once the visit has begun, her therapist records
attended, no-show or late cancellation; 409 visit_not_started before; another therapist's
booking 404; a value outside the three 422. The booking JSON carries `outcome` for both parties
and the calendar's entry for her."""

import pytest

from api.tests.helpers import assert_conflict, assert_invalid, assert_not_found, booked, local_iso, slot_for
from conftest import at
from domain.models import AuditEntry, Booking

pytestmark = pytest.mark.usefixtures("now")  # Monday 2027-01-11 08:00


@pytest.fixture
def booking(anna, erik):
    return booked(slot_for(anna, "2027-01-11 09:00"), erik)


def test_before_the_start_it_is_visit_not_started(anna_api, booking):
    response = anna_api.post(f"/therapist/bookings/{booking.pk}/outcome", {"outcome": "no_show"})

    assert_conflict(response, "visit_not_started")
    assert Booking.objects.get(pk=booking.pk).outcome is None


def test_after_the_start_she_marks_a_no_show_and_both_parties_read_it(anna_api, erik_api, booking, now):
    now.move_to(at("2027-01-11 09:20"))

    response = anna_api.post(f"/therapist/bookings/{booking.pk}/outcome", {"outcome": "no_show"})

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "no_show" and response.json()["id"] == booking.pk
    assert Booking.objects.get(pk=booking.pk).outcome == "no_show"
    assert AuditEntry.objects.filter(action="booking.outcome_set", actor=booking.therapist.user).count() == 1
    [mine] = erik_api.get("/client/bookings").json()
    assert mine["outcome"] == "no_show"
    [entry] = anna_api.get("/therapist/calendar", start=local_iso("2027-01-11 00:00")).json()
    assert entry["booking"]["outcome"] == "no_show" and entry["color"] in {"red", "yellow"}
    # R40: her export holds it too, as everything about her.
    [exported] = [b for b in erik_api.get("/client/export").json()["bookings"] if b["id"] == booking.pk]
    assert exported["outcome"] == "no_show"


def test_marking_again_changes_it(anna_api, booking, now):
    now.move_to(at("2027-01-11 10:00"))
    anna_api.post(f"/therapist/bookings/{booking.pk}/outcome", {"outcome": "no_show"})

    response = anna_api.post(f"/therapist/bookings/{booking.pk}/outcome", {"outcome": "attended"})

    assert response.json()["outcome"] == "attended"
    assert AuditEntry.objects.filter(action="booking.outcome_set").count() == 2


def test_an_unknown_outcome_is_422_naming_the_field(anna_api, booking, now):
    now.move_to(at("2027-01-11 10:00"))

    for body in ({"outcome": "maybe"}, {"outcome": 1}, {}):
        assert_invalid(anna_api.post(f"/therapist/bookings/{booking.pk}/outcome", body), "outcome")
    assert Booking.objects.get(pk=booking.pk).outcome is None


def test_another_therapists_booking_and_a_client_are_refused(bo_api, erik_api, booking, now):
    now.move_to(at("2027-01-11 10:00"))

    assert_not_found(bo_api.post(f"/therapist/bookings/{booking.pk}/outcome", {"outcome": "attended"}))
    assert erik_api.post(f"/therapist/bookings/{booking.pk}/outcome", {"outcome": "attended"}).status_code == 403
    assert_not_found(bo_api.post("/therapist/bookings/999999/outcome", {"outcome": "attended"}))
    assert Booking.objects.get(pk=booking.pk).outcome is None


def test_the_therapist_cancelling_after_the_cut_off_answers_a_late_cancellation(anna_api, booking):
    response = anna_api.post(f"/bookings/{booking.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["outcome"] == "late_cancelled"


def test_null_withdraws_a_late_cancellation_and_nothing_else_changes_a_cancelled_one(anna_api, booking):
    anna_api.post(f"/bookings/{booking.pk}/cancel")  # an hour ahead: late

    assert_conflict(anna_api.post(f"/therapist/bookings/{booking.pk}/outcome", {"outcome": "attended"}), "already_cancelled")
    response = anna_api.post(f"/therapist/bookings/{booking.pk}/outcome", {"outcome": None})

    assert response.status_code == 200 and response.json()["outcome"] is None
    assert Booking.objects.get(pk=booking.pk).outcome is None


def test_a_new_booking_has_no_outcome(anna_api, erik, anna):
    slot = slot_for(anna, "2027-01-12 09:00")

    response = anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": erik.pk, "mode": "video"})

    assert response.status_code == 201 and response.json()["outcome"] is None
