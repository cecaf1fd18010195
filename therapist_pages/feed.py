"""The therapist's private iCalendar feed (subscribed from her phone): her slots from a month
back to a year ahead. A booked slot says the client's first name and initial and the kind,
no more: a subscribed calendar is copied to the phone maker's servers, so the feed carries
the least that lets her recognise the visit (no personnummer, no contact details); a video
booking carries her own link to the call (R29), never the client's."""

from datetime import UTC

from django.utils import timezone
from django.utils.translation import ngettext
from icalendar import Calendar, Event

from domain.links import links
from domain.models import MODE_IN_SENTENCE, VIDEO, Therapist
from domain.timezones import local_today

from . import colours


def summary(slot) -> str:
    """The colour's label (colours.py), and a booking's client and kind after it."""
    label = colours.of(slot).label
    booking = slot.live_booking
    if booking is None:
        return str(label)
    client = booking.client
    name = f"{client.first_name} {client.last_name[:1]}.".strip()
    kind = MODE_IN_SENTENCE[booking.mode]
    return f"{label}: {name} ({kind})"


def calendar_feed(therapist: Therapist, slots) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Tidbok//tidbok.se//")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Tidbok – {therapist.full_name}")
    # No X-WR-TIMEZONE: every time below is in UTC, and some readers apply that (non-standard)
    # property to them anyway and shift events in the hour repeated in autumn.
    stamp = timezone.now()
    for slot in slots:
        event = Event()
        event.add("uid", f"slot-{slot.pk}@tidbok")
        event.add("dtstamp", stamp)
        # In UTC, as the booking mails: calendar programs need no zone definitions, and the two
        # 02:30s of the autumn night are two different instants.
        event.add("dtstart", slot.start_at.astimezone(UTC))
        event.add("dtend", slot.end_at.astimezone(UTC))
        event.add("last-modified", slot.updated_at.astimezone(UTC))
        event.add("summary", summary(slot))
        event.add("transp", "OPAQUE" if slot.live_booking else "TRANSPARENT")
        booking = slot.live_booking
        if booking is not None and booking.mode == VIDEO:
            # R29: her own link to the call (never the client's: renewing hers must end it).
            event.add("url", booking.therapist_video_url)
            minutes = booking.video_opens_minutes
            event.add("description", ngettext(
                "Your link to the video call (it opens %(minutes)d minute before the start): %(url)s",
                "Your link to the video call (it opens %(minutes)d minutes before the start): %(url)s", minutes,
            ) % {"minutes": minutes, "url": booking.therapist_video_url})
        else:
            event.add("url", links().therapist_calendar(local_today(therapist.tz, slot.start_at)))
        cal.add_component(event)
    return cal.to_ical()
