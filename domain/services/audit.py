"""The audit trail: every state change writes one entry (who, what, when, before/after)."""

from django.utils import timezone

from ..models import AuditEntry, Booking, Client, Slot, User


def slot_snapshot(slot: Slot) -> dict:
    return {
        "start": slot.start_at.isoformat(),
        "end": slot.end_at.isoformat(),
        "price": slot.price,
        "modes": slot.modes,
        "audience": slot.audience,
    }


def booking_snapshot(booking: Booking) -> dict:
    # The client by id and name only: personnummer never goes into the audit trail (R24).
    return {
        "slot_id": booking.slot_id,
        "client_id": booking.client_id,
        "client": f"{booking.client.first_name} {booking.client.last_name}",
        "start": booking.start_at.isoformat(),
        "end": booking.end_at.isoformat(),
        "mode": booking.mode,
        "price": booking.price,
        "status": booking.status,
        # R34: only once there is one, so the entries written before outcomes existed read the same.
        **({"outcome": booking.outcome} if booking.outcome else {}),
        # R32: only for an occurrence of a weekly series, likewise.
        **({"series_id": booking.series_id} if booking.series_id else {}),
    }


def client_snapshot(client: Client, source: str | None = None) -> dict:
    data = {"first_name": client.first_name, "last_name": client.last_name, "email": client.email}
    if source:
        data["source"] = source
    return data


def audit_entry(
    *,
    actor: User | None,
    action: str,
    target: Slot | Booking | Client | object,
    therapist_id: int | None = None,
    slot_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """An audit entry, not saved yet: `audit_write` saves one, `audit_write_many` several in one
    statement."""
    return AuditEntry(
        at=timezone.now(),
        actor=actor if actor and actor.pk else None,
        action=action,
        target_type=type(target).__name__.lower(),
        target_id=target.pk,
        therapist_id=therapist_id,
        slot_id=slot_id,
        before=before,
        after=after,
    )


def audit_write(**kwargs) -> AuditEntry:
    """Who changed what (`audit_entry`'s arguments), written now."""
    entry = audit_entry(**kwargs)
    entry.save(force_insert=True)
    return entry


def audit_write_many(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Several `audit_entry`s in one statement (a series' slots and bookings)."""
    return AuditEntry.objects.bulk_create(entries)
