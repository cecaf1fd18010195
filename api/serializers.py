"""Domain objects as docs/api.md's JSON, times in the therapist's zone (R22)."""

from domain.models import Booking, Client, Slot, Therapist, minutes_between, modes_list
from domain.timezones import local as in_zone


def local(dt, therapist: Therapist):
    return in_zone(dt, therapist.tz) if dt else None


def person_ref(obj) -> dict:
    return {"id": obj.pk, "first_name": obj.first_name, "last_name": obj.last_name}


def entry_out(slot: Slot, therapist: Therapist) -> dict:
    """The therapist's view of a slot: what anyone may see of it (`open_slot_out`) and its booking."""
    booking = slot.live_booking
    return {
        **open_slot_out(slot, therapist),
        "status": "booked" if booking else "available",
        "color": slot.color,
        # R35: open and inside her booking window now; the calendar marks an open slot when not.
        # R38: nor when it overlaps a busy time of her external calendar (`busy_mark`).
        "bookable_by_clients": booking is None and therapist.bookable_by_clients(slot.start_at)
        and not getattr(slot, "busy", False),
        "busy": getattr(slot, "busy", False),
        "booking": booking
        and {
            "id": booking.pk,
            "mode": booking.mode,
            "first_visit": booking.first_visit,
            "client": {
                **person_ref(booking.client),
                "personnummer": booking.client.personnummer or None,
                "personnummer_verified": booking.client.personnummer_verified,
            },
            "video_url": booking.therapist_video_url,
            "outcome": booking.outcome,  # R34: the calendar draws its icon
            "series_id": booking.series_id,  # R32: the calendar marks it ↻
        },
    }


def open_slot_out(slot: Slot, therapist: Therapist) -> dict:
    return open_slot_values_out(
        slot.pk, slot.start_at, slot.end_at, slot.price, slot.video, slot.onsite, slot.audience, therapist.tz
    )


def open_slot_values_out(pk, start_at, end_at, price, video, onsite, audience, tz) -> dict:
    """An open slot from its plain values (`selectors.open_slot_rows` reads no instances)."""
    return {
        "id": pk,
        "start": in_zone(start_at, tz),
        "end": in_zone(end_at, tz),
        "duration_minutes": minutes_between(start_at, end_at),
        "price": price,
        "modes": modes_list(video, onsite),
        "audience": audience,
    }


def client_out(client: Client, source: str) -> dict:
    return {
        "id": client.pk,
        "first_name": client.first_name,
        "last_name": client.last_name,
        "personnummer": client.personnummer or None,
        "personnummer_verified": client.personnummer_verified,
        "email": client.email,
        "phone": client.phone,
        "source": source,
    }


def booking_out(booking: Booking) -> dict:
    therapist, where = booking.therapist, booking.where()
    return {
        "id": booking.pk,
        "slot_id": booking.slot_id,
        "start": local(booking.start_at, therapist),
        "end": local(booking.end_at, therapist),
        "mode": booking.mode,
        "price": booking.price,
        "status": booking.status,
        "first_visit": booking.first_visit,
        "outcome": booking.outcome,  # R34
        "series_id": booking.series_id,  # R32
        "therapist": {"id": therapist.pk, "first_name": therapist.first_name, "last_name": therapist.last_name},
        "client": person_ref(booking.client),
        # Where, as the client is told it (domain/where.py; docs/api.md): her link or the address.
        "video_url": where.video_url,
        "reception_address": where.address,
        "personal_info": where.personal_info,
    }


def time_off_out(time_off, therapist: Therapist) -> dict:
    """R36: [start, end) in her zone."""
    return {
        "id": time_off.pk,
        "start": local(time_off.start_at, therapist),
        "end": local(time_off.end_at, therapist),
        "note": time_off.note,
    }
