"""R32: a therapist books a client at the same weekly time for 2 to 52 weeks (a series), all
or none, naming every week that cannot be booked; she can cancel a series from a date on.

Every occurrence is an ordinary booking of its own slot (`bookings._booking_create`, with
`series` set), so R11, R14–R16 and the database's constraints hold for each unchanged; a
week without a slot of hers at exactly that time gets one from `slot_create` (R2, R11, R36).

Locking, in the order `bookings` and `slots` document (a slot's row before the therapist's,
then the client's): first the open slots the series would book, ordered by id; then the
therapist's row (`lock_therapist`, which every new slot takes); then the client's. A client
booking one of those slots at the same moment locks that slot and then, on PostgreSQL, the
therapist's row (her booking's foreign key takes a key-share lock on it): taking the
therapist's row first would deadlock against her. Whoever locks the slot first wins; the
other sees the booking (`slot_taken`). A slot of hers made at exactly a week's time after
the series read her calendar but before it locked her row cannot be locked in order any
more: the attempt is given up (rolled back) and made again from the start."""

import dataclasses
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..errors import MESSAGES, Code, DomainError
from ..models import (
    MAX_SERIES_WEEKS,
    MIN_SERIES_WEEKS,
    MODES,
    Booking,
    BookingSeries,
    Client,
    Slot,
    Therapist,
    TimeOff,
    User,
)
from ..selectors import client_search
from ..timezones import YEARS, day_start, in_range, local, local_to_utc
from .audit import audit_write
from .bookings import booking_cancel, bookings_create_in_series
from .emails import email_series_booked, email_series_cancelled
from .listing import listing_refresh
from .slots import lock_therapist, slots_create_at, validate_duration, validate_price, validate_start

# A week whose wall-clock time does not exist that day (the clocks go forward) or exists
# twice (they go back): not one instant, so not booked. The same reason `slot_repeat_weekly`
# gives such a week ("dst"); it is no domain error code of its own.
CLOCK_CHANGE = "dst"

REASONS = {
    **MESSAGES,
    CLOCK_CHANGE: gettext_lazy("The clocks change that day: the time does not exist or occurs twice."),
}

ATTEMPTS = 3


@dataclasses.dataclass(frozen=True)
class SeriesWeek:
    """One week of a series as it stands: its number (1…), its local date, its start and end
    (UTC; None when the wall-clock time is not one instant that day), its price, and either
    `code` None (it can be booked: `slot_id` the open slot of hers to book, or None when one
    is made) or why not (a `Code` value, or `CLOCK_CHANGE`)."""

    week: int
    date: date
    start: datetime | None
    end: datetime | None
    price: int | None
    code: str | None = None
    slot_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.code is None

    @property
    def reason(self) -> str:
        """Why it cannot be booked, in words (the active language)."""
        return str(REASONS[self.code]) if self.code else ""


class SeriesConflict(DomainError):
    """`series_conflict`, naming every week that cannot be booked (`weeks`, the refused
    `SeriesWeek`s); the API adds them to its 409 (`extra`)."""

    def __init__(self, weeks: list[SeriesWeek]):
        super().__init__(Code.SERIES_CONFLICT)
        self.weeks = weeks

    @property
    def extra(self) -> dict:
        return {
            "dates": [w.date.isoformat() for w in self.weeks],
            "conflicts": [{"date": w.date.isoformat(), "week": w.week, "code": w.code} for w in self.weeks],
        }


class _CalendarChanged(Exception):
    """A slot at a week's time appeared after the series locked the slots it would book."""


@dataclasses.dataclass(frozen=True)
class _Request:
    therapist: Therapist
    client: Client
    start: datetime
    weeks: int
    mode: str
    duration: int
    price: int | None


def _validated(therapist, client, start, weeks, mode, duration_minutes, price) -> _Request:
    """Field errors first (each naming its field), then the client through her list."""
    start = validate_start(start)
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not MIN_SERIES_WEEKS <= weeks <= MAX_SERIES_WEEKS:
        raise ValidationError({"weeks": _("Book %(min)d to %(max)d weeks.") % {
            "min": MIN_SERIES_WEEKS, "max": MAX_SERIES_WEEKS}})
    if mode not in MODES:
        raise ValidationError({"mode": _("Choose video or on site.")})
    duration = validate_duration(therapist.default_duration_minutes if duration_minutes is None else duration_minutes)
    price = None if price is None else validate_price(price)
    # Through her own list, as `booking_create_by_therapist` looks a client up: anyone else,
    # or no client at all, is `client_not_on_list`, so nothing is learnt of other people.
    listed = client_search(therapist).filter(pk=client.pk if isinstance(client, Client) else client).first()
    if listed is None:
        raise DomainError(Code.CLIENT_NOT_ON_LIST)
    return _Request(therapist, listed, start, weeks, mode, duration, price)


