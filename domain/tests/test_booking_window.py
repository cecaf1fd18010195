"""R35, the booking window: clients neither see nor book a slot that starts sooner than the
therapist's minimum notice or as far ahead as her horizon, in her open slots, the listing's
`next_available`, matching and the booking service; the therapist herself books any slot.
Time is Monday 2027-01-11 08:00 in Stockholm (winter time); the horizon is counted in whole
days of 24 hours, so 90 days later it ends at 09:00 summer time."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from conftest import at
from domain.errors import Code, DomainError
from domain.matching import Wish, therapists_matching
from domain.models import (
    DEFAULT_BOOKING_HORIZON_DAYS,
    DEFAULT_MIN_NOTICE_HOURS,
    MAX_BOOKING_HORIZON_DAYS,
    MAX_MIN_NOTICE_HOURS,
    AuditEntry,
    Booking,
    OutboundEmail,
    Therapist,
    User,
)
from domain.selectors import open_slots_for_viewer, therapist_listing
from domain.services import (
    booking_create_by_client,
    booking_create_by_therapist,
    slot_create,
    therapist_settings_update,
)

pytestmark = pytest.mark.usefixtures("now")

# Five-minute slots, so that the edges' slots lie side by side.
TOO_SOON = "2027-01-11 19:55"  # 11 h 55 min ahead
FIRST = "2027-01-11 20:00"  # exactly the 12 hours' notice
LAST = "2027-04-11 08:55"  # five minutes before the horizon (90 × 24 h: 09:00 summer time)
TOO_FAR = "2027-04-11 09:00"


@pytest.fixture
def anna(make_therapist):
    """Anna with the model's window: 12 hours' notice, 90 days ahead."""
    return make_therapist(min_notice_hours=DEFAULT_MIN_NOTICE_HOURS, booking_horizon_days=DEFAULT_BOOKING_HORIZON_DAYS)


def slot(therapist, text, **fields):
    return slot_create(therapist=therapist, actor=therapist.user, start=at(text), duration_minutes=5, **fields)


def test_a_new_therapist_has_12_hours_notice_and_90_days_ahead(db):
    user = User.objects.create_user(email="ny@example.se", password="x")
    therapist = Therapist.objects.create(user=user)
    assert (therapist.min_notice_hours, therapist.booking_horizon_days) == (12, 90)


@pytest.mark.parametrize("start, inside", [(TOO_SOON, False), (FIRST, True), (LAST, True), (TOO_FAR, False)])
def test_a_client_books_only_inside_the_window(anna, make_client, start, inside):
    nora = make_client(first="Nora")  # a new client: anna has Client Booster
    s = slot(anna, start)
    assert anna.bookable_by_clients(s.start_at) == inside

    if inside:
        booking = booking_create_by_client(client=nora, slot=s, mode="video", actor=nora.user)
        assert booking.slot_id == s.pk
    else:
        with pytest.raises(DomainError) as refused:
            booking_create_by_client(client=nora, slot=s, mode="video", actor=nora.user)
        assert refused.value.code == Code.OUTSIDE_BOOKING_WINDOW
        assert not Booking.objects.exists() and not OutboundEmail.objects.exists()
        assert not anna.client_links.exists()  # nothing half-written: she did not join the list


def test_her_own_client_is_held_to_the_window_too(anna, erik):
    s = slot(anna, TOO_SOON, audience="existing")
    with pytest.raises(DomainError) as refused:
        booking_create_by_client(client=erik, slot=s, mode="video", actor=erik.user)
    assert refused.value.code == Code.OUTSIDE_BOOKING_WINDOW


@pytest.mark.parametrize("start", ["2027-01-11 09:00", TOO_FAR])
def test_the_therapist_books_any_slot(anna, erik, start):
    s = slot(anna, start)
    booking = booking_create_by_therapist(therapist=anna, slot=s, client=erik, mode="video", actor=anna.user)
    assert booking.slot_id == s.pk


def test_clients_see_only_the_open_slots_inside_the_window(anna, erik):
    starts = [slot(anna, text).start_at for text in (TOO_SOON, FIRST, LAST, TOO_FAR)]
    for viewer in (None, erik):
        assert [s.start_at for s in open_slots_for_viewer(anna, viewer)] == starts[1:3]


def test_a_window_of_no_notice_shows_the_next_slot(anna, erik):
    therapist_settings_update(therapist=anna, actor=anna.user, min_notice_hours=0, booking_horizon_days=1)
    starts = [slot(anna, text).start_at for text in ("2027-01-11 08:30", "2027-01-12 07:55", "2027-01-12 08:00")]
    assert [s.start_at for s in open_slots_for_viewer(anna, erik)] == starts[:2]


def test_the_listing_and_matching_offer_the_first_time_inside_the_window(anna, make_therapist):
    slot(anna, TOO_SOON)
    first = slot(anna, FIRST)
    far = make_therapist(email="f@example.se", first="Fia", last="Fjarran", booking_horizon_days=30,
                         min_notice_hours=DEFAULT_MIN_NOTICE_HOURS)
    slot(far, "2027-02-11 10:00")  # 31 days ahead: beyond her 30

    listed = {t.pk: t.next_available for t in therapist_listing()}
    assert listed == {anna.pk: first.start_at, far.pk: None}
    matches = {m.therapist.pk: m for m in therapists_matching(Wish())}
    assert matches[anna.pk].next_open == first.start_at
    assert matches[far.pk].next_open is None


def test_the_window_is_saved_and_audited(anna):
    therapist_settings_update(therapist=anna, actor=anna.user, min_notice_hours=48, booking_horizon_days=30)

    anna = Therapist.objects.get(pk=anna.pk)
    assert (anna.min_notice_hours, anna.booking_horizon_days) == (48, 30)
    entry = AuditEntry.objects.get(action="therapist.settings")
    assert (entry.before["min_notice_hours"], entry.after["min_notice_hours"]) == (12, 48)
    assert (entry.before["booking_horizon_days"], entry.after["booking_horizon_days"]) == (90, 30)


@pytest.mark.parametrize("field, value", [
    ("min_notice_hours", -1), ("min_notice_hours", MAX_MIN_NOTICE_HOURS + 1), ("min_notice_hours", "12"),
    ("min_notice_hours", True), ("min_notice_hours", 1.5), ("booking_horizon_days", 0),
    ("booking_horizon_days", MAX_BOOKING_HORIZON_DAYS + 1), ("booking_horizon_days", None),
])
def test_a_bad_window_is_refused_naming_the_field_and_nothing_changes(anna, field, value):
    changes = {"min_notice_hours": 24, "booking_horizon_days": 30, field: value}  # the other one is fine
    with pytest.raises(ValidationError) as refused:
        therapist_settings_update(therapist=anna, actor=anna.user, **changes)
    assert list(refused.value.message_dict) == [field]
    anna = Therapist.objects.get(pk=anna.pk)
    assert (anna.min_notice_hours, anna.booking_horizon_days) == (12, 90)
    assert not AuditEntry.objects.filter(action="therapist.settings").exists()


@pytest.mark.parametrize("field, value", [
    ("min_notice_hours", MAX_MIN_NOTICE_HOURS + 1), ("booking_horizon_days", 0),
    ("booking_horizon_days", MAX_BOOKING_HORIZON_DAYS + 1),
])
def test_the_database_holds_the_bounds(anna, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Therapist.objects.filter(pk=anna.pk).update(**{field: value})


def test_a_window_that_never_opens_is_refused_naming_the_notice(make_therapist):
    from domain.services import therapist_settings_update

    anna = make_therapist(email="tomt@example.se")
    with pytest.raises(ValidationError) as refused:
        therapist_settings_update(therapist=anna, actor=anna.user, min_notice_hours=48, booking_horizon_days=1)
    assert "min_notice_hours" in refused.value.message_dict
    anna.refresh_from_db()
    assert (anna.min_notice_hours, anna.booking_horizon_days) != (48, 1)
    # One bound at a time: moving only the horizon below the notice is refused too.
    therapist_settings_update(therapist=anna, actor=anna.user, min_notice_hours=30)
    with pytest.raises(ValidationError):
        therapist_settings_update(therapist=anna, actor=anna.user, booking_horizon_days=1)
