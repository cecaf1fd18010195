"""R32: a weekly series, all or none, naming every week that cannot be booked, at the same
wall-clock time in the therapist's zone every week; one mail with one calendar file; cancelled
from a date on. Time is Monday 2027-01-11 08:00 in Stockholm; both databases."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from conftest import STOCKHOLM, at
from domain.errors import DomainError
from domain.models import AuditEntry, Booking, BookingSeries, OutboundEmail, Slot, TimeOff
from domain.services import (
    SeriesConflict,
    booking_cancel,
    booking_create_by_therapist,
    series_cancel,
    series_create,
    series_preview,
    slot_create,
)
from domain.tests.icaljs import read_ical

pytestmark = pytest.mark.usefixtures("now")

MONDAY = "2027-01-18 10:00"  # the Monday after "now", 10:00 Stockholm


def make(anna, erik, start=MONDAY, weeks=10, mode="video", **kwargs):
    return series_create(therapist=anna, client=erik, start=at(start), weeks=weeks, mode=mode, actor=anna.user,
                         **kwargs)


def week_start(start: str, week: int) -> datetime:
    """Week `week` (1…) of a series from `start`, on Stockholm's wall clock."""
    return (datetime.fromisoformat(start) + timedelta(weeks=week - 1)).replace(tzinfo=STOCKHOLM)


def counts():
    return (Booking.objects.count(), BookingSeries.objects.count(), Slot.objects.count(),
            OutboundEmail.objects.count(), AuditEntry.objects.count())


def refused(caught) -> list[tuple[int, str, str]]:
    return [(w.week, w.date.isoformat(), w.code) for w in caught.value.weeks]


def test_it_books_every_week_with_a_new_slot_each(anna, erik):
    series = make(anna, erik)

    bookings = list(series.bookings.order_by("start_at"))
    assert len(bookings) == 10 and series.weeks == 10 and series.client == erik
    assert [b.start_at.astimezone(STOCKHOLM) for b in bookings] == [week_start(MONDAY, w) for w in range(1, 11)]
    assert all(b.is_confirmed and b.mode == "video" and b.slot.therapist == anna for b in bookings)
    assert all(b.end_at - b.start_at == timedelta(minutes=anna.default_duration_minutes) for b in bookings)
    assert AuditEntry.objects.filter(action="booking.created").count() == 10
    assert AuditEntry.objects.filter(action="slot.created").count() == 10
    assert AuditEntry.objects.get(action="series.created").target_id == series.pk
    # First visit only the first week (R15): the later ones see the earlier booking.
    assert [b._first_visit for b in series.created_bookings] == [True] + [False] * 9


def test_a_series_across_both_clock_changes_keeps_ten_oclock_local(anna, erik):
    series = make(anna, erik, start="2027-02-01 10:00", weeks=40)

    starts = [b.start_at for b in series.bookings.order_by("start_at")]
    assert len(starts) == 40
    assert {s.astimezone(STOCKHOLM).strftime("%a %H:%M") for s in starts} == {"Mon 10:00"}
    utc_hours = [s.astimezone(UTC).hour for s in starts]
    # Winter (+01:00) until 28 March, summer (+02:00) until 31 October, winter again.
    assert utc_hours[:8] == [9] * 8 and utc_hours[8:39] == [8] * 31 and utc_hours[39:] == [9]


def test_a_collision_in_week_seven_books_nothing_and_names_week_seven(anna, erik, nora):
    taken = slot_create(therapist=anna, actor=anna.user, start=week_start(MONDAY, 7))
    booking_create_by_therapist(therapist=anna, slot=taken, client=_listed(anna, nora), mode="video", actor=anna.user)
    before = counts()

    with pytest.raises(SeriesConflict) as caught:
        make(anna, erik)

    assert caught.value.code == "series_conflict"
    assert refused(caught) == [(7, "2027-03-01", "slot_taken")]
    assert caught.value.extra == {"dates": ["2027-03-01"], "conflicts": [
        {"date": "2027-03-01", "week": 7, "code": "slot_taken"}]}
    assert counts() == before


def test_every_refused_week_is_named_with_its_reason(anna, erik, nora):
    # Week 2: another slot overlaps (starts half an hour later); week 3: time off; week 4: her
    # open slot there offers on site only; week 5: booked.
    slot_create(therapist=anna, actor=anna.user, start=week_start(MONDAY, 2) + timedelta(minutes=30))
    TimeOff.objects.create(therapist=anna, start_at=at("2027-02-01 00:00"), end_at=at("2027-02-02 00:00"))
    slot_create(therapist=anna, actor=anna.user, start=week_start(MONDAY, 4), modes=["onsite"])
    taken = slot_create(therapist=anna, actor=anna.user, start=week_start(MONDAY, 5))
    booking_create_by_therapist(therapist=anna, slot=taken, client=_listed(anna, nora), mode="video", actor=anna.user)

    rows = series_preview(therapist=anna, client=erik, start=at(MONDAY), weeks=6, mode="video")
    assert [(w.week, w.code) for w in rows] == [
        (1, None), (2, "slot_overlap"), (3, "time_off"), (4, "mode_not_offered"), (5, "slot_taken"), (6, None)]
    assert rows[2].reason == "Tiden ligger under din ledighet."
    with pytest.raises(SeriesConflict) as caught:
        make(anna, erik, weeks=6)
    assert [w for w, _d, _c in refused(caught)] == [2, 3, 4, 5]
    assert not Booking.objects.filter(client=erik).exists()


