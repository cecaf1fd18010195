"""A therapist's open times: create (R2), move and re-size (R3, R5), edit kinds and audience
(R6, R7), remove (R10) — never overlapping (R11).

Locking: every change that can make two slots overlap runs in one transaction that locks
the therapist's row (a move locks its slot's row first, as a booking does), so two such
changes for one therapist are serialised; the overlap check then sees every committed slot.
On PostgreSQL the exclusion constraint `slot_no_overlap` stands behind the check; on SQLite,
transactions begin IMMEDIATE and so hold the write lock."""

import contextlib
import dataclasses
import itertools
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import Code, DomainError
from ..locking import in_transaction
from ..models import (
    ALL,
    EXISTING,
    MAX_DURATION_MINUTES,
    MAX_PRICE,
    MIN_DURATION_MINUTES,
    MODES,
    Booking,
    Slot,
    Therapist,
    TimeOff,
    User,
    modes_list,
    overlapping_any,
)
from ..timezones import YEARS, in_range, local, local_to_utc
from .audit import audit_entry, audit_write, audit_write_many, booking_snapshot, slot_snapshot
from .emails import email_booking_rescheduled
from .listing import listing_refresh
from .reminders import REMINDER_BEFORE
from .waitlist import slots_opened

UNSET = object()


def validate_duration(minutes, field: str = "duration_minutes") -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValidationError({field: _("The length must be a whole number of minutes.")})
    if not MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES:
        raise ValidationError(
            {field: _("The length must be between %(min)d and %(max)d minutes.")
             % {"min": MIN_DURATION_MINUTES, "max": MAX_DURATION_MINUTES}}
        )
    return minutes


def validate_price(price, field: str = "price") -> int:
    if isinstance(price, bool) or not isinstance(price, int):
        raise ValidationError({field: _("The price must be a whole number of kronor.")})
    if not 0 <= price <= MAX_PRICE:
        raise ValidationError({field: _("The price must be between 0 and %(max)d kr.") % {"max": MAX_PRICE}})
    return price


def validate_modes(modes, field: str = "modes") -> tuple[bool, bool]:
    """R6: a non-empty subset of video and on-site; answers (video, onsite)."""
    if not isinstance(modes, (list, tuple, set)) or not modes:
        raise ValidationError({field: _("Choose video, on site or both.")})
    unknown = set(modes) - set(MODES)
    if unknown:
        raise ValidationError({field: _("Unknown kind of meeting: %(kinds)s.") % {"kinds": ", ".join(sorted(map(str, unknown)))}})
    return "video" in modes, "onsite" in modes


def validate_audience(audience, field: str = "audience") -> str:
    if audience not in (ALL, EXISTING):
        raise ValidationError({field: _('The audience must be "all" or "existing".')})
    return audience


def validate_start(start, field: str = "start") -> datetime:
    if not isinstance(start, datetime):
        raise ValidationError({field: _("The start must be a date and time.")})
    if timezone.is_naive(start):
        raise ValidationError({field: _("The start must include a UTC offset, e.g. 2026-12-01T09:00:00+01:00.")})
    if start.second or start.microsecond:
        raise ValidationError({field: _("The start must be on a whole minute.")})
    if not in_range(start):
        raise ValidationError({field: _("The start must lie between the years %(first)d and %(last)d.") % YEARS})
    # In UTC, so that adding the length counts real minutes: Python adds a timedelta to a
    # time in a zone by the wall clock, which across a change of summer time is not (R22).
    return start.astimezone(UTC)


@in_transaction
def lock_therapist(therapist: Therapist) -> Therapist:
    """Serialise calendar changes for one therapist. Call inside transaction.atomic()."""
    return Therapist.objects.select_for_update().get(pk=therapist.pk)


def _check_free(therapist: Therapist, start: datetime, end: datetime, exclude_id: int | None = None) -> None:
    """A slot may be made or moved to [start, end) only outside her time off (R36: `time_off`)
    and where no other slot of hers is (R11: `slot_overlap`). Under `lock_therapist`, which
    setting time off takes too."""
    if TimeOff.objects.filter(therapist=therapist).overlapping(start, end).exists():
        raise DomainError(Code.TIME_OFF)
    clashes = Slot.objects.filter(therapist=therapist).overlapping(start, end)
    if exclude_id is not None:
        clashes = clashes.exclude(pk=exclude_id)
    if clashes.exists():
        raise DomainError(Code.SLOT_OVERLAP)


