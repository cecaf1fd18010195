"""Booking a slot (R12, R14–R17), cancelling (R18), a client moving her booking (R33); the
client is told of each, her therapist of what a client did (R30).

Locking: a booking, a cancellation and a slot change all lock the slot's row before anything
else of the booking, in that order, so they are serialised per slot; a booking and a
cancellation then lock the client's row, so one client's bookings are serialised too (the
limit per therapist and leaving a list both count them). On PostgreSQL the partial
unique index `booking_one_live_per_slot` stands behind the check (R16); on SQLite the
IMMEDIATE transaction holds the database's write lock. A move (`booking_move`) locks both
its slots' rows first, in ascending id (two moves between the same two slots, either way,
cannot hold one each), then the client's row, then the booking's: the same order. The confirmation mail is written to
the outbox in the same transaction (R25), so it exists exactly when the booking does."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import Code, DomainError
from ..models import MODES, Booking, BookingSeries, Client, ClientLink, Slot, Therapist, User
from ..selectors import booking_facts, client_search, slot_for_booking, stays_on_list
from .audit import audit_entry, audit_write, audit_write_many, booking_snapshot
from .busy import slot_is_busy
from .emails import (
    email_booking_cancelled,
    email_booking_confirmed,
    email_booking_moved,
    email_therapist_booking_cancelled,
    email_therapist_booking_created,
    email_therapist_booking_erased,
    email_therapist_booking_moved,
)
from .listing import listing_refresh
from .outcomes import late_cancellation_outcome
from .reminders import REMINDER_BEFORE
from .time_off import freed_slot_in_time_off_remove
from .waitlist import slots_opened


def booking_create_by_therapist(
    *, therapist: Therapist, slot: Slot | int, client: Client | int, mode: str, actor: User | None
) -> Booking:
    """R12–R14: the therapist books a client from her list into one of her slots (the slot or
    its id; another therapist's slot is missing). The client, or her id as a page or the API
    got it, is looked up through the therapist's own list (`selectors.client_search`), the one
    path for both: a client not on it, or no client at all, is `client_not_on_list`, so
    nothing is learnt of other people; a slot not hers is missing first (Slot.DoesNotExist)."""
    if not isinstance(client, Client):
        listed = client_search(therapist).filter(pk=client).first()
        if listed is None:
            slot_id = slot.pk if isinstance(slot, Slot) else slot
            if not Slot.objects.filter(pk=slot_id, therapist=therapist).exists():
                raise Slot.DoesNotExist
            raise DomainError(Code.CLIENT_NOT_ON_LIST)
        client = listed
    return _booking_create(slot=slot, client=client, mode=mode, actor=actor, booked_by=therapist)


def booking_create_by_client(*, client: Client, slot: Slot | int, mode: str, actor: User | None) -> Booking:
    """R17: a client books an open slot she may see (R7–R9), inside the therapist's booking
    window (R35: else `outside_booking_window`). A slot she may not see answers as missing, so
    nothing is learnt of it. A client new to the therapist joins her list."""
    return _booking_create(slot=slot, client=client, mode=mode, actor=actor, booked_by=None)


def _booking_create(
    *, slot: Slot | int, client: Client, mode: str, actor: User | None, booked_by: Therapist | None
) -> Booking:
    """The booking itself, in one transaction: lock the slot's row (only that row: the
    therapist's stays free for her other slots' bookings), check, insert, and write the list
    link, the audit entry and the confirmation to the outbox. The answer carries what the API
    shows (`therapist.user`, `client`, `first_visit`), so nothing needs reading back."""
    slot_id = slot.pk if isinstance(slot, Slot) else slot
    with transaction.atomic():
        slot, on_list, open_to_client = slot_for_booking(slot_id, client)
        if booked_by is not None and slot.therapist_id != booked_by.pk:
            raise Slot.DoesNotExist
        if booked_by is not None and not on_list:
            raise DomainError(Code.CLIENT_NOT_ON_LIST)
        if booked_by is None and not open_to_client:
            raise Slot.DoesNotExist
        now = timezone.now()
        if slot.start_at <= now:
            raise DomainError(Code.SLOT_IN_PAST)
        # R35: a client books only inside her therapist's booking window; the therapist herself
        # may book any slot.
        if booked_by is None and not slot.therapist.bookable_by_clients(slot.start_at, now):
            raise DomainError(Code.OUTSIDE_BOOKING_WINDOW)
        # R38: a client cannot book a time her therapist's external calendar says she is busy;
        # the therapist herself may.
        if booked_by is None and slot_is_busy(slot):
            raise DomainError(Code.SLOT_BUSY)
        # After the lock, in a statement of its own: it sees a booking committed while we waited.
        taken, earlier, own_future = booking_facts(slot, client, now)
        if taken:
            raise DomainError(Code.SLOT_TAKEN)
        if not slot.offers(mode):
            raise DomainError(Code.MODE_NOT_OFFERED)
        # Hoarding: what she books herself with one therapist is limited; her therapist's
        # bookings of her are not.
        if booked_by is None and own_future >= settings.MAX_OPEN_BOOKINGS_PER_THERAPIST:
            raise DomainError(Code.BOOKING_LIMIT)
        booking = _new_booking(slot=slot, client=client, mode=mode, actor=actor, by_client=booked_by is None)
        try:
            booking.save(force_insert=True)
        except IntegrityError as e:
            # The unique index caught a booking the check could not see (R16). The whole
            # transaction rolls back with this error, so no savepoint is needed around it.
            raise DomainError(Code.SLOT_TAKEN) from e
        booking._first_visit = not earlier
        if not on_list:
            _link_platform_client(therapist=slot.therapist, client=client, actor=actor)
        audit_write(**_created_entry(booking, actor))
        email_booking_confirmed(booking=booking)
        if booked_by is None:  # R30: a client booked; her therapist is told (unless she said no)
            email_therapist_booking_created(booking=booking, actor=actor)
        listing_refresh([slot.therapist_id])  # R9: last, see services.listing
    return booking


def _new_booking(
    *, slot: Slot, client: Client, mode: str, actor: User | None, by_client: bool,
    series: BookingSeries | None = None,
) -> Booking:
    """A booking of `slot` as it stands (its time and price), not saved yet."""
    return Booking(
        slot=slot, therapist=slot.therapist, client=client, start_at=slot.start_at, end_at=slot.end_at,
        price=slot.price, mode=mode, created_by=actor if actor and actor.pk else None, by_client=by_client,
        series=series,
    )


def _created_entry(booking: Booking, actor: User | None) -> dict:
    return dict(
        actor=actor, action="booking.created", target=booking, therapist_id=booking.therapist_id,
        slot_id=booking.slot_id, after=booking_snapshot(booking),
    )


def bookings_create_in_series(
    *, series: BookingSeries, slots: list[Slot], client: Client, mode: str, actor: User | None
) -> list[Booking]:
    """R32: the occurrences of a weekly series, the therapist's bookings of `client` (on her
    list) into `slots`, in a few statements whatever their number: one insert, one audit
    insert, one read for R15. For `services.series` only, which holds the slots' and the
    client's locks and has checked under them what `_booking_create` checks one by one (each
    slot hers, free, not begun, offering `mode`); the unique index `booking_one_live_per_slot`
    stands behind (R16: `slot_taken`). No mail: the series writes one for all."""
    bookings = [
        _new_booking(slot=slot, client=client, mode=mode, actor=actor, by_client=False, series=series)
        for slot in sorted(slots, key=lambda slot: slot.start_at)
    ]
    if not bookings:
        return []
    try:
        with transaction.atomic():
            Booking.objects.bulk_create(bookings)
    except IntegrityError as e:
        raise DomainError(Code.SLOT_TAKEN) from e
    # R15: only the first can be a first visit; every later one has the first before it.
    first_visit = not Booking.objects.earlier_than(client, bookings[0].start_at).exists()
    for i, booking in enumerate(bookings):
        booking._first_visit = first_visit and i == 0
    audit_write_many([audit_entry(**_created_entry(booking, actor)) for booking in bookings])
    return bookings


class _SlotChanged(Exception):
    """The booking was moved by someone else between reading its slot and locking it."""


MOVE_ATTEMPTS = 3


def booking_move(*, booking: Booking, slot: Slot | int, actor: User | None, mode: str | None = None) -> Booking:
    """R33: the client moves her own booking to another open slot of the same therapist (the
    slot or its id), before her cut-off, in one step: the one booking row is updated (slot,
    time, price, kind, a raised SEQUENCE), so at no moment does she hold two bookings or none,
    and the calendar event (same UID) is replaced by the new time. `mode` is the kind of
    meeting at the new slot, the booking's own unless given. Only the booking's client may
    (a therapist moves a booking by moving its slot, `slot_update`); for anyone else the
    booking is missing, as is a target she may not see or another therapist's slot."""
    target_id = slot.pk if isinstance(slot, Slot) else slot
    if isinstance(target_id, bool) or not isinstance(target_id, int):
        raise ValidationError({"slot_id": _("Choose a time.")})
    if mode is not None and mode not in MODES:
        raise ValidationError({"mode": _("Choose video or on site.")})
    for _attempt in range(MOVE_ATTEMPTS):
        # Outside the transaction: the slot it is on now, to lock it with the target. If a move
        # of hers in another tab changed it meanwhile, the locks are let go and taken again.
        row = Booking.objects.filter(pk=booking.pk).values_list("slot_id", "client_id").first()
        if row is None:
            raise Booking.DoesNotExist
        try:
            return _booking_move(booking_id=booking.pk, seen=row, target_id=target_id, actor=actor, mode=mode)
        except _SlotChanged:
            continue
    raise DomainError(Code.SLOT_TAKEN)  # moved under her again and again: as if the time went


