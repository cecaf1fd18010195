"""The reminder a day before each visit (issue 4), queued by a periodic sweep.

Several workers may sweep at once: each booking is claimed with a conditional UPDATE on
`reminder_queued_at IS NULL`, in the same transaction as its outbox row, so the reminder is
written exactly once (healthchecks' sendalerts claims its checks the same way)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import Booking
from .emails import email_booking_reminder

REMINDER_BEFORE = timedelta(hours=24)
SWEEP_BATCH = 500


def booking_reminders_queue(*, now: datetime | None = None) -> int:
    """Write the reminder of every confirmed booking that starts within the next 24 hours and
    has had none; answers how many were written. A booking made less than 24 hours before its
    start gets none: its confirmation has just gone out."""
    now = now or timezone.now()
    due = (
        Booking.objects.live()
        .filter(
            reminder_queued_at__isnull=True,
            start_at__gt=now,
            start_at__lte=now + REMINDER_BEFORE,
            created_at__lt=F("start_at") - REMINDER_BEFORE,
        )
        .order_by("start_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    written = 0
    for booking_id in list(due):
        with transaction.atomic():
            claimed = Booking.objects.live().filter(
                pk=booking_id, reminder_queued_at__isnull=True
            ).update(reminder_queued_at=now)
            if not claimed:
                continue  # another worker took it, or it was cancelled meanwhile
            booking = Booking.objects.select_related("client", "therapist__user").get(pk=booking_id)
            email_booking_reminder(booking=booking)
            written += 1
    return written
