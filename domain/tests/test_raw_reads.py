"""The hand-written reads (`domain.rows`) answer exactly what the ORM answers, and the ORM's
rule definitions answer what the rules say, for random data (issue 12).

Hypothesis draws a small world — therapists with and without Client Booster (R9), clients on
some of their lists (R12), slots open to all or to existing clients only (R7, R8), live and
cancelled bookings, some of them moved away from their slot's time or left without a slot —
and every hand-written read is compared with its ORM twin on it:

- `selectors.calendar_for_therapist` with `Slot.objects.with_live_booking()` (every field of
  the slot, its live booking and that booking's client, and R15's first-visit mark);
- `selectors.slot_for_booking` with `select_related` and `Slot.objects.open_to` (R8, R9);
- `selectors.booking_facts` with `BookingQuerySet.live()`/`earlier_than()` (R15, R16);
- `selectors.open_slot_rows` (`rows.Compiled`) with `selectors.open_slots_for_viewer`'s model
  instances (R8, R9, R14, R35 and R38's busy times, with and without a window);
- `services.accounts.token_user` with `select_related` of the token's user and profiles.

The ORM's own definitions are checked against the rules written out plainly in Python
(docs/rules.md R8, R9, R15, and R35's booking window, `in_booking_window` with its twin for a
therapist in hand), so the chain rule → ORM → SQL holds. Each example runs in its own
transaction, rolled back after it (hypothesis.extra.django.TestCase); run on SQLite and, with
DATABASE_URL, on PostgreSQL."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.db.models import Exists, OuterRef
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from domain import selectors
from domain.models import (
    ALL,
    EXISTING,
    ApiToken,
    Booking,
    BusyTime,
    Client,
    ClientLink,
    Slot,
    Therapist,
    User,
    in_booking_window,
)
from domain.services.accounts import token_user

BASE = datetime(2027, 1, 11, 8, tzinfo=UTC)
HOUR = timedelta(hours=1)
# The slots start on a coarse grid of hours, so that bookings often start at the same moment
# (R15 compares start times strictly) and windows cut slots at their edges.
hours = st.integers(min_value=0, max_value=30)

booking = st.fixed_dictionaries({
    "client": st.integers(0, 3),
    "live": st.booleans(),
    "by_client": st.booleans(),
    # A cancelled booking keeps the time it had; its slot may have moved since or be gone.
    "moved_by": st.sampled_from([0, 0, -3, 2]),
    "slotless": st.booleans(),
})
slot = st.fixed_dictionaries({
    "therapist": st.integers(0, 2),
    "start": hours,
    "minutes": st.sampled_from([30, 45, 60, 90]),
    "audience": st.sampled_from([ALL, EXISTING]),
    "bookings": st.lists(booking, max_size=3),
})
WORLD = {
    "boosters": st.lists(st.booleans(), min_size=3, max_size=3),
    "links": st.sets(st.tuples(st.integers(0, 2), st.integers(0, 3)), max_size=8),
    "slots": st.lists(slot, max_size=10),
    "with_user": st.lists(st.booleans(), min_size=4, max_size=4),
    # R35: each therapist's minimum notice (hours) and horizon (days), around the slots' span.
    "windows": st.lists(st.tuples(st.sampled_from([0, 1, 5, 12, 30]), st.integers(1, 25)), min_size=3, max_size=3),
    # R38: busy times of her external calendar (therapist, the day of which slot, start hour,
    # length in minutes): on the slots' grid, so that they often overlap one.
    "busy": st.lists(st.tuples(st.integers(0, 2), st.integers(0, 9), hours, st.sampled_from([15, 60, 180])), max_size=4),
}
world = st.fixed_dictionaries(WORLD)
# For the reads of open slots: several slots, most therapists in Client Booster, so that the
# answers are seldom empty.
open_world = st.fixed_dictionaries(WORLD | {
    "slots": st.lists(slot, min_size=4, max_size=10),
    "boosters": st.lists(st.sampled_from([True, True, False]), min_size=3, max_size=3),
})
# The therapists' zones: the open slots' times are answered in hers (R22).
ZONES = ["Europe/Stockholm", "America/New_York", "UTC"]

# A bounded run: each example writes a few dozen rows, on both databases.
EXAMPLES = settings(max_examples=40, deadline=None)


def build(w) -> tuple[list[Therapist], list[Client], list[Slot]]:
    users = User.objects.bulk_create(
        [User(email=f"t{i}@example.se", first_name=f"T{i}", last_name="Terapeut") for i in range(3)]
    )
    therapists = Therapist.objects.bulk_create([
        Therapist(user=u, client_booster=b, languages=["sv", "en"][: i + 1], areas={"x": i} if i else [],
                  min_notice_hours=notice, booking_horizon_days=horizon, timezone=ZONES[i])
        for i, (u, b, (notice, horizon)) in enumerate(zip(users, w["boosters"], w["windows"], strict=True))
    ])
    client_users = User.objects.bulk_create(
        [User(email=f"c{i}@example.se", first_name=f"C{i}") for i, has in enumerate(w["with_user"]) if has]
    )
    account = iter(client_users)
    clients = Client.objects.bulk_create([
        Client(user=next(account) if has else None, first_name=f"C{i}", last_name="Klient", email=f"c{i}@example.se",
               personnummer=f"1985031{i}-1234")
        for i, has in enumerate(w["with_user"])
    ])
    ClientLink.objects.bulk_create(
        [ClientLink(therapist=therapists[t], client=clients[c], source="own") for t, c in sorted(w["links"])]
    )
    slots, bookings = [], []
    taken = set()
    for i, s in enumerate(w["slots"]):
        start = BASE + s["start"] * HOUR + i * timedelta(days=2)  # one therapist's slots never overlap
        slots.append(Slot(therapist=therapists[s["therapist"]], start_at=start, end_at=start + timedelta(minutes=s["minutes"]),
                          price=10 * s["minutes"], audience=s["audience"], video=i % 3 != 1, onsite=i % 3 != 0))
    slots = Slot.objects.bulk_create(slots)
    for sl, s in zip(slots, w["slots"], strict=True):
        for b in s["bookings"]:
            live = b["live"] and sl.pk not in taken  # one live booking per slot (R16)
            taken |= {sl.pk} if live else set()
            moved = timedelta(0) if live else b["moved_by"] * HOUR
            bookings.append(Booking(
                slot=None if (b["slotless"] and not live) else sl, therapist=sl.therapist, client=clients[b["client"]],
                start_at=sl.start_at + moved, end_at=sl.end_at + moved, price=sl.price, mode="video",
                status=Booking.Status.CONFIRMED if live else Booking.Status.CANCELLED, by_client=b["by_client"],
                cancelled_at=None if live else BASE,
            ))
    Booking.objects.bulk_create(bookings)
    BusyTime.objects.bulk_create([
        BusyTime(therapist=therapists[t], start_at=at, end_at=at + timedelta(minutes=m))
        for t, day, h, m in w["busy"]
        for at in [BASE + h * HOUR + day * timedelta(days=2)]
    ])
    return therapists, clients, slots


def fields(instance) -> dict | None:
    if instance is None:
        return None
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def on_list(therapist_id: int, client: Client | None) -> bool:
    return client is not None and ClientLink.objects.filter(therapist_id=therapist_id, client=client).exists()


def rule_visible(slot: Slot, client: Client | None) -> bool:
    """R8, R9 as docs/rules.md says them."""
    if on_list(slot.therapist_id, client):
        return True
    return slot.audience == ALL and Therapist.objects.get(pk=slot.therapist_id).client_booster


def rule_in_window(slot: Slot, at: datetime) -> bool:
    """R35 as docs/rules.md says it: at least her minimum notice after `at`, less than her
    horizon after it."""
    t = Therapist.objects.get(pk=slot.therapist_id)
    return at + t.min_notice_hours * HOUR <= slot.start_at < at + timedelta(days=t.booking_horizon_days)


def rule_first_visit(booking: Booking) -> bool:
    """R15 as docs/rules.md says it: live, and no other live booking of hers starts earlier."""
    if booking.status != Booking.Status.CONFIRMED:
        return False
    others = Booking.objects.filter(client_id=booking.client_id).exclude(pk=booking.pk)
    return not any(o.status == Booking.Status.CONFIRMED and o.start_at < booking.start_at for o in others)


class RawReadsTest(TestCase):
    @EXAMPLES
    @given(w=world, window=st.tuples(st.integers(-20, 60), st.integers(1, 200)), who=st.integers(0, 2))
    def test_the_calendar_reads_what_the_orm_reads(self, w, window, who):
        therapists, _, _ = build(w)
        therapist = Therapist.objects.get(pk=therapists[who].pk)
        start = BASE + window[0] * HOUR
        end = start + window[1] * HOUR

        raw = selectors.calendar_for_therapist(therapist, start, end)
        orm = list(
            Slot.objects.filter(therapist=therapist).overlapping(start, end).with_live_booking().order_by("start_at", "id")
        )

        assert [fields(s) for s in raw] == [fields(s) for s in orm]
        for r, o in zip(raw, orm, strict=True):
            assert fields(r.live_booking) == fields(o.live_booking)
            assert r.color == o.color
            if o.live_booking is not None:
                assert r.live_booking.first_visit == o.live_booking.first_visit == rule_first_visit(o.live_booking)
                assert fields(r.live_booking.client) == fields(o.live_booking.client)
                with self.assertNumQueries(0):  # everything the calendar shows came with the read
                    assert (r.live_booking.slot, r.therapist) == (r, therapist)

    @EXAMPLES
    @given(w=world, pick=st.integers(0, 20), viewer=st.integers(0, 3))
    def test_the_booking_read_locks_and_answers_what_the_orm_answers(self, w, pick, viewer):
        _, clients, slots = build(w)
        client = clients[viewer]
        slot_id = slots[pick % len(slots)].pk if slots and pick < 18 else 10**6 + pick  # sometimes none

        try:
            raw, raw_on_list, raw_open = selectors.slot_for_booking(slot_id, client)
        except Slot.DoesNotExist:
            assert not Slot.objects.filter(pk=slot_id).exists()
            return
        orm = Slot.objects.select_related("therapist__user").get(pk=slot_id)

        assert fields(raw) == fields(orm)
        with self.assertNumQueries(0):
            assert fields(raw.therapist) == fields(orm.therapist)
            assert fields(raw.therapist.user) == fields(orm.therapist.user)
        assert raw_on_list == on_list(orm.therapist_id, client)
        assert raw_open == Slot.objects.open_to(client).filter(pk=slot_id).exists() == rule_visible(orm, client)

    @EXAMPLES
    @given(w=world, pick=st.integers(0, 9), viewer=st.integers(0, 3), now=st.tuples(st.integers(0, 9), st.integers(-1, 1)))
    def test_the_booking_facts_are_what_the_orm_counts(self, w, pick, viewer, now):
        _, clients, slots = build(w)
        if not slots:
            return
        # "Now" is often the very start of a booking: the count takes those that start later.
        slot, client = slots[pick % len(slots)], clients[viewer]
        now = slots[now[0] % len(slots)].start_at + now[1] * HOUR

        taken, earlier, own_future = selectors.booking_facts(slot, client, now)

        live = Booking.objects.live()
        assert taken == live.filter(slot=slot).exists()
        assert earlier == live.earlier_than(client, slot.start_at).exists()
        assert own_future == live.filter(client=client, therapist_id=slot.therapist_id, start_at__gt=now,
                                         by_client=True).count()
        # R15 as written: a booking of this slot by her now would be a first visit exactly when
        # no live booking of hers starts before it.
        assert earlier == any(b.start_at < slot.start_at for b in live.filter(client=client))

    @EXAMPLES
    @given(w=open_world, who=st.integers(0, 6), viewer=st.integers(-1, 3), now=st.integers(-10, 40),
           window=st.tuples(st.sampled_from([None, None, None, -20, 0, 30]), st.sampled_from([None, None, 5, 24, 200])))
    def test_the_open_slots_read_answers_what_the_orm_answers(self, w, who, viewer, now, window):
        """`open_slot_rows`, compiled once per shape and run with new values, reads what the
        ORM's `open_slots_for_viewer` reads as instances: the same slots in the same order,
        with the same values and her zone, for any viewer, moment and window."""
        therapists, clients, _ = build(w)
        therapist_id = therapists[who % 3].pk if who < 6 else 10**6  # sometimes no such therapist
        client = clients[viewer] if viewer >= 0 else None
        start = None if window[0] is None else BASE + window[0] * HOUR
        end = None if window[1] is None else (start or BASE) + window[1] * HOUR

        with time_machine.travel(BASE + now * HOUR + timedelta(minutes=7), tick=False):
            raw = selectors.open_slot_rows(therapist_id, client, start, end)
            orm = [
                (s.pk, s.start_at, s.end_at, s.price, s.video, s.onsite, s.audience, s.therapist.timezone)
                for s in selectors.open_slots_for_viewer(therapist_id, client, start, end).select_related("therapist")
            ]

        assert raw == orm
        assert [tuple(map(type, row)) for row in raw] == [tuple(map(type, row)) for row in orm]
        if raw:  # a row means she may book it, so her page is there for this viewer (R9)
            assert selectors.therapist_visible_to(Therapist.objects.get(pk=therapist_id), client)

    @EXAMPLES
    @given(w=world)
    def test_the_orm_answers_r8_r9_and_r15_as_the_rules_say(self, w):
        therapists, clients, slots = build(w)
        for viewer in [None, *clients]:
            open_ids = set(Slot.objects.open_to(viewer).values_list("pk", flat=True))
            assert open_ids == {s.pk for s in slots if rule_visible(s, viewer)}
            # A therapist's page is there for whoever may book one of her slots open to all.
            for t in therapists:
                assert selectors.therapist_visible_to(t, viewer) == (t.client_booster or on_list(t.pk, viewer))
            assert set(Therapist.objects.boosted().values_list("pk", flat=True)) == {
                t.pk for t in therapists if t.client_booster
            }
        for b in Booking.objects.with_first_visit():
            assert b.first_visit == Booking.objects.get(pk=b.pk).first_visit == rule_first_visit(b)
        assert set(Slot.objects.free().values_list("pk", flat=True)) == {
            s.pk for s in slots if not Booking.objects.filter(slot=s, status=Booking.Status.CONFIRMED).exists()
        }
        # The listing (R9) shows whom a new client may book and her soonest free slot open to
        # her, as `Slot.objects.open_to(None)` says.
        with time_machine.travel(BASE + 5 * HOUR, tick=False):
            for mode in (None, "video", "onsite"):
                free = Slot.objects.filter(in_booking_window(BASE + 5 * HOUR), start_at__gt=BASE + 5 * HOUR)
                free = free.free().open_to(None)
                free = free.filter(**{mode: True}) if mode else free
                soonest = {}
                for s in free.order_by("-start_at"):
                    soonest[s.therapist_id] = s.start_at
                listed = {t.pk: t.next_available for t in selectors.therapist_listing_live(mode)}
                assert set(listed) >= set(soonest)
                assert listed == {t.pk: soonest.get(t.pk) for t in therapists if t.pk in listed}
                assert set(listed) <= {t.pk for t in therapists if t.client_booster}

    @EXAMPLES
    @given(w=world, at=st.integers(-30, 24 * 30))
    def test_the_booking_window_answers_as_the_rule_says_in_every_form(self, w, at):
        """R35: the ORM condition (from the slots and from the therapists' side, as the
        listing asks it), the twin for a therapist in hand and the rule agree, to the hour's
        edges (the slots and the window's ends lie on whole hours)."""
        therapists, _, slots = build(w)
        at = BASE + at * HOUR
        inside = {s.pk for s in slots if rule_in_window(s, at)}
        assert set(Slot.objects.filter(in_booking_window(at)).values_list("pk", flat=True)) == inside
        for t in therapists:
            assert {s.pk for s in slots if s.therapist_id == t.pk and t.bookable_by_clients(s.start_at, at)} == {
                pk for pk in inside if Slot.objects.get(pk=pk).therapist_id == t.pk
            }
        outer = Slot.objects.filter(in_booking_window(at, outer=True), therapist=OuterRef("pk"))
        with_slot = set(Therapist.objects.filter(Exists(outer)).values_list("pk", flat=True))
        assert with_slot == {s.therapist_id for s in slots if s.pk in inside}

    @EXAMPLES
    @given(w=world, owner=st.integers(0, 6))
    def test_the_token_read_gives_the_user_the_orm_gives(self, w, owner):
        therapists, clients, _ = build(w)
        users = [t.user for t in therapists] + [c.user for c in clients if c.user] + [
            User.objects.create(email="staff@example.se", is_staff=True)
        ]
        user = users[owner % len(users)]
        key = f"key-{owner}"
        ApiToken.objects.create(user=user, key_hash=ApiToken.hash(key), last_used_at=datetime.now(UTC))

        raw = token_user(key)
        orm = User.objects.select_related("therapist", "client").get(pk=user.pk)

        assert fields(raw) == fields(orm)
        with self.assertNumQueries(0):
            for profile in ("therapist", "client"):
                assert fields(getattr(raw, profile, None)) == fields(getattr(orm, profile, None))
        assert token_user("no such key") is None


def test_the_databases_one_live_booking_per_slot_means_the_same_live_as_the_code():
    """R16's partial unique index cannot name LIVE_BOOKING (a migration freezes its condition);
    it must still say the same thing, or the database would guard another notion of 'live'."""
    from domain.models import LIVE_BOOKING

    index = next(c for c in Booking._meta.constraints if c.name == "booking_one_live_per_slot")
    assert index.condition == LIVE_BOOKING
