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


def audit_write(
    *,
    actor: User | None,
    action: str,
    target: Slot | Booking | Client | object,
    therapist_id: int | None = None,
    slot_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
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
