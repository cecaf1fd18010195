"""R37: the wait list. A client joins a therapist's list with the weekdays, the local time of
day and the kinds of meeting that suit her (`waitlist_join`, `waitlist_leave`); when a slot she
could book opens (a new slot, or one freed by a cancellation or a move), she is told by mail.

How the telling works (docs/rules.md, R37):
- The services that open a slot call `slots_opened` inside their transaction. It registers, on
  commit, one task (`domain.tasks.waitlist_announce`) for the slots that transaction opened, so
  nothing is told of a change that rolled back, and slots made together (a range, weekly
  repeats) go to one job.
- The job (`waitlist_announce`) re-reads each slot: it must still exist, have no live booking
  and lie inside the therapist's booking window (R35: not inside her minimum notice). Taken
  again before the job runs: nobody is told.
- Every matching entry is told, in the order they joined (their mails are written in that
  order): weekday and the slot's whole span inside her time range, both in the therapist's
  zone; a kind of meeting she asked for; a slot she may see (R8, R9).
- At most one mail per client a day (the day in Stockholm, `settings.TIME_ZONE`): a client
  already told today is passed over; the mail is a digest of every slot of the job that suits
  her. What was announced to whom is a `WaitlistNotice` per entry and slot, written in the same
  transaction as its outbox mail under the client's row lock, so a re-run of the job, or two
  jobs at once, tell nothing twice.
- Slots made for a series (R32) are booked at once and are not announced."""

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    ACCEPTS_NEW_CLIENTS,
    MODES,
    Client,
    Slot,
    Therapist,
    User,
    WaitlistEntry,
    WaitlistNotice,
    on_list_of,
)
from ..timezones import day_start, local, local_today, zone
from .audit import audit_write
from .emails import email_waitlist_opened

log = logging.getLogger(__name__)


def _clean_weekdays(weekdays) -> list[int]:
    if weekdays is None:
        return []
    if not isinstance(weekdays, (list, tuple, set)) or any(
        isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in weekdays
    ):
        raise ValidationError({"weekdays": _("Choose weekdays from 1 (Monday) to 7 (Sunday).")})
    return sorted(set(weekdays))


def _clean_modes(modes) -> list[str]:
    if modes is None:
        return []
    if not isinstance(modes, (list, tuple, set)) or any(m not in MODES for m in modes):
        raise ValidationError({"modes": _("Choose video, on site or both.")})
    return sorted(set(modes))


def _clean_time(value, field: str) -> dt.time | None:
    if value is None:
        return None
    if not isinstance(value, dt.time) or value.tzinfo is not None:
        raise ValidationError({field: _("Give a time of day, e.g. 09:00.")})
    return value.replace(second=0, microsecond=0)


def therapist_for_waitlist(client: Client, therapist_id) -> Therapist:
    """The therapist whose list `client` may join: one she may see and book (R9: with Client
    Booster), or hers already (on her list, R12). Anybody else's is missing."""
    if isinstance(therapist_id, bool) or not isinstance(therapist_id, int) or not 0 < therapist_id < 2**63:
        raise Therapist.DoesNotExist
    therapist = (
        Therapist.objects.select_related("user").filter(pk=therapist_id)
        .filter(Q(on_list_of(client, therapist_id)) | ACCEPTS_NEW_CLIENTS).first()
    )
    if therapist is None:
        raise Therapist.DoesNotExist
    return therapist


def waitlist_join(
    *, client: Client, therapist: Therapist | int, actor: User | None, weekdays=None, from_time=None,
    to_time=None, modes=None,
) -> tuple[WaitlistEntry, bool]:
    """R37: `client` joins `therapist`'s wait list, or changes what suits her if she is on it
    already (one entry per client and therapist; she keeps her place). Answers the entry and
    whether it is new."""
    therapist = therapist_for_waitlist(client, therapist.pk if isinstance(therapist, Therapist) else therapist)
    weekdays, modes = _clean_weekdays(weekdays), _clean_modes(modes)
    from_time, to_time = _clean_time(from_time, "from_time"), _clean_time(to_time, "to_time")
    if from_time is not None and to_time is not None and to_time <= from_time:
        raise ValidationError({"to_time": _("The end of the time range must be after its start.")})
    fields = {"weekdays": weekdays, "from_time": from_time, "to_time": to_time, "modes": modes}
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()
        entry = WaitlistEntry.objects.filter(client=client, therapist=therapist).first()
        created = entry is None
        if created:
            try:
                with transaction.atomic():
                    entry = WaitlistEntry.objects.create(client=client, therapist=therapist, **fields)
            except IntegrityError:  # joined at the same moment in another tab
                entry = WaitlistEntry.objects.get(client=client, therapist=therapist)
                created = False
        before = None if created else _snapshot(entry)
        if not created:
            for name, value in fields.items():
                setattr(entry, name, value)
            entry.save(update_fields=list(fields))
        if created or before != _snapshot(entry):
            audit_write(
                actor=actor, action="waitlist.joined" if created else "waitlist.changed", target=entry,
                therapist_id=therapist.pk, before=before, after=_snapshot(entry),
            )
    return entry, created


def _snapshot(entry: WaitlistEntry) -> dict:
    return {
        "client": entry.client_id, "weekdays": list(entry.weekdays), "modes": list(entry.modes),
        "from_time": entry.from_time.isoformat("minutes") if entry.from_time else None,
        "to_time": entry.to_time.isoformat("minutes") if entry.to_time else None,
    }