def _booking_move(
    *, booking_id: int, seen: tuple[int | None, int], target_id: int, actor: User | None, mode: str | None
) -> Booking:
    old_slot_id, client_id = seen
    with transaction.atomic():
        # The slots first, in ascending id, before anything else (the module's locking order);
        # an id the column cannot hold is missing, as in `slot_for_booking`.
        if not 0 < target_id < 2**63:
            raise Slot.DoesNotExist
        for pk in sorted({target_id, *([old_slot_id] if old_slot_id else [])}):
            Slot.objects.select_for_update().filter(pk=pk).first()
        client = Client.objects.select_for_update().filter(pk=client_id).first()
        booking = (
            Booking.objects.select_for_update(of=("self",)).select_related("client", "therapist__user")
            .filter(pk=booking_id).first()
        )
        if booking is None or client is None or actor is None or not actor.pk or actor.pk != client.user_id:
            raise Booking.DoesNotExist
        if (booking.slot_id, booking.client_id) != seen:
            raise _SlotChanged
        # Her booking first: only a live, future booking before her cut-off moves.
        if not booking.is_confirmed:
            raise DomainError(Code.ALREADY_CANCELLED)
        now = timezone.now()
        if booking.start_at <= now:
            raise DomainError(Code.SLOT_IN_PAST)
        if not booking.client_may_cancel(now):
            raise DomainError(Code.CANCELLATION_CLOSED)
        # Then the target: a slot of the same therapist she may see (R8, R9), else missing.
        target = (
            Slot.objects.open_to(client).select_related("therapist__user")
            .filter(pk=target_id, therapist_id=booking.therapist_id).first()
        )
        if target is None:
            raise Slot.DoesNotExist
        if target.pk == booking.slot_id:
            raise ValidationError({"slot_id": _("Your booking is already at that time. Choose another time.")})
        if target.start_at <= now:
            raise DomainError(Code.SLOT_IN_PAST)
        if not target.therapist.bookable_by_clients(target.start_at, now):  # R35
            raise DomainError(Code.OUTSIDE_BOOKING_WINDOW)
        if slot_is_busy(target):  # R38
            raise DomainError(Code.SLOT_BUSY)
        # After the lock: it sees a booking of the target committed while we waited (R16).
        if Booking.objects.live().filter(slot=target).exists():
            raise DomainError(Code.SLOT_TAKEN)
        mode = mode or booking.mode
        if not target.offers(mode):
            raise DomainError(Code.MODE_NOT_OFFERED)

        before = booking_snapshot(booking)
        old_start, old_end = booking.start_at, booking.end_at
        booking.slot, booking.start_at, booking.end_at = target, target.start_at, target.end_at
        booking.price, booking.mode = target.price, mode
        # R31: a new version of the one calendar event (same UID).
        booking.sequence += 1
        # The 24-hour reminder is for the new time; a move into the coming day needs none (as
        # `slots._booking_follow_slot`): the mail about the move has just told her.
        far = target.start_at - now > REMINDER_BEFORE
        booking.reminder_queued_at = None if far else (booking.reminder_queued_at or now)
        try:
            booking.save(update_fields=["slot", "start_at", "end_at", "price", "mode", "sequence",
                                        "reminder_queued_at"])
        except IntegrityError as e:
            # `booking_one_live_per_slot` caught a booking the check could not see (R16); the
            # transaction rolls back whole and her booking stays where it was.
            raise DomainError(Code.SLOT_TAKEN) from e
        audit_write(
            actor=actor, action="booking.moved", target=booking, therapist_id=booking.therapist_id,
            slot_id=target.pk, before=before, after=booking_snapshot(booking),
        )
        email_booking_moved(booking=booking, old_start=old_start, old_end=old_end)
        email_therapist_booking_moved(booking=booking, actor=actor, old_start=old_start, old_end=old_end)
        if old_slot_id and not freed_slot_in_time_off_remove(
            slot_id=old_slot_id, therapist_id=booking.therapist_id, start=old_start, end=old_end, actor=actor
        ):
            slots_opened([old_slot_id])  # R37: her old time is free for the wait list
        listing_refresh([booking.therapist_id])  # R9: last, see services.listing
    return booking


