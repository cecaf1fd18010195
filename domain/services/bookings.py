"""Booking a slot (R12, R14–R17), cancelling (R18); the client is told of both, her therapist
of what a client did (R30).

Locking: a booking, a cancellation and a slot change all lock the slot's row before anything
else of the booking, in that order, so they are serialised per slot; a booking and a
cancellation then lock the client's row, so one client's bookings are serialised too (the
limit per therapist and leaving a list both count them). On PostgreSQL the partial
unique index `booking_one_live_per_slot` stands behind the check (R16); on SQLite the
IMMEDIATE transaction holds the database's write lock. The confirmation mail is written to
the outbox in the same transaction (R25), so it exists exactly when the booking does."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..errors import Code, DomainError
from ..models import Booking, BookingSeries, Client, ClientLink, Slot, Therapist, User
from ..selectors import booking_facts, client_search, slot_for_booking, stays_on_list
from .audit import audit_write, booking_snapshot
from .emails import (
    email_booking_cancelled,
    email_booking_confirmed,
    email_therapist_booking_cancelled,
    email_therapist_booking_created,
    email_therapist_booking_erased,
)
from .outcomes import late_cancellation_outcome


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
    *, slot: Slot | int, client: Client, mode: str, actor: User | None, booked_by: Therapist | None,
    series: BookingSeries | None = None,
) -> Booking:
    """The booking itself, in one transaction: lock the slot's row (only that row: the
    therapist's stays free for her other slots' bookings), check, insert, and write the list
    link, the audit entry and the confirmation to the outbox. The answer carries what the API
    shows (`therapist.user`, `client`, `first_visit`), so nothing needs reading back.

    `series` (R32, `services.series`): an occurrence of a weekly series; the series writes
    one mail for all its occurrences, so this one writes none."""
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
        booking = Booking(
            slot=slot,
            therapist=slot.therapist,
            client=client,
            start_at=slot.start_at,
            end_at=slot.end_at,
            price=slot.price,
            mode=mode,
            created_by=actor if actor and actor.pk else None,
            by_client=booked_by is None,
            series=series,
        )
        try:
            booking.save(force_insert=True)
        except IntegrityError as e:
            # The unique index caught a booking the check could not see (R16). The whole
            # transaction rolls back with this error, so no savepoint is needed around it.
            raise DomainError(Code.SLOT_TAKEN) from e
        booking._first_visit = not earlier
        if not on_list:
            _link_platform_client(therapist=slot.therapist, client=client, actor=actor)
        audit_write(
            actor=actor, action="booking.created", target=booking, therapist_id=slot.therapist_id,
            slot_id=slot.pk, after=booking_snapshot(booking),
        )
        if series is None:
            email_booking_confirmed(booking=booking)
        if booked_by is None:  # R30: a client booked; her therapist is told (unless she said no)
            email_therapist_booking_created(booking=booking, actor=actor)
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
    *, booking: Booking, actor: User | None, erasing: bool = False, mail_client: bool = True
) -> Booking:
    """R18: either side cancels; the slot is open again and the client is told. A client
    cancelling herself must do so before her therapist's cut-off (`cancellation_closed`).

    `erasing` (R41, `domain.services.erasure`): the client is erasing her account. Her
    cut-off does not hold (the account goes whatever the time), she is not mailed (she
    asked for it, and nothing addressed to her may stay in the outbox), and the therapist's
    mail names no client (`email_therapist_booking_erased`)."""
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
