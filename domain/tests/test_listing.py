"""R9 at country scale: the stored listing (`Listing`, kept by `services.listing`) always says
what the live definition (`selectors.therapist_listing_live`, the old correlated subquery)
computes.

Hypothesis draws a sequence of operations through the services — slots made, moved, re-kinded,
re-audienced and removed; bookings by the therapist and by clients, cancelled and moved; a
weekly series; time off; the booking window and default kinds changed; Client Booster
switched — and after them the listing of every kind (any, video, on site) read from the stored
rows equals the live one, order included, after each of them. Then time passes: every row whose `valid_until` has
not come yet must still be right without any refresh (that is what `valid_until` promises),
and after the periodic job (`listing_refresh_due`) every row is right again. Each example runs
in its own transaction, rolled back after it; run on SQLite and, with DATABASE_URL, on
PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from domain import services
from domain.errors import DomainError
from domain.models import Booking, Client, ClientLink, Listing, Slot, Therapist, User
from domain.selectors import therapist_listing, therapist_listing_live
from domain.services.listing import listing_refresh_due

BASE = datetime(2027, 1, 11, 8, tzinfo=UTC)
HOUR = timedelta(hours=1)
MODES = (None, "video", "onsite")

kinds = st.sampled_from([["video"], ["onsite"], ["video", "onsite"]])
operation = st.one_of(
    st.tuples(st.just("slot"), st.integers(0, 2), st.integers(1, 150), kinds, st.sampled_from(["all", "all", "existing"])),
    st.tuples(st.just("move_slot"), st.integers(0, 30), st.integers(1, 150)),
    st.tuples(st.just("slot_kinds"), st.integers(0, 30), kinds, st.sampled_from(["all", "existing"])),
    st.tuples(st.just("delete_slot"), st.integers(0, 30)),
    st.tuples(st.just("book"), st.integers(0, 30), st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("move_booking"), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.just("series"), st.integers(0, 2), st.integers(1, 60)),
    st.tuples(st.just("time_off"), st.integers(0, 2), st.integers(1, 60), st.integers(1, 12)),
    st.tuples(st.just("window"), st.integers(0, 2), st.sampled_from([0, 1, 5, 12, 30]), st.integers(1, 4)),
    st.tuples(st.just("defaults"), st.integers(0, 2), kinds),
    st.tuples(st.just("booster"), st.integers(0, 2), st.booleans()),
)

EXAMPLES = settings(max_examples=40, deadline=None)


def world():
    therapists, clients = [], []
    for i in range(3):
        user = User.objects.create(email=f"t{i}@example.se", first_name=f"T{i}", last_name=["Berg", "Ahl", "Berg"][i])
        therapists.append(Therapist.objects.create(
            user=user, client_booster=i != 2, min_notice_hours=0, booking_horizon_days=3,
        ))
    for i in range(2):
        user = User.objects.create(email=f"c{i}@example.se", first_name=f"C{i}", last_name="Klient")
        client = Client.objects.create(user=user, first_name=f"C{i}", last_name="Klient", email=user.email)
        ClientLink.objects.create(therapist=therapists[0], client=client, source=ClientLink.Source.OWN)
        clients.append(client)
    # Something to book, move and remove from the start (each kind, some soon, some far).
    for t, hours, modes in [(0, 2, ["video"]), (0, 10, ["onsite"]), (0, 30, ["video", "onsite"]), (1, 5, ["video"]),
                            (1, 26, ["onsite"]), (1, 70, ["video", "onsite"]), (1, 90, ["video"]), (2, 3, ["video", "onsite"])]:
        services.slot_create(therapist=therapists[t], actor=None, start=BASE + hours * HOUR, modes=modes)
    return therapists, clients


def nth(queryset, i):
    rows = list(queryset.order_by("pk"))
    return rows[i % len(rows)] if rows else None


def apply(op, therapists, clients) -> None:
    kind, *args = op
    fresh = [Therapist.objects.get(pk=t.pk) for t in therapists]
    if kind == "slot":
        t, hours, modes, audience = args
        services.slot_create(therapist=fresh[t], actor=None, start=BASE + hours * HOUR, modes=modes, audience=audience)
    elif kind == "move_slot" and (slot := nth(Slot.objects.all(), args[0])):
        services.slot_update(slot=slot, actor=None, start=BASE + args[1] * HOUR)
    elif kind == "slot_kinds" and (slot := nth(Slot.objects.all(), args[0])):
        services.slot_update(slot=slot, actor=None, modes=args[1], audience=args[2])
    elif kind == "delete_slot" and (slot := nth(Slot.objects.all(), args[0])):
        services.slot_delete(slot=slot, actor=None)
    elif kind == "book" and (slot := nth(Slot.objects.all(), args[0])):
        client = clients[args[0] % 2]
        mode = slot.modes[0]
        if args[1]:
            services.booking_create_by_client(client=client, slot=slot.pk, mode=mode, actor=client.user)
        else:
            services.booking_create_by_therapist(therapist=slot.therapist, slot=slot.pk, client=client.pk, mode=mode,
                                                 actor=None)
    elif kind == "cancel" and (booking := nth(Booking.objects.live(), args[0])):
        services.booking_cancel(booking=booking, actor=None)
    elif kind == "move_booking" and (booking := nth(Booking.objects.live(), args[0])):
        target = nth(Slot.objects.filter(therapist_id=booking.therapist_id), args[1])
        services.booking_move(booking=booking, slot=target.pk, actor=booking.client.user)
    elif kind == "series":
        services.series_create(therapist=fresh[0], client=clients[args[0] % 2].pk, start=BASE + args[1] * HOUR,
                               weeks=2, mode="video", actor=None)
    elif kind == "time_off":
        t, hours, length = args
        services.time_off_create(therapist=fresh[t], start=BASE + hours * HOUR, end=BASE + (hours + length) * HOUR,
                                 actor=None)
    elif kind == "window":
        t, notice, days = args
        services.therapist_settings_update(therapist=fresh[t], actor=None, min_notice_hours=notice,
                                           booking_horizon_days=days)
    elif kind == "defaults":
        services.therapist_settings_update(therapist=fresh[args[0]], actor=None, default_modes=args[1])
    elif kind == "booster":
        services.client_booster_set(therapist=fresh[args[0]], on=args[1], actor=None)


def listings(read, only=None) -> dict:
    """Each kind's listing as (id, next_available) in order; `only`: those therapists' rows."""
    return {
        mode: [(t.pk, t.next_available) for t in read(mode) if only is None or t.pk in only] for mode in MODES
    }


class TestTheStoredListingIsTheLiveOne(TestCase):
    @EXAMPLES
    @given(ops=st.lists(operation, max_size=12), later=st.sampled_from([1, 3, 7, 20, 30, 49, 75, 100, 130]))
    def test_after_any_operations_and_after_time_passes(self, ops, later):
        with time_machine.travel(BASE, tick=False):
            therapists, clients = world()
            for op in ops:
                try:
                    apply(op, therapists, clients)
                except (DomainError, ValidationError, Slot.DoesNotExist, Booking.DoesNotExist):
                    pass  # a refused operation changes nothing, the listing included
                assert listings(therapist_listing) == listings(therapist_listing_live), op
        at = BASE + later * HOUR
        with time_machine.travel(at, tick=False):
            valid = set(Listing.objects.exclude(valid_until__lte=at).values_list("pk", flat=True))
            assert listings(therapist_listing, valid) == listings(therapist_listing_live, valid)
            listing_refresh_due()
            assert listings(therapist_listing) == listings(therapist_listing_live)


@pytest.mark.django_db
def test_the_job_refreshes_only_rows_time_has_moved(make_therapist):
    """A row whose first time is still bookable is left alone; one whose time has passed its
    notice is computed again, in one statement."""
    with time_machine.travel(BASE, tick=False):
        soon, later = make_therapist(), make_therapist(email="b@example.se", first="Bea")
        services.slot_create(therapist=soon, actor=None, start=BASE + 2 * HOUR)
        services.slot_create(therapist=soon, actor=None, start=BASE + 30 * HOUR)
        services.slot_create(therapist=later, actor=None, start=BASE + 20 * HOUR)
        assert Listing.objects.get(pk=soon.pk).valid_until == BASE + 2 * HOUR
    with time_machine.travel(BASE + 3 * HOUR, tick=False):
        assert listing_refresh_due() == 1
        assert {t.pk: t.next_available for t in therapist_listing()} == {
            soon.pk: BASE + 30 * HOUR, later.pk: BASE + 20 * HOUR,
        }
        assert listing_refresh_due() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_of_one_therapist_leave_her_row_right(anna, erik, nora):
    """Two clients book her two first times while she opens an earlier one, all at once, each
    on its own connection: whatever order they commit in, her row ends as the live definition
    says (the refresh locks the row before its UPDATE, so the last one computes from a snapshot
    that holds the others' commits). Several rounds; on SQLite the writers are serialised."""
    from conftest import days_ahead
    from domain.tests.test_concurrency import race

    for day in range(1, 6):
        first = services.slot_create(therapist=anna, actor=None, start=days_ahead(day, "10:00"))
        second = services.slot_create(therapist=anna, actor=None, start=days_ahead(day, "11:00"))
        services.slot_create(therapist=anna, actor=None, start=days_ahead(day, "12:00"))
        race(
            lambda first=first: services.booking_create_by_client(client=erik, slot=first.pk, mode="video", actor=None),
            lambda second=second: services.booking_create_by_client(client=nora, slot=second.pk, mode="video",
                                                                    actor=None),
            lambda day=day: services.slot_create(therapist=anna, actor=None, start=days_ahead(day, "08:00")),
        )
        assert listings(therapist_listing) == listings(therapist_listing_live)
        for booking in Booking.objects.live():
            services.booking_cancel(booking=booking, actor=None)
        Slot.objects.filter(therapist=anna).delete()
        services.listing_refresh([anna.pk])
