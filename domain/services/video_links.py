"""R29: renewing a party's video link."""

from django.db import transaction

from ..errors import Code, DomainError
from ..models import VIDEO, Booking, User, new_token
from ..video import TOKEN_FIELDS
from .audit import audit_write


def booking_video_link_renew(*, booking: Booking, party: str, actor: User | None) -> Booking:
    """R29: a new link for one party of a live video booking. The old key is overwritten, so
    the old link answers 404 from this commit on, whoever holds it (a forwarded mail, a
    shared screen); the other party's link and the room are untouched, so nobody else needs
    telling. Locks only the booking's row: two renewals at once give two answers in turn,
    and the last is the link that works. The audit entry names the party, never a key."""
    field = TOKEN_FIELDS[party]
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if not booking.is_confirmed:
            raise DomainError(Code.ALREADY_CANCELLED)
        if booking.mode != VIDEO:
            raise DomainError(Code.NOT_A_VIDEO_BOOKING)
        setattr(booking, field, new_token())
        booking.save(update_fields=[field])
        audit_write(
            actor=actor, action="booking.video_link_renewed", target=booking, therapist_id=booking.therapist_id,
            slot_id=booking.slot_id, after={"party": party},
        )
    return booking
