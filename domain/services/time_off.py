"""R36: time off ("Ledighet"). Setting it removes her open slots inside it that have not begun;
her bookings inside it stay, listed for her to move or cancel; no slot can be made or moved into
it afterwards (`slots._check_free`: `time_off`). Removing it gives nothing back.

Start and end are dates or instants. A date is a whole day on her wall clock: a start date
begins at its midnight, an end date is inclusive and ends at the next midnight, so "21 dec –
6 jan" holds 6 jan. Stored as [start_at, end_at) in UTC. Time off may overlap other time off:
both simply hold (the forgiving choice; nothing depends on them being apart).

Locking: `time_off_create` locks the open slots inside the stretch first (by id), then the
therapist's row with FOR NO KEY UPDATE. Slots before the therapist is the order a booking and
a slot move take them in (`services.bookings`, `slot_update`), so none of them can wait on us
while we wait on it. NO KEY UPDATE still conflicts with `lock_therapist` (FOR UPDATE), so
every slot creation or move of hers is serialised with this and sees the time off once it is
committed; but it does not conflict with the KEY SHARE that a booking's insert takes on the
therapist row through its foreign key, so a booking that got its slot's lock before us
finishes, and we then see its slot as booked (and list the booking). A slot made between the
first lock and the therapist's (so not in the first set) is locked after; in that instant
only, a move of that very slot could deadlock with us, and PostgreSQL's deadlock detection
would end one of the two with an error, nothing written, answered as 503 database_busy
(docs/architecture.md)."""

import dataclasses
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import MAX_TIME_OFF_DAYS, TIME_OFF_NOTE_MAX_LENGTH, Booking, Slot, Therapist, TimeOff, User
from ..text import has_control_characters
from ..timezones import YEARS, day_start, in_range
from .audit import audit_entry, audit_write, audit_write_many, slot_snapshot
from .listing import listing_refresh


@dataclasses.dataclass
class TimeOffPreview:
    """What setting time off would do: the open slots it removes, the live bookings inside it."""

    start: datetime
    end: datetime
    slots: list[Slot]
    bookings: list[Booking]


def time_off_snapshot(time_off: TimeOff) -> dict:
    return {"start": time_off.start_at.isoformat(), "end": time_off.end_at.isoformat(), "note": time_off.note}


def _instant(value, tz, field: str, *, is_end: bool) -> datetime:
    """A date (whole local day; an end date is inclusive) or an aware datetime, as an instant."""
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            raise ValidationError({field: _("Include a UTC offset, e.g. 2026-12-21T08:00:00+01:00.")})
        if not in_range(value):
            raise ValidationError({field: _("The date must lie between the years %(first)d and %(last)d.") % YEARS})
        return value
    if isinstance(value, date):
        if not in_range(value) or not in_range(value + timedelta(days=1)):
            raise ValidationError({field: _("The date must lie between the years %(first)d and %(last)d.") % YEARS})
        return day_start(value + timedelta(days=1) if is_end else value, tz)
    raise ValidationError({field: _("Give a date or a date and time.")})


def time_off_bounds(*, therapist: Therapist, start, end, note: str = "") -> tuple[datetime, datetime]:
    """R36's checks on the input, as field errors: [start, end) as instants."""
    tz = therapist.tz
    start_at = _instant(start, tz, "start", is_end=False)
    end_at = _instant(end, tz, "end", is_end=True)
    if end_at <= start_at:
        raise ValidationError({"end": _("The end must be after the start.")})
    if end_at - start_at > timedelta(days=MAX_TIME_OFF_DAYS):
        raise ValidationError({"end": _("Time off can be at most %(days)d days long.") % {"days": MAX_TIME_OFF_DAYS}})
    if end_at <= timezone.now():
        raise ValidationError({"end": _("The end has already passed.")})
    if not isinstance(note, str) or len(note) > TIME_OFF_NOTE_MAX_LENGTH:
        raise ValidationError({"note": _("The note can be at most %(max)d characters.") % {"max": TIME_OFF_NOTE_MAX_LENGTH}})
    if has_control_characters(note):  # domain/text.py: PostgreSQL cannot store a NUL, and no text holds one
        raise ValidationError({"note": _("Remove the line breaks and other invisible control characters.")})
    return start_at, end_at


def _open_slots_inside(therapist: Therapist, start_at: datetime, end_at: datetime, now: datetime):
    """Her open slots that share a moment with [start_at, end_at) and have not begun."""
    return Slot.objects.filter(therapist=therapist, start_at__gt=now).overlapping(start_at, end_at).free()


