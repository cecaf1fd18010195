"""R34: what happened at a visit. Once it has begun the therapist records it: attended,
no-show or late cancellation (`Outcome`); she may change it later, every change audited. A
booking cancelled after the client's cut-off through the therapist is a late cancellation on
its own (`booking_cancel`, `late_cancellation_outcome`)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import Code, DomainError
from ..models import Booking, Outcome, User
from .audit import audit_write, booking_snapshot


def booking_outcome_set(*, booking: Booking, outcome: str | None, actor: User | None) -> Booking:
    """R34: record (or change) a visit's outcome once its start has passed (`visit_not_started`
    before). A cancelled booking is not a visit: its outcome is `booking_cancel`'s (a late
    cancellation, or none when cancelled in time) and is not changed here (`already_cancelled`),
    but for one thing: `None` withdraws a late cancellation (she cancelled late for her own
    reasons, not the client's). `None` on a visit clears what was recorded. The check constraint
    `booking_outcome_valid` holds the same in the database."""
    if outcome is not None and outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose attended, no-show or late cancellation.")})
    with transaction.atomic():
        # The booking's row alone (`of`): client erasure locks the client, then her bookings.
        booking = Booking.objects.select_for_update(of=("self",)).select_related("client").get(pk=booking.pk)
        now = timezone.now()
        if not booking.is_confirmed and outcome is not None and outcome != booking.outcome:
            raise DomainError(Code.ALREADY_CANCELLED)
        if booking.is_confirmed and booking.start_at > now:
            raise DomainError(Code.VISIT_NOT_STARTED)
        if booking.outcome == outcome:
            return booking
        before = booking_snapshot(booking)
        booking.outcome, booking.outcome_at, booking.outcome_by = outcome, now, actor if actor and actor.pk else None
        booking.save(update_fields=["outcome", "outcome_at", "outcome_by"])
        audit_write(
            actor=actor, action="booking.outcome_set", target=booking, therapist_id=booking.therapist_id,
            slot_id=booking.slot_id, before=before, after=booking_snapshot(booking),
        )
    return booking


def late_cancellation_outcome(booking: Booking, *, actor: User | None, at) -> str | None:
    """R34: the outcome a cancellation gives. Her therapist cancelling after the client's cut-off
    (`Booking.client_may_cancel`) does it for the client, late: a late cancellation."""
    by_client = actor is not None and actor.pk and actor.pk == booking.client.user_id
    if actor is None or not actor.pk or by_client or booking.client_may_cancel(at):
        return None
    return Outcome.LATE_CANCELLED