def test_time_off_in_week_three_is_named(anna, erik):
    TimeOff.objects.create(therapist=anna, start_at=at("2027-02-01 09:00"), end_at=at("2027-02-01 12:00"))

    with pytest.raises(SeriesConflict) as caught:
        make(anna, erik, weeks=4)

    assert refused(caught) == [(3, "2027-02-01", "time_off")]
    assert not BookingSeries.objects.exists()


def test_a_week_whose_time_does_not_exist_is_named(anna, erik):
    # Sunday 21 March 02:30; the next Sunday the clocks jump from 02:00 to 03:00.
    rows = series_preview(therapist=anna, client=erik, start=at("2027-03-21 02:30"), weeks=3, mode="video")

    assert [(w.week, w.date.isoformat(), w.code) for w in rows] == [
        (1, "2027-03-21", None), (2, "2027-03-28", "dst"), (3, "2027-04-04", None)]
    assert rows[1].start is None and "Klockan ställs om" in rows[1].reason


def test_a_week_that_has_passed_is_named(anna, erik):
    rows = series_preview(therapist=anna, client=erik, start=at("2027-01-11 07:00"), weeks=2, mode="video")

    assert [w.code for w in rows] == ["slot_in_past", None]


def test_an_open_slot_at_a_weeks_time_is_booked_not_duplicated(anna, erik):
    open_slot = slot_create(therapist=anna, actor=anna.user, start=week_start(MONDAY, 2), price=500)

    series = make(anna, erik, weeks=3)

    assert Slot.objects.filter(therapist=anna).count() == 3
    week2 = series.bookings.get(start_at=open_slot.start_at)
    assert week2.slot_id == open_slot.pk and week2.price == 500
    assert AuditEntry.objects.filter(action="slot.created").count() == 1 + 2


def test_an_open_slot_of_another_length_at_that_start_is_an_overlap(anna, erik):
    slot_create(therapist=anna, actor=anna.user, start=week_start(MONDAY, 2), duration_minutes=60)

    with pytest.raises(SeriesConflict) as caught:
        make(anna, erik, weeks=3, duration_minutes=45)

    assert [c for _w, _d, c in refused(caught)] == ["slot_overlap"]


def test_new_slots_take_the_length_and_price_given(anna, erik):
    series = make(anna, erik, weeks=2, duration_minutes=60, price=1200, mode="onsite")

    for b in series.bookings.all():
        assert b.end_at - b.start_at == timedelta(minutes=60) and b.price == 1200 and b.mode == "onsite"
        assert b.slot.offers("onsite")


@pytest.mark.parametrize("weeks", [1, 53, 0, -2, "x", "5", 2.0, True, None])
def test_weeks_outside_two_to_fifty_two_is_a_field_error(anna, erik, weeks):
    with pytest.raises(ValidationError) as caught:
        make(anna, erik, weeks=weeks)

    assert "weeks" in caught.value.message_dict
    assert not Booking.objects.exists()


@pytest.mark.parametrize("field, kwargs", [
    ("mode", {"mode": "phone"}), ("duration_minutes", {"duration_minutes": 3}), ("price", {"price": -1}),
])
def test_other_bad_input_names_its_field(anna, erik, field, kwargs):
    with pytest.raises(ValidationError) as caught:
        make(anna, erik, weeks=2, **kwargs)

    assert field in caught.value.message_dict


def test_two_and_fifty_two_weeks_are_allowed(anna, erik):
    assert make(anna, erik, weeks=2).bookings.count() == 2
    assert make(anna, erik, start="2027-01-19 10:00", weeks=52).bookings.count() == 52


def test_a_client_not_on_her_list_is_refused(anna, bo, erik, nora):
    for someone in (nora, nora.pk, 10**6):
        with pytest.raises(DomainError) as caught:
            series_create(therapist=bo, client=someone, start=at(MONDAY), weeks=2, mode="video", actor=bo.user)
        assert caught.value.code == "client_not_on_list"
    with pytest.raises(DomainError):
        series_preview(therapist=bo, client=erik, start=at(MONDAY), weeks=2, mode="video")
    assert not BookingSeries.objects.exists()


def test_her_booking_window_does_not_bind_her(anna, erik):
    anna.min_notice_hours, anna.booking_horizon_days = 48, 30
    anna.save(update_fields=["min_notice_hours", "booking_horizon_days"])

    series = make(anna, erik, start="2027-01-11 12:00", weeks=8)

    assert series.bookings.count() == 8