def waitlist_leave(*, client: Client, therapist: Therapist | int, actor: User | None) -> None:
    """R37: she leaves the therapist's wait list; missing if she is not on it."""
    therapist_id = therapist.pk if isinstance(therapist, Therapist) else therapist
    if isinstance(therapist_id, bool) or not isinstance(therapist_id, int) or not 0 < therapist_id < 2**63:
        raise WaitlistEntry.DoesNotExist
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update().filter(client=client, therapist_id=therapist_id).first()
        if entry is None:
            raise WaitlistEntry.DoesNotExist
        audit_write(actor=actor, action="waitlist.left", target=entry, therapist_id=therapist_id,
                    before=_snapshot(entry))
        entry.delete()


def waitlist_count(therapist: Therapist) -> int:
    """R37: how many wait for a time with her (a count only: no names until they book)."""
    return WaitlistEntry.objects.filter(therapist=therapist).count()


# Telling -----------------------------------------------------------------------------------


def slots_opened(slot_ids) -> None:
    """A service opened these slots (made them, or freed them) in the current transaction:
    once it commits, one job tells the wait list (`waitlist_announce`). Several calls in one
    transaction add to the one callback it has waiting, so slots made together are one job
    (and one digest mail). Should a savepoint inside roll back after adding to it, its ids
    stay: harmless, the job re-reads every slot and tells only of one that is open."""
    ids = [pk for pk in slot_ids if pk]
    if not ids:
        return
    conn = transaction.get_connection()
    if conn.in_atomic_block:
        for _sids, func, _robust in conn.run_on_commit:
            if isinstance(func, _Announce):
                func.slot_ids.update(ids)
                return
    transaction.on_commit(_Announce(ids))


class _Announce:
    """The on-commit callback: enqueue one job for the slots gathered."""

    def __init__(self, slot_ids):
        self.slot_ids = set(slot_ids)

    def __call__(self) -> None:
        from ..tasks import waitlist_announce

        # Most therapists have nobody waiting: one read instead of a job for the worker.
        therapists = Slot.objects.filter(pk__in=self.slot_ids).values("therapist_id")
        if WaitlistEntry.objects.filter(therapist_id__in=therapists).exists():
            waitlist_announce.enqueue(sorted(self.slot_ids))


def matches(entry: WaitlistEntry, slot: Slot) -> bool:
    """Whether `slot` suits `entry`: weekday, the slot's whole span inside the time range (both
    local to the therapist), and a kind of meeting she asked for."""
    tz = slot.therapist.tz
    start, end = local(slot.start_at, tz), local(slot.end_at, tz)
    if entry.weekdays and start.isoweekday() not in entry.weekdays:
        return False
    if entry.from_time is not None and start.time() < entry.from_time:
        return False
    if entry.to_time is not None and (end.date() != start.date() or end.time() > entry.to_time):
        return False
    return not entry.modes or any(slot.offers(mode) for mode in entry.modes)


def _open(slot_ids, now) -> list[Slot]:
    """The slots still open now: existing, without a live booking, not busy in her other
    calendar (R38), inside the booking window."""
    slots = Slot.objects.free().not_busy().select_related("therapist__user").filter(pk__in=slot_ids, start_at__gt=now)
    return [s for s in slots.order_by("start_at") if s.therapist.bookable_by_clients(s.start_at, now)]


def _today_start(now) -> dt.datetime:
    tz = zone(settings.TIME_ZONE)
    return day_start(local_today(tz, now), tz)


def waitlist_announce(*, slot_ids) -> int:
    """R37's job: tell the wait list of these slots, once (module docstring). Answers how many
    mails it wrote."""
    now = timezone.now()
    slots = _open(slot_ids, now)
    if not slots:
        return 0
    by_therapist: dict[int, list[Slot]] = {}
    for slot in slots:
        by_therapist.setdefault(slot.therapist_id, []).append(slot)
    written = 0
    entries = WaitlistEntry.objects.filter(therapist_id__in=by_therapist).select_related("client").order_by(
        "created_at", "id"
    )
    for entry in entries:
        if entry.client.user_id is None or entry.client.erased_at is not None:
            continue
        suiting = [s for s in by_therapist[entry.therapist_id] if matches(entry, s)]
        if suiting and _tell(entry, [s.pk for s in suiting]):
            written += 1
    return written


def _tell(entry: WaitlistEntry, slot_ids: list[int]) -> bool:
    """One mail to the entry's client about the slots that suit her and that she may see, if
    she has had none today; with its notices, in one transaction under her row's lock."""
    with transaction.atomic():
        client = Client.objects.select_for_update().filter(pk=entry.client_id).first()
        if client is None:
            return False
        now = timezone.now()
        if WaitlistNotice.objects.filter(client=client, told_at__gte=_today_start(now)).exists():
            return False
        told = set(WaitlistNotice.objects.filter(entry=entry, slot_id__in=slot_ids).values_list("slot_id", flat=True))
        # Read again under the lock: still open (R14, R16), hers to see (R8, R9), in the window.
        slots = [
            s for s in _open([pk for pk in slot_ids if pk not in told], now)
            if Slot.objects.open_to(client).filter(pk=s.pk).exists()
        ]
        if not slots:
            return False
        mail = email_waitlist_opened(client=client, therapist=slots[0].therapist, slots=slots)
        WaitlistNotice.objects.bulk_create([
            WaitlistNotice(entry=entry, client=client, slot_id=s.pk, mail=mail, told_at=now) for s in slots
        ])
    return True