def _plan(r: _Request, now: datetime) -> list[SeriesWeek]:
    """Each week as the calendar stands now (two queries: her slots at any of the weeks'
    times, with whether each is booked, and her time off across the whole series)."""
    tz = r.therapist.tz
    wall = local(r.start, tz).replace(tzinfo=None)
    length = timedelta(minutes=r.duration)
    times = []
    for week in range(1, r.weeks + 1):
        clock = wall + timedelta(weeks=week - 1)
        try:
            start = local_to_utc(clock, tz)
        except ValidationError:
            start = None
        times.append((week, clock.date(), start, start and start + length))
    ranges = [(s, e) for _w, _d, s, e in times if s is not None]
    slots, time_off = [], []
    if ranges:
        overlapping = Q()
        for s, e in ranges:
            overlapping |= Q(start_at__lt=e, end_at__gt=s)
        booked = Booking.objects.live().filter(slot=OuterRef("pk"))
        slots = list(Slot.objects.filter(overlapping, therapist=r.therapist).annotate(booked=Exists(booked)))
        time_off = list(TimeOff.objects.filter(therapist=r.therapist).overlapping(ranges[0][0], ranges[-1][1]))
    rows = []
    default_price = r.therapist.price_for(r.duration) if r.price is None else r.price
    for week, day, start, end in times:
        if start is None:
            rows.append(SeriesWeek(week, day, None, None, None, CLOCK_CHANGE))
            continue
        there = [s for s in slots if s.start_at < end and s.end_at > start]
        exact = next((s for s in there if s.start_at == start and s.end_at == end), None)
        row = dict(week=week, date=day, start=start, end=end, price=exact.price if exact else default_price)
        if start <= now:
            code = Code.SLOT_IN_PAST
        elif any(t.start_at < end and t.end_at > start for t in time_off):
            code = Code.TIME_OFF
        elif exact is not None and exact.booked:
            code = Code.SLOT_TAKEN
        elif len(there) > (1 if exact else 0):
            code = Code.SLOT_OVERLAP
        elif exact is not None and not exact.offers(r.mode):
            code = Code.MODE_NOT_OFFERED
        else:
            rows.append(SeriesWeek(**row, slot_id=exact.pk if exact else None))
            continue
        rows.append(SeriesWeek(**row, code=str(code)))
    return rows


def series_preview(
    *, therapist: Therapist, client: Client | int, start: datetime, weeks: int, mode: str,
    duration_minutes: int | None = None, price: int | None = None,
) -> list[SeriesWeek]:
    """R32: the weeks a series would book, each with whether it can be booked and, if not,
    why: `slot_taken` (her slot at that time is booked), `slot_overlap` (another slot of hers
    overlaps it without being exactly that time), `time_off`, `slot_in_past`,
    `mode_not_offered` (her open slot at that time does not offer the mode) or
    `CLOCK_CHANGE`. Week 1 is `start`; every week is at the same wall-clock time in her zone.
    Writes nothing and locks nothing: `series_create` plans again under its locks."""
    r = _validated(therapist, client, start, weeks, mode, duration_minutes, price)
    return _plan(r, timezone.now())


def series_create(
    *, therapist: Therapist, client: Client | int, start: datetime, weeks: int, mode: str,
    duration_minutes: int | None = None, price: int | None = None, actor: User | None,
) -> BookingSeries:
    """R32: book the client every week, all or none, in one transaction. Each week's open
    slot of hers at exactly that start and length is booked as it is (its own price); where
    she has none, one is made (`slot_create`: her default kinds of meeting with `mode` added,
    the length given, the price given or priced by R5) and booked. Her booking window (R35)
    does not bind her. Any week refused raises `SeriesConflict` naming every refused week, and
    nothing is written. The client gets one mail listing every date with one calendar file
    (`emails.email_series_booked`), not a confirmation per booking."""
    r = _validated(therapist, client, start, weeks, mode, duration_minutes, price)
    for attempt in range(ATTEMPTS):
        try:
            return _series_create_once(r, actor)
        except _CalendarChanged:
            if attempt == ATTEMPTS - 1:
                raise DomainError(Code.SLOT_TAKEN) from None
    raise AssertionError("unreachable")