def test_the_client_gets_one_mail_with_every_date_and_one_calendar_file(anna, erik):
    series = make(anna, erik, start="2027-03-15 10:00", weeks=3)

    [mail] = OutboundEmail.objects.all()
    assert mail.kind == "series_booked" and mail.to == erik.email
    assert "15 mars 2027 kl. 10:00" in mail.body and "22 mars" in mail.body and "29 mars 2027 kl. 10:00" in mail.body
    bookings = list(series.bookings.order_by("start_at"))
    calendar = read_ical(mail.ics)
    assert calendar["method"] == "PUBLISH"
    assert [e["uid"] for e in calendar["events"]] == [f"booking-{b.pk}@tidbok" for b in bookings]
    assert [e["sequence"] for e in calendar["events"]] == [0, 0, 0]
    # Across the change of the clocks on 28 March: 10:00 Stockholm is 09:00, then 08:00 UTC.
    assert [e["start"]["utc"] for e in calendar["events"]] == [
        "2027-03-15T09:00:00.000Z", "2027-03-22T09:00:00.000Z", "2027-03-29T08:00:00.000Z"]
    assert all(e["status"] == "CONFIRMED" and e["attendees"] == [] for e in calendar["events"])


def test_cancelling_from_week_five_keeps_weeks_one_to_four(anna, erik):
    series = make(anna, erik)
    OutboundEmail.objects.all().delete()

    cancelled = series_cancel(series=series, from_date=date(2027, 2, 15), actor=anna.user)

    bookings = list(series.bookings.order_by("start_at"))
    assert [b.is_confirmed for b in bookings] == [True] * 4 + [False] * 6
    assert [b.pk for b in cancelled] == [b.pk for b in bookings[4:]]
    assert all(b.sequence == 1 and b.cancelled_by == anna.user for b in bookings[4:])
    assert AuditEntry.objects.filter(action="booking.cancelled").count() == 6
    assert AuditEntry.objects.filter(action="series.cancelled").count() == 1
    [mail] = OutboundEmail.objects.all()
    assert mail.kind == "series_cancelled" and mail.to == erik.email
    assert "15 februari 2027" in mail.body and "22 mars 2027" in mail.body and "8 februari" not in mail.body
    calendar = read_ical(mail.ics)
    assert [e["uid"] for e in calendar["events"]] == [f"booking-{b.pk}@tidbok" for b in bookings[4:]]
    assert {(e["status"], e["sequence"]) for e in calendar["events"]} == {("CANCELLED", 1)}
    # The slots are open again.
    assert all(not b.slot.bookings.live().exists() for b in bookings[4:])


def test_cancelling_skips_what_is_already_cancelled_or_has_begun(anna, erik, now):
    series = make(anna, erik, weeks=4)
    bookings = list(series.bookings.order_by("start_at"))
    booking_cancel(booking=bookings[2], actor=anna.user)
    now.move_to(bookings[0].start_at + timedelta(minutes=5))
    OutboundEmail.objects.all().delete()

    cancelled = series_cancel(series=series, from_date=date(2027, 1, 1), actor=anna.user)

    assert [b.pk for b in cancelled] == [bookings[1].pk, bookings[3].pk]
    assert Booking.objects.get(pk=bookings[0].pk).is_confirmed
    assert OutboundEmail.objects.count() == 1


def test_cancelling_after_the_last_week_does_nothing(anna, erik):
    series = make(anna, erik, weeks=2)
    before = counts()

    assert series_cancel(series=series, from_date=date(2028, 1, 1), actor=anna.user) == []
    assert counts() == before


def test_cancel_wants_a_date(anna, erik):
    series = make(anna, erik, weeks=2)

    with pytest.raises(ValidationError) as caught:
        series_cancel(series=series, from_date="2027-01-01", actor=anna.user)
    assert "from" in caught.value.message_dict


def _listed(anna, client):
    from domain.models import ClientLink

    ClientLink.objects.get_or_create(therapist=anna, client=client, defaults={"source": ClientLink.Source.OWN})
    return client


def test_a_client_with_a_series_can_erase_her_account(anna, erik, now):
    """R41 with R32: her future occurrences are cancelled like any booking, and the series goes
    with her bookings to what her therapist keeps (not a 500 from the series' protected client)."""
    from domain import services

    series = make(anna, erik, weeks=3)

    services.account_erase(user=erik.user, password="correct horse battery", source="127.0.0.1")

    series.refresh_from_db()
    assert series.client_id != erik.pk and not type(erik).objects.filter(pk=erik.pk).exists()
    assert set(series.bookings.values_list("client_id", flat=True)) == {series.client_id}
    assert not series.bookings.live().exists()


def test_a_record_with_a_series_merges_into_her_account(anna, erik, make_client):
    """R26 with R32: the therapist's own record, booked every week, joins her account; the
    series follows its bookings."""
    from django.db import transaction

    from domain.services import client_merge

    record = make_client(first="Erik", last="Eriksson", birth="19850312", therapist=anna, login=False)
    series = make(anna, record, weeks=2)

    with transaction.atomic():
        client_merge(record=record, into=erik, actor=None)

    series.refresh_from_db()
    assert series.client_id == erik.pk
    assert set(series.bookings.values_list("client_id", flat=True)) == {erik.pk}
