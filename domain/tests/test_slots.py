"""slot_create, slot_update, slot_delete: R2, R3, R5–R7, R10, R11 and the reschedule of R18.

Anna's defaults are the product's: 45 minutes for 1000 kr, video and on site, open to all.
Time is frozen at Monday 2027-01-11 08:00 in Stockholm."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from conftest import at
from domain.errors import DomainError
from domain.models import AuditEntry, Booking, OutboundEmail, Slot
from domain.services import booking_cancel, booking_create_by_therapist, slot_create, slot_delete, slot_update


@pytest.fixture
def slot(anna, now):
    """Anna's open slot, Monday 09:00–09:45."""
    return slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"))


@pytest.fixture
def booking(anna, erik, slot):
    return booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)


def audit(action, **filters):
    return list(AuditEntry.objects.filter(action=action, **filters).order_by("id"))


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def refused(code, call, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    assert caught.value.code == code
    return caught.value


def invalid(field, call, **kwargs):
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    assert field in caught.value.message_dict, caught.value.message_dict
    return caught.value


# R2: a new slot takes its length, price, kinds and audience from the settings.


def test_it_creates_an_open_slot_from_the_default_settings(anna, now):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"))

    assert slot.start_at == at("2027-01-11 09:00")
    assert slot.end_at == at("2027-01-11 09:45")
    assert (slot.duration_minutes, slot.price, slot.modes, slot.audience) == (45, 1000, ["video", "onsite"], "all")
    assert slot.color == "green"
    row = Slot.objects.get(pk=slot.pk)
    assert (row.therapist, row.start_at, row.end_at, row.price) == (anna, at("2027-01-11 09:00"), at("2027-01-11 09:45"), 1000)
    assert (row.video, row.onsite, row.audience) == (True, True, "all")
    [entry] = audit("slot.created")
    assert (entry.actor, entry.therapist, entry.target_type, entry.target_id, entry.slot_id) == (
        anna.user, anna, "slot", slot.pk, slot.pk
    )
    assert entry.before is None
    assert instant(entry.after["start"]) == at("2027-01-11 09:00")
    assert instant(entry.after["end"]) == at("2027-01-11 09:45")
    assert (entry.after["price"], entry.after["modes"], entry.after["audience"]) == (1000, ["video", "onsite"], "all")


def test_it_creates_a_slot_from_the_therapists_own_settings(make_therapist, now):
    cecilia = make_therapist(
        email="cecilia@example.se", first="Cecilia", default_duration_minutes=60, default_price=1200,
        default_onsite=False, default_audience="existing",
    )

    slot = slot_create(therapist=cecilia, actor=cecilia.user, start=at("2027-01-12 13:00"))

    row = Slot.objects.get(pk=slot.pk)
    assert row.end_at == at("2027-01-12 14:00")
    assert (row.price, row.modes, row.audience) == (1200, ["video"], "existing")
    assert row.color == "blue"


def test_it_uses_what_is_given_instead_of_the_settings(anna, now):
    slot = slot_create(
        therapist=anna, actor=anna.user, start=at("2027-01-11 10:00"), duration_minutes=60, price=900,
        modes=["onsite"], audience="existing",
    )

    row = Slot.objects.get(pk=slot.pk)
    assert (row.end_at, row.price, row.modes, row.audience) == (at("2027-01-11 11:00"), 900, ["onsite"], "existing")


# R5: a length other than the default is priced in proportion, to whole kronor, half up.


@pytest.mark.parametrize(
    ("minutes", "price"),
    [(45, 1000), (90, 2000), (60, 1333), (30, 667), (52, 1156), (5, 111), (720, 16000)],
)
def test_it_prices_a_new_slot_in_proportion_to_its_length(anna, now, minutes, price):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"), duration_minutes=minutes)

    assert slot.price == price
    assert Slot.objects.get(pk=slot.pk).price == price


@pytest.mark.parametrize(("minutes", "price"), [(5, 63), (25, 313), (40, 500)])
def test_it_rounds_a_half_krona_up(make_therapist, now, minutes, price):
    # 1000 kr for 80 minutes is 12.5 kr a minute: 62.5 and 312.5 go up, not to the even krona.
    cecilia = make_therapist(email="cecilia@example.se", default_duration_minutes=80, default_price=1000)

    slot = slot_create(therapist=cecilia, actor=cecilia.user, start=at("2027-01-11 09:00"), duration_minutes=minutes)

    assert Slot.objects.get(pk=slot.pk).price == price


def test_a_price_given_by_hand_wins_over_the_proportion(anna, now):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"), duration_minutes=90, price=1500)

    assert Slot.objects.get(pk=slot.pk).price == 1500


def test_it_reprices_a_slot_whose_length_changes(anna, slot):
    updated = slot_update(slot=slot, actor=anna.user, duration_minutes=90)

    assert (updated.end_at, updated.price) == (at("2027-01-11 10:30"), 2000)
    row = Slot.objects.get(pk=slot.pk)
    assert (row.start_at, row.end_at, row.price) == (at("2027-01-11 09:00"), at("2027-01-11 10:30"), 2000)
    [entry] = audit("slot.updated", slot_id=slot.pk)
    assert entry.actor == anna.user
    assert (entry.before["price"], entry.after["price"]) == (1000, 2000)
    assert instant(entry.before["end"]) == at("2027-01-11 09:45")
    assert instant(entry.after["end"]) == at("2027-01-11 10:30")


def test_a_price_given_by_hand_wins_when_the_length_changes(anna, slot):
    slot_update(slot=slot, actor=anna.user, duration_minutes=90, price=1800)

    assert Slot.objects.get(pk=slot.pk).price == 1800


def test_it_keeps_a_hand_set_price_when_the_length_stays(anna, now):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"), price=1500)

    slot_update(slot=slot, actor=anna.user, start=at("2027-01-12 09:00"))
    slot_update(slot=slot, actor=anna.user, duration_minutes=45)

    row = Slot.objects.get(pk=slot.pk)
    assert (row.start_at, row.end_at, row.price) == (at("2027-01-12 09:00"), at("2027-01-12 09:45"), 1500)


def test_it_reprices_a_hand_set_price_from_the_settings_when_the_length_changes(anna, now):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"), price=1500)

    slot_update(slot=slot, actor=anna.user, duration_minutes=90)

    assert Slot.objects.get(pk=slot.pk).price == 2000


def test_it_reprices_from_the_settings_of_today(anna, slot):
    # The settings change after the slot was made; a new length is priced by the new ones.
    anna.default_price = 1200
    anna.save(update_fields=["default_price"])

    slot_update(slot=slot, actor=anna.user, duration_minutes=90)

    assert Slot.objects.get(pk=slot.pk).price == 2400


# R6, R7: kinds of meeting and audience.


def test_it_offers_the_kinds_it_is_given(anna, now):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"), modes=["video"])

    row = Slot.objects.get(pk=slot.pk)
    assert (row.video, row.onsite, row.modes) == (True, False, ["video"])


@pytest.mark.parametrize("modes", [[], ["phone"], ["video", "phone"], "video", {"phone": True}])
def test_it_refuses_a_slot_without_a_known_kind_of_meeting(anna, now, modes):
    invalid("modes", slot_create, therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"), modes=modes)

    assert not Slot.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("audience", ["everyone", "", "ALL", "new"])
def test_it_refuses_an_unknown_audience(anna, now, audience):
    invalid("audience", slot_create, therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"), audience=audience)

    assert not Slot.objects.exists()


def test_it_changes_kinds_and_audience_with_an_audit_entry(anna, slot):
    slot_update(slot=slot, actor=anna.user, modes=["onsite"], audience="existing")

    row = Slot.objects.get(pk=slot.pk)
    assert (row.modes, row.audience, row.color) == (["onsite"], "existing", "blue")
    [entry] = audit("slot.updated", slot_id=slot.pk)
    assert (entry.before["modes"], entry.after["modes"]) == (["video", "onsite"], ["onsite"])
    assert (entry.before["audience"], entry.after["audience"]) == ("all", "existing")


def test_it_refuses_bad_kinds_or_audience_in_an_update(anna, slot):
    invalid("modes", slot_update, slot=slot, actor=anna.user, modes=[])
    invalid("audience", slot_update, slot=slot, actor=anna.user, audience="friends")

    row = Slot.objects.get(pk=slot.pk)
    assert (row.modes, row.audience) == (["video", "onsite"], "all")
    assert not audit("slot.updated")


def test_an_update_that_changes_nothing_writes_no_audit_entry(anna, slot):
    slot_update(slot=slot, actor=anna.user, start=at("2027-01-11 09:00"), duration_minutes=45, modes=["onsite", "video"])

    assert not audit("slot.updated")


# R10: open slots can be removed; booked ones only after the booking is cancelled.


def test_it_removes_an_open_slot(anna, slot):
    slot_delete(slot=slot, actor=anna.user)

    assert not Slot.objects.filter(pk=slot.pk).exists()
    [entry] = audit("slot.deleted")
    assert (entry.actor, entry.therapist, entry.target_id, entry.slot_id) == (anna.user, anna, slot.pk, slot.pk)
    assert instant(entry.before["start"]) == at("2027-01-11 09:00")
    assert entry.before["price"] == 1000
    assert entry.after is None


def test_it_refuses_to_remove_a_booked_slot(anna, slot, booking):
    refused("slot_booked", slot_delete, slot=slot, actor=anna.user)

    assert Slot.objects.filter(pk=slot.pk).exists()
    assert Booking.objects.get(pk=booking.pk).slot_id == slot.pk
    assert not audit("slot.deleted")


def test_it_removes_a_slot_once_its_booking_is_cancelled(anna, slot, booking):
    booking_cancel(booking=booking, actor=anna.user)

    slot_delete(slot=slot, actor=anna.user)

    assert not Slot.objects.filter(pk=slot.pk).exists()
    kept = Booking.objects.get(pk=booking.pk)
    # The cancelled booking still says what it was for.
    assert (kept.status, kept.slot_id, kept.start_at, kept.price) == ("cancelled", None, at("2027-01-11 09:00"), 1000)
    assert len(audit("slot.deleted", slot_id=slot.pk)) == 1


# R11: slots of one therapist never overlap.


@pytest.mark.parametrize(
    ("start", "minutes"),
    [("2027-01-11 09:00", 45), ("2027-01-11 09:30", 45), ("2027-01-11 08:30", 45), ("2027-01-11 09:10", 10),
     ("2027-01-11 08:30", 120), ("2027-01-11 09:44", 5), ("2027-01-11 08:20", 41)],
)
def test_it_refuses_an_overlapping_slot(anna, slot, start, minutes):
    refused("slot_overlap", slot_create, therapist=anna, actor=anna.user, start=at(start), duration_minutes=minutes)

    assert list(Slot.objects.values_list("pk", flat=True)) == [slot.pk]
    assert len(audit("slot.created")) == 1


def test_it_allows_slots_that_touch(anna, slot):
    after = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 09:45"))
    before = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 08:15"))

    assert (before.end_at, after.start_at) == (slot.start_at, slot.end_at)
    assert Slot.objects.filter(therapist=anna).count() == 3


def test_it_allows_another_therapist_the_same_time(anna, bo, slot):
    other = slot_create(therapist=bo, actor=bo.user, start=at("2027-01-11 09:00"))

    assert Slot.objects.get(pk=other.pk).therapist == bo


def test_it_refuses_to_move_a_slot_onto_another(anna, slot):
    later = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 10:00"))

    refused("slot_overlap", slot_update, slot=later, actor=anna.user, start=at("2027-01-11 09:30"))

    row = Slot.objects.get(pk=later.pk)
    assert (row.start_at, row.end_at) == (at("2027-01-11 10:00"), at("2027-01-11 10:45"))
    assert not audit("slot.updated")


def test_it_refuses_to_lengthen_a_slot_into_the_next(anna, slot):
    slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 10:00"))

    refused("slot_overlap", slot_update, slot=slot, actor=anna.user, duration_minutes=61)

    row = Slot.objects.get(pk=slot.pk)
    assert (row.end_at, row.price) == (at("2027-01-11 09:45"), 1000)


def test_it_lengthens_a_slot_up_to_the_next(anna, slot):
    slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 10:00"))

    slot_update(slot=slot, actor=anna.user, duration_minutes=60)

    assert Slot.objects.get(pk=slot.pk).end_at == at("2027-01-11 10:00")


def test_a_slot_may_move_over_its_own_old_time(anna, slot):
    slot_update(slot=slot, actor=anna.user, start=at("2027-01-11 09:15"))

    row = Slot.objects.get(pk=slot.pk)
    assert (row.start_at, row.end_at) == (at("2027-01-11 09:15"), at("2027-01-11 10:00"))


# Times that have passed.


def test_it_refuses_a_slot_in_the_past(anna, now):
    refused("slot_in_past", slot_create, therapist=anna, actor=anna.user, start=at("2027-01-11 07:59"))

    assert not Slot.objects.exists()


def test_it_allows_a_slot_starting_now(anna, now):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 08:00"))

    assert Slot.objects.get(pk=slot.pk).start_at == at("2027-01-11 08:00")


def test_it_refuses_to_move_a_slot_into_the_past(anna, slot):
    refused("slot_in_past", slot_update, slot=slot, actor=anna.user, start=at("2027-01-10 09:00"))

    assert Slot.objects.get(pk=slot.pk).start_at == at("2027-01-11 09:00")


def test_it_refuses_to_move_a_booked_slot_that_has_begun(anna, slot, booking, now):
    now.move_to(at("2027-01-11 09:10"))

    refused("slot_in_past", slot_update, slot=slot, actor=anna.user, start=at("2027-01-12 09:00"))

    assert Booking.objects.get(pk=booking.pk).start_at == at("2027-01-11 09:00")
    assert not OutboundEmail.objects.filter(kind="booking_rescheduled").exists()


# R18: moving a booked slot reschedules its booking, and the client is told.


def test_moving_a_booked_slot_reschedules_the_booking(anna, erik, slot, booking):
    slot_update(slot=slot, actor=anna.user, start=at("2027-01-13 14:00"))

    row = Booking.objects.get(pk=booking.pk)
    assert (row.slot_id, row.status) == (slot.pk, "confirmed")
    assert (row.start_at, row.end_at, row.sequence) == (at("2027-01-13 14:00"), at("2027-01-13 14:45"), 1)
    [mail] = OutboundEmail.objects.filter(kind="booking_rescheduled")
    assert (mail.booking_id, mail.to, mail.status) == (booking.pk, erik.email, "pending")
    assert "onsdag 13 januari 2027 kl. 14:00" in mail.body + mail.subject
    assert "måndag 11 januari 2027 kl. 09:00" in mail.body
    assert "SEQUENCE:1" in mail.ics
    [entry] = audit("booking.rescheduled")
    assert (entry.actor, entry.target_type, entry.target_id, entry.slot_id) == (anna.user, "booking", booking.pk, slot.pk)
    assert instant(entry.before["start"]) == at("2027-01-11 09:00")
    assert instant(entry.after["start"]) == at("2027-01-13 14:00")
    assert len(audit("slot.updated", slot_id=slot.pk)) == 1


def test_resizing_a_booked_slot_reschedules_and_reprices_the_booking(anna, slot, booking):
    slot_update(slot=slot, actor=anna.user, duration_minutes=90)

    row = Booking.objects.get(pk=booking.pk)
    assert (row.end_at, row.price, row.sequence) == (at("2027-01-11 10:30"), 2000, 1)
    assert OutboundEmail.objects.filter(kind="booking_rescheduled", booking=booking).count() == 1


def test_repricing_a_booked_slot_in_place_is_no_reschedule(anna, slot, booking):
    slot_update(slot=slot, actor=anna.user, price=800)

    row = Booking.objects.get(pk=booking.pk)
    assert (row.start_at, row.price, row.sequence) == (at("2027-01-11 09:00"), 800, 0)
    assert not OutboundEmail.objects.filter(kind="booking_rescheduled").exists()
    assert not audit("booking.rescheduled")
    [entry] = audit("booking.updated")
    assert (entry.before["price"], entry.after["price"]) == (1000, 800)


def test_it_refuses_to_take_away_the_kind_a_booking_uses(anna, slot, booking):
    refused("mode_not_offered", slot_update, slot=slot, actor=anna.user, modes=["onsite"])

    assert Slot.objects.get(pk=slot.pk).modes == ["video", "onsite"]
    assert not audit("slot.updated")


def test_it_takes_away_a_kind_the_booking_does_not_use(anna, slot, booking):
    slot_update(slot=slot, actor=anna.user, modes=["video"])

    assert Slot.objects.get(pk=slot.pk).modes == ["video"]
    assert Booking.objects.get(pk=booking.pk).mode == "video"


# Input that is not a time, a length or a price.


@pytest.mark.parametrize(
    "start",
    [datetime(2027, 1, 11, 9, 0), at("2027-01-11 09:00:30"), at("2027-01-11 09:00").replace(microsecond=1),
     "2027-01-11T09:00:00+01:00", None],
)
def test_it_refuses_a_start_that_is_not_an_aware_whole_minute(anna, now, start):
    invalid("start", slot_create, therapist=anna, actor=anna.user, start=start)

    assert not Slot.objects.exists()


@pytest.mark.parametrize("minutes", [0, 4, -45, 721, 45.0, "45", True])
def test_it_refuses_a_bad_length(anna, now, minutes):
    invalid("duration_minutes", slot_create, therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"),
            duration_minutes=minutes)

    assert not Slot.objects.exists()


@pytest.mark.parametrize("price", [-1, 100_001, 12.5, "1000", False])
def test_it_refuses_a_bad_price(anna, now, price):
    invalid("price", slot_create, therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"), price=price)

    assert not Slot.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("start", datetime(2027, 1, 12, 9, 0)), ("start", at("2027-01-12 09:00:30")), ("duration_minutes", 3),
     ("duration_minutes", "90"), ("price", -5), ("price", 1.5)],
)
def test_it_refuses_bad_input_to_an_update(anna, slot, field, value):
    invalid(field, slot_update, slot=slot, actor=anna.user, **{field: value})

    row = Slot.objects.get(pk=slot.pk)
    assert (row.start_at, row.end_at, row.price) == (at("2027-01-11 09:00"), at("2027-01-11 09:45"), 1000)
    assert not audit("slot.updated")


def test_it_accepts_the_extremes_of_length_and_price(anna, now):
    short = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"), duration_minutes=5, price=0)
    long = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 08:00"), duration_minutes=720, price=100_000)

    assert (Slot.objects.get(pk=short.pk).duration_minutes, Slot.objects.get(pk=short.pk).price) == (5, 0)
    assert Slot.objects.get(pk=long.pk).end_at == long.start_at + timedelta(hours=12)


# A slot that has begun is history.


def test_it_refuses_any_change_to_a_slot_that_has_begun(anna, slot, now):
    now.move_to(at("2027-01-11 09:10"))
    refused("slot_in_past", slot_update, slot=slot, actor=anna.user, price=1)
    refused("slot_in_past", slot_update, slot=slot, actor=anna.user, audience="existing")
    slot.refresh_from_db()
    assert (slot.price, slot.audience) == (1000, "all")


def test_it_refuses_any_change_to_a_booked_slot_that_has_begun(anna, slot, booking, now):
    now.move_to(at("2027-01-11 09:10"))
    refused("slot_in_past", slot_update, slot=slot, actor=anna.user, price=1)
    booking.refresh_from_db()
    assert booking.price == 1000