def _series_create_once(r: _Request, actor: User | None) -> BookingSeries:
    with transaction.atomic():
        planned = _plan(r, timezone.now())
        ids = sorted(w.slot_id for w in planned if w.slot_id)
        locked = {
            slot.pk: slot
            for slot in Slot.objects.select_related("therapist__user").select_for_update(of=("self",))
            .filter(pk__in=ids).order_by("pk")
        }
        lock_therapist(r.therapist)
        # Again under the locks: what was read before them may have changed meanwhile.
        rows = _plan(r, timezone.now())
        refused = [w for w in rows if not w.ok]
        if refused:
            raise SeriesConflict(refused)
        if any(w.slot_id and w.slot_id not in locked for w in rows):
            raise _CalendarChanged
        Client.objects.select_for_update().filter(pk=r.client.pk).first()
        series = BookingSeries.objects.create(
            therapist=r.therapist, client=r.client, weeks=r.weeks, created_by=actor if actor and actor.pk else None
        )
        # The weeks without a slot get one each (R2, with R11 and R36 checked for all of them at
        # once), and every week its booking: each an ordinary slot and booking. Checked above
        # under the locks, so only the database's own refusal could still stop them here
        # (`slot_overlap`, `slot_taken`, naming no week).
        made = slots_create_at(
            therapist=r.therapist, actor=actor, starts=[w.start for w in rows if not w.slot_id],
            duration_minutes=r.duration, price=r.price, modes=_default_modes(r.therapist, r.mode),
        )
        slots = [locked[w.slot_id] for w in rows if w.slot_id] + made
        bookings = bookings_create_in_series(series=series, slots=slots, client=r.client, mode=r.mode, actor=actor)
        audit_write(
            actor=actor, action="series.created", target=series, therapist_id=r.therapist.pk,
            after={"weeks": r.weeks, "client_id": r.client.pk, "bookings": [b.pk for b in bookings]},
        )
        email_series_booked(bookings=bookings)
        listing_refresh([r.therapist.pk])  # R9: last, see services.listing
    series.created_bookings = bookings
    return series


def _default_modes(therapist: Therapist, mode: str) -> list[str]:
    modes = {m for m, on in (("video", therapist.default_video), ("onsite", therapist.default_onsite)) if on}
    return sorted(modes | {mode})


def series_bookings_from(series_id: int, from_date: date, tz) -> QuerySet[Booking]:
    """R32: what cancelling the series from `from_date` cancels: its live bookings on or after
    that local date (in `tz`, her zone) that have not begun, by start. The page that offers
    "Avboka denna och följande" counts these too."""
    return Booking.objects.live().filter(
        series_id=series_id, start_at__gte=day_start(from_date, tz), start_at__gt=timezone.now()
    ).order_by("start_at")


def series_cancel(*, series: BookingSeries, from_date: date, actor: User | None) -> list[Booking]:
    """R32: cancel every live booking of the series whose local date (her zone) is on or
    after `from_date` and that has not begun, each by `booking_cancel`'s rules (audited, the
    slot open again, R34's late cancellation), in one transaction; the client gets one mail
    listing the cancelled dates with their cancelled calendar events. Answers the cancelled
    bookings (none: nothing is written and no mail goes).

    Locks every affected slot (by id) before the client's row, as `booking_cancel` takes
    them one booking at a time: taking the next slot after the client's row would invert the
    order against the client cancelling that booking herself."""
    if not isinstance(from_date, date) or isinstance(from_date, datetime):
        raise ValidationError({"from": _("Give a date.")})
    if not in_range(from_date):  # year 9999's midnight in her zone overflows: a refusal, not a 500
        raise ValidationError({"from": _("The date must lie between the years %(first)d and %(last)d.") % YEARS})
    with transaction.atomic():
        chosen = series_bookings_from(series.pk, from_date, series.therapist.tz)
        slot_ids = sorted(chosen.exclude(slot=None).values_list("slot_id", flat=True))
        list(Slot.objects.select_for_update().filter(pk__in=slot_ids).order_by("pk").values_list("pk", flat=True))
        Client.objects.select_for_update().filter(pk=series.client_id).first()
        cancelled = [
            booking_cancel(booking=b, actor=actor, mail_client=False, refresh_listing=False)
            for b in chosen.select_related("therapist__user", "client")
        ]
        if cancelled:
            audit_write(
                actor=actor, action="series.cancelled", target=series, therapist_id=series.therapist_id,
                after={"from": from_date.isoformat(), "bookings": [b.pk for b in cancelled]},
            )
            email_series_cancelled(bookings=cancelled)
            listing_refresh([series.therapist_id])  # R9: last, see services.listing
    return cancelled