def _link_platform_client(*, therapist: Therapist, client: Client, actor: User | None) -> None:
    """R12, R17: a client who books through the platform joins the therapist's list. Called
    when she was not on it a moment ago; another booking of hers may have linked her since."""
    try:
        with transaction.atomic():
            link = ClientLink.objects.create(therapist=therapist, client=client, source=ClientLink.Source.PLATFORM)
    except IntegrityError:
        return
    audit_write(
        actor=actor, action="client.linked", target=client, therapist_id=therapist.pk,
        after={"source": link.source},
    )


def booking_cancel(
    *, booking: Booking, actor: User | None, erasing: bool = False, mail_client: bool = True,
    refresh_listing: bool = True,
) -> Booking:
    """R18: either side cancels; the slot is open again and the client is told. A client
    cancelling herself must do so before her therapist's cut-off (`cancellation_closed`).

    `erasing` (R41, `domain.services.erasure`): the client is erasing her account. Her
    cut-off does not hold (the account goes whatever the time), she is not mailed (she
    asked for it, and nothing addressed to her may stay in the outbox), and the therapist's
    mail names no client (`email_therapist_booking_erased`).

    `refresh_listing` False: the caller cancels several and refreshes the listing (R9) once,
    last in its transaction (`services.listing`)."""
    with transaction.atomic():
        if booking.slot_id:
            Slot.objects.select_for_update().filter(pk=booking.slot_id).first()
        Client.objects.select_for_update().filter(pk=booking.client_id).first()
        booking = Booking.objects.select_for_update().select_related("client", "therapist__user").get(pk=booking.pk)
        if not booking.is_confirmed:
            raise DomainError(Code.ALREADY_CANCELLED)
        now = timezone.now()
        if booking.start_at <= now:
            raise DomainError(Code.SLOT_IN_PAST)
        # The cut-off binds the client only; her therapist may still cancel (and tells her).
        if (not erasing and actor is not None and actor.pk and actor.pk == booking.client.user_id
                and not booking.client_may_cancel(now)):
            raise DomainError(Code.CANCELLATION_CLOSED)
        before = booking_snapshot(booking)
        # R34: the therapist cancelling after the client's cut-off is a late cancellation.
        late = None if erasing else late_cancellation_outcome(booking, actor=actor, at=now)
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = now
        booking.cancelled_by = actor if actor and actor.pk else None
        # R31: a cancellation is a new version of the calendar event, as a move is.
        booking.sequence += 1
        fields = ["status", "cancelled_at", "cancelled_by", "sequence"]
        if late:
            booking.outcome, booking.outcome_at, booking.outcome_by = late, now, actor
            fields += ["outcome", "outcome_at", "outcome_by"]
        booking.save(update_fields=fields)
        audit_write(
            actor=actor, action="booking.cancelled", target=booking, therapist_id=booking.therapist_id,
            slot_id=booking.slot_id, before=before, after=booking_snapshot(booking),
        )
        if erasing:
            email_therapist_booking_erased(booking=booking, actor=actor)
        else:
            if mail_client:
                email_booking_cancelled(booking=booking)
            email_therapist_booking_cancelled(booking=booking, actor=actor)
        _unlink_platform_client(booking=booking, actor=actor)
        if booking.slot_id and freed_slot_in_time_off_remove(
            slot_id=booking.slot_id, therapist_id=booking.therapist_id, start=booking.start_at, end=booking.end_at,
            actor=actor,
        ):
            booking.slot_id = None  # the cancelled booking keeps its own time; its slot is gone
        elif booking.slot_id:
            slots_opened([booking.slot_id])  # R37: the freed slot, for the wait list
        if refresh_listing:
            listing_refresh([booking.therapist_id])  # R9: last, see services.listing
    return booking


def _unlink_platform_client(*, booking: Booking, actor: User | None) -> None:
    """R12 with R26: without a confirmed booking left there, a client who came through the
    platform leaves the therapist's list (an own client stays: her therapist put her there).
    Runs under the client's row lock, so a booking of hers cannot link her meanwhile."""
    if stays_on_list(booking.therapist_id, booking.client):
        return
    removed = ClientLink.objects.filter(
        therapist_id=booking.therapist_id, client_id=booking.client_id, source=ClientLink.Source.PLATFORM
    ).delete()[0]
    if removed:
        audit_write(actor=actor, action="client.unlinked", target=booking.client, therapist_id=booking.therapist_id,
                    before={"source": ClientLink.Source.PLATFORM})