@contextlib.contextmanager
def _refusing_overlap():
    """Write inside, turning the database's own overlap refusal (PostgreSQL's exclusion
    constraint, sqlstate 23P01) into the domain error: the constraint is the truth behind the
    check."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as e:
        if getattr(e.__cause__, "sqlstate", None) == "23P01":
            raise DomainError(Code.SLOT_OVERLAP) from e
        raise


def _save_guarded(slot: Slot, **save_kwargs) -> None:
    with _refusing_overlap():
        slot.save(**save_kwargs)


def slot_create(
    *,
    therapist: Therapist,
    actor: User | None,
    start: datetime,
    duration_minutes: int | None = None,
    price: int | None = None,
    modes: list[str] | None = None,
    audience: str | None = None,
) -> Slot:
    """R2: a new open slot at `start`; what is not given comes from the settings, and a length
    other than the default is priced by R5."""
    start = validate_start(start)
    duration = validate_duration(therapist.default_duration_minutes if duration_minutes is None else duration_minutes)
    price = therapist.price_for(duration) if price is None else validate_price(price)
    if modes is None:
        video, onsite = therapist.default_video, therapist.default_onsite
    else:
        video, onsite = validate_modes(modes)
    audience = therapist.default_audience if audience is None else validate_audience(audience)
    end = start + timedelta(minutes=duration)
    if start < timezone.now():
        raise DomainError(Code.SLOT_IN_PAST)

    with transaction.atomic():
        lock_therapist(therapist)
        _check_free(therapist, start, end)
        now = timezone.now()
        slot = Slot(
            therapist=therapist, start_at=start, end_at=end, price=price, video=video, onsite=onsite,
            audience=audience, created_at=now, updated_at=now,
        )
        _save_guarded(slot)
        audit_write(**_created_entry(slot, actor))
        slots_opened([slot.pk])  # R37: the wait list hears of it once this commits
        listing_refresh([therapist.pk])  # R9: last, see services.listing
    return slot


def _created_entry(slot: Slot, actor: User | None) -> dict:
    return dict(
        actor=actor, action="slot.created", target=slot, therapist_id=slot.therapist_id, slot_id=slot.pk,
        after=slot_snapshot(slot),
    )


def slots_create_at(
    *, therapist: Therapist, actor: User | None, starts: list[datetime], duration_minutes: int,
    price: int | None, modes: list[str],
) -> list[Slot]:
    """R2 at several times at once (a series' new weeks, `services.series`), each as
    `slot_create` would make it, in a few statements whatever their number: one check of her
    time off (R36) and one of her slots (R11) for all the times, one insert, one audit insert.
    Times that overlap each other are refused too. The caller holds `lock_therapist` (this
    takes it again, which costs nothing) and its transaction; PostgreSQL's exclusion
    constraint stands behind the check."""
    duration = validate_duration(duration_minutes)
    price = therapist.price_for(duration) if price is None else validate_price(price)
    video, onsite = validate_modes(modes)
    length = timedelta(minutes=duration)
    times = sorted((validate_start(start), validate_start(start) + length) for start in starts)
    if not times:
        return []
    now = timezone.now()
    if times[0][0] < now:
        raise DomainError(Code.SLOT_IN_PAST)
    if any(end > next_start for (_s, end), (next_start, _e) in itertools.pairwise(times)):
        raise DomainError(Code.SLOT_OVERLAP)
    lock_therapist(therapist)
    within = overlapping_any(times)
    if TimeOff.objects.filter(within, therapist=therapist).exists():
        raise DomainError(Code.TIME_OFF)
    if Slot.objects.filter(within, therapist=therapist).exists():
        raise DomainError(Code.SLOT_OVERLAP)
    slots = [
        Slot(therapist=therapist, start_at=start, end_at=end, price=price, video=video, onsite=onsite,
             audience=therapist.default_audience, created_at=now, updated_at=now)
        for start, end in times
    ]
    with _refusing_overlap():
        Slot.objects.bulk_create(slots)
    audit_write_many([audit_entry(**_created_entry(slot, actor)) for slot in slots])
    return slots  # the caller refreshes the listing (R9), last in its transaction


def slot_update(
    *,
    slot: Slot,
    actor: User | None,
    start=UNSET,
    duration_minutes=UNSET,
    price=UNSET,
    modes=UNSET,
    audience=UNSET,
) -> Slot:
    """Move, re-size, re-price, or change kinds and audience (R3–R7). A new length without a
    price re-prices by R5; a price given by hand wins. Moving a booked slot reschedules its
    booking and tells the client (R18)."""
    with transaction.atomic():
        # The slot's row before the therapist's, the order a booking takes them in (it locks
        # the slot, and on PostgreSQL its foreign keys key-share the therapist at commit):
        # the other order deadlocks against a booking of the same slot.
        slot = Slot.objects.select_for_update().get(pk=slot.pk)
        therapist = lock_therapist(slot.therapist)
        before = slot_snapshot(slot)
        booking = slot.bookings.live().select_related("client").first()

        new_start = slot.start_at if start is UNSET else validate_start(start)
        duration = slot.duration_minutes if duration_minutes is UNSET else validate_duration(duration_minutes)
        new_end = new_start + timedelta(minutes=duration)
        if price is not UNSET:
            new_price = validate_price(price)
        elif duration != slot.duration_minutes:
            new_price = therapist.price_for(duration)
        else:
            new_price = slot.price
        video, onsite = (slot.video, slot.onsite) if modes is UNSET else validate_modes(modes)
        new_audience = slot.audience if audience is UNSET else validate_audience(audience)

        moved = (new_start, new_end) != (slot.start_at, slot.end_at)
        now = timezone.now()
        # A slot that has begun is history: neither it nor its booking changes any more.
        if slot.start_at < now or (moved and new_start < now):
            raise DomainError(Code.SLOT_IN_PAST)
        if booking and booking.mode not in modes_list(video, onsite):
            raise DomainError(Code.MODE_NOT_OFFERED, _("The slot is booked for that kind of meeting; it must stay offered."))
        if moved:
            _check_free(therapist, new_start, new_end, exclude_id=slot.pk)

        slot.start_at, slot.end_at, slot.price = new_start, new_end, new_price
        slot.video, slot.onsite, slot.audience = video, onsite, new_audience
        slot.updated_at = now
        _save_guarded(slot, update_fields=["start_at", "end_at", "price", "video", "onsite", "audience", "updated_at"])
        after = slot_snapshot(slot)
        if after != before:
            audit_write(
                actor=actor, action="slot.updated", target=slot, therapist_id=therapist.pk, slot_id=slot.pk,
                before=before, after=after,
            )
        if booking:
            _booking_follow_slot(booking=booking, slot=slot, moved=moved, actor=actor)
        listing_refresh([therapist.pk])  # R9: last, see services.listing
    return slot


def _booking_follow_slot(*, booking: Booking, slot: Slot, moved: bool, actor: User | None) -> None:
    """Keep a live booking's copy of its slot's time and price; a move is a reschedule."""
    before = booking_snapshot(booking)
    old_start, old_end = booking.start_at, booking.end_at
    booking.start_at, booking.end_at, booking.price = slot.start_at, slot.end_at, slot.price
    fields = ["start_at", "end_at", "price"]
    if moved:
        booking.sequence += 1
        # The 24-hour reminder is for the new time; a move into the coming day needs none,
        # the reschedule mail has just told her.
        far = slot.start_at - timezone.now() > REMINDER_BEFORE
        booking.reminder_queued_at = None if far else (booking.reminder_queued_at or timezone.now())
        fields += ["sequence", "reminder_queued_at"]
    booking.save(update_fields=fields)
    after = booking_snapshot(booking)
    if after == before:
        return
    audit_write(
        actor=actor, action="booking.rescheduled" if moved else "booking.updated", target=booking,
        therapist_id=slot.therapist_id, slot_id=slot.pk, before=before, after=after,
    )
    if moved:
        email_booking_rescheduled(booking=booking, old_start=old_start, old_end=old_end)


def slot_delete(*, slot: Slot, actor: User | None) -> None:
    """R10: an open slot can be removed; a booked one only after its booking is cancelled.
    The database holds it too: a live booking's slot cannot become empty."""
    with transaction.atomic():
        slot = Slot.objects.select_for_update().get(pk=slot.pk)
        if slot.bookings.live().exists():
            raise DomainError(Code.SLOT_BOOKED)
        before = slot_snapshot(slot)
        audit_write(
            actor=actor, action="slot.deleted", target=slot, therapist_id=slot.therapist_id, slot_id=slot.pk,
            before=before,
        )
        slot.delete()
        listing_refresh([slot.therapist_id])  # R9: last, see services.listing


MAX_REPEAT_WEEKS = 52
MAX_SLOTS_AT_ONCE = 48


@dataclasses.dataclass
class RepeatResult:
    """What `slot_repeat_weekly` did: the copies it made, and the weeks it left out with
    why (a domain error code, or "dst" for a wall-clock time that does not exist or
    exists twice that day), each as the local date the copy would have had."""

    created: list[Slot] = dataclasses.field(default_factory=list)
    skipped: list[tuple[date, str]] = dataclasses.field(default_factory=list)


def slot_repeat_weekly(*, slot: Slot, actor: User | None, weeks: int) -> RepeatResult:
    """Copies of a slot (length, price, kinds, audience) at the same wall-clock time in the
    therapist's zone on the same weekday of each of the next `weeks` weeks. A week where the
    time is taken (R11), has passed, or does not exist once on the clock (R22) is skipped
    and named; the others are made. Each copy is made by `slot_create`, under its lock."""
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= MAX_REPEAT_WEEKS:
        raise ValidationError({"weeks": _("Repeat for 1 to %(max)d weeks.") % {"max": MAX_REPEAT_WEEKS}})
    therapist = slot.therapist
    tz = therapist.tz
    local_start = local(slot.start_at, tz).replace(tzinfo=None)
    result = RepeatResult()
    with transaction.atomic():
        for week in range(1, weeks + 1):
            wall_clock = local_start + timedelta(weeks=week)
            try:
                start = local_to_utc(wall_clock, tz)
            except ValidationError:
                result.skipped.append((wall_clock.date(), "dst"))
                continue
            try:
                copy = slot_create(
                    therapist=therapist, actor=actor, start=start, duration_minutes=slot.duration_minutes,
                    price=slot.price, modes=slot.modes, audience=slot.audience,
                )
            except DomainError as e:
                result.skipped.append((wall_clock.date(), e.code))
                continue
            result.created.append(copy)
    return result


def slot_create_repeating(
    *, therapist: Therapist, actor: User | None, weeks: int = 0, **fields
) -> tuple[Slot, RepeatResult | None]:
    """A new slot (`slot_create`'s fields) and, when `weeks` is given, its weekly repeats
    (`slot_repeat_weekly`), as one step for the therapist and so all or nothing: a refused
    slot leaves no repeats, and a repeat that fails other than by skipping a week leaves no
    lone slot behind."""
    with transaction.atomic():
        slot = slot_create(therapist=therapist, actor=actor, **fields)
        repeated = slot_repeat_weekly(slot=slot, actor=actor, weeks=weeks) if weeks else None
    return slot, repeated


def slot_create_many(*, therapist: Therapist, actor: User | None, start: datetime, end: datetime) -> list[Slot]:
    """Back-to-back slots of the default length from `start`, as many as fit before `end`
    (at least one), with the settings' price, kinds and audience (R2): the therapist marked
    a stretch of free time. All or none: if any of them is refused, none is made."""
    start, end = validate_start(start), validate_start(end, "end")
    length = timedelta(minutes=therapist.default_duration_minutes)
    count = max(1, (end - start) // length)
    if count > MAX_SLOTS_AT_ONCE:
        raise ValidationError({"end": _("At most %(max)d slots at once.") % {"max": MAX_SLOTS_AT_ONCE}})
    with transaction.atomic():
        return [
            slot_create(therapist=therapist, actor=actor, start=start + i * length) for i in range(count)
        ]