def _bookings_inside(therapist: Therapist, start_at: datetime, end_at: datetime, now: datetime) -> list[Booking]:
    """Her live bookings that share a moment with [start_at, end_at) and have not begun."""
    return list(
        Booking.objects.live().with_first_visit().select_related("client", "therapist__user")
        .filter(therapist=therapist, start_at__gt=now, start_at__lt=end_at, end_at__gt=start_at)
        .order_by("start_at", "pk")
    )


def time_off_preview(therapist: Therapist, start, end, note: str = "") -> TimeOffPreview:
    """What `time_off_create` with these arguments would do now (the same checks, the same reads)."""
    start_at, end_at = time_off_bounds(therapist=therapist, start=start, end=end, note=note)
    now = timezone.now()
    return TimeOffPreview(
        start=start_at, end=end_at,
        slots=list(_open_slots_inside(therapist, start_at, end_at, now).order_by("start_at", "pk")),
        bookings=_bookings_inside(therapist, start_at, end_at, now),
    )


def time_off_create(
    *, therapist: Therapist, start, end, note: str = "", actor: User | None
) -> tuple[TimeOff, int, list[Booking]]:
    """R36: set time off; answers (the time off, how many open slots went, the live bookings
    inside it). All in one transaction; see the module's docstring for the locks."""
    start_at, end_at = time_off_bounds(therapist=therapist, start=start, end=end, note=note)
    note = note.strip()
    with transaction.atomic():
        now = timezone.now()
        candidates = Slot.objects.filter(therapist=therapist, start_at__gt=now).overlapping(start_at, end_at)
        locked = set(candidates.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
        therapist = Therapist.objects.select_for_update(no_key=True).get(pk=therapist.pk)
        late = set(candidates.values_list("pk", flat=True)) - locked
        if late:
            list(Slot.objects.select_for_update(of=("self",)).filter(pk__in=late).order_by("pk").values_list("pk"))
        # After the locks, in statements of their own: they see a booking committed while we waited.
        removed = list(_open_slots_inside(therapist, start_at, end_at, now).order_by("start_at", "pk"))
        time_off = TimeOff.objects.create(
            therapist=therapist, start_at=start_at, end_at=end_at, note=note, created_at=now,
            created_by=actor if actor and actor.pk else None,
        )
        audit_write_many([
            audit_entry(
                actor=actor, action="slot.deleted", target=slot, therapist_id=therapist.pk, slot_id=slot.pk,
                before=slot_snapshot(slot), after={"time_off_id": time_off.pk},
            )
            for slot in removed
        ])
        Slot.objects.filter(pk__in=[slot.pk for slot in removed]).delete()
        audit_write(
            actor=actor, action="time_off.created", target=time_off, therapist_id=therapist.pk,
            after={**time_off_snapshot(time_off), "removed_slots": [slot.pk for slot in removed]},
        )
        bookings = _bookings_inside(therapist, start_at, end_at, now)
        listing_refresh([therapist.pk])  # R9: last, see services.listing
    return time_off, len(removed), bookings


def time_off_delete(*, time_off: TimeOff, actor: User | None) -> None:
    """R36: she works after all. The slots removed when it was set stay removed. Removing
    time off that is already gone (a second press, another tab) does nothing."""
    with transaction.atomic():
        time_off = TimeOff.objects.select_for_update().filter(pk=time_off.pk).first()
        if time_off is None:
            return
        audit_write(
            actor=actor, action="time_off.deleted", target=time_off, therapist_id=time_off.therapist_id,
            before=time_off_snapshot(time_off),
        )
        time_off.delete()


def freed_slot_in_time_off_remove(
    *, slot_id: int, therapist_id: int, start: datetime, end: datetime, actor: User | None
) -> bool:
    """R36: a booked slot inside her time off stays when the time off is set; once its booking
    is cancelled (R18) or moved away (R33) the slot is open inside her time off, so it goes, as
    the open slots inside it went when it was set (audited `slot.deleted`, naming the time off).
    So no open slot ever lies inside time off, and no read needs to ask. Called by
    `booking_cancel` and `booking_move` under the slot's row lock, with the slot's time as the
    booking had it (one query when no time off is there); answers whether it went."""
    time_off = TimeOff.objects.filter(therapist_id=therapist_id).overlapping(start, end).first()
    if time_off is None:
        return False
    slot = Slot.objects.filter(pk=slot_id, start_at__gt=timezone.now()).free().first()
    if slot is None:
        return False
    audit_write(
        actor=actor, action="slot.deleted", target=slot, therapist_id=slot.therapist_id, slot_id=slot.pk,
        before=slot_snapshot(slot), after={"time_off_id": time_off.pk},
    )
    slot.delete()
    return True

