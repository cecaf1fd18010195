"""R31: calendar invitations as iMIP (RFC 6047) carrying iTIP (RFC 5546), read from the exact
bytes a real SMTP server received, by two parsers we did not write: Mozilla's ical.js
(Thunderbird's) and Python's icalendar.

One booking's life: Erik books Anna's video slot (both get a REQUEST), Anna moves it (Erik
gets a REQUEST with a higher SEQUENCE; she did it herself, so she gets nothing), Erik cancels
(both get a CANCEL, higher again). Time is frozen on Monday 2027-01-11 08:00 in Stockholm."""

import email
import email.policy
from datetime import UTC

import pytest
from icalendar import Calendar

from conftest import api_for, run_worker
from domain.models import Booking
from domain.services.emails import email_therapist_booking_moved
from domain.tests.icaljs import read_ical

pytestmark = pytest.mark.django_db(transaction=True)

CONTACT = "mottagning@example.se"


def raw(envelope) -> bytes:
    return envelope.original_content or envelope.content


def parsed(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(raw(envelope), policy=email.policy.default)


def invitation(message) -> tuple[str, str]:
    """The method parameter of the one text/calendar part, and the part's text as sent."""
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_content_charset() == "utf-8"
    return part.get_param("method"), part.get_payload(decode=True).decode("utf-8")


def assert_seven_bit(envelope) -> None:
    """No part in 8 bits: the bytes on the wire are ASCII, and no part says 8bit or binary."""
    data = raw(envelope)
    assert all(byte < 128 for byte in data), "8-bit bytes on the wire"
    for part in parsed(envelope).walk():
        assert part.get("Content-Transfer-Encoding", "7bit").lower() in {"7bit", "quoted-printable", "base64"}
        if not part.is_multipart():
            assert part.get("Content-Transfer-Encoding", "").lower() in {"quoted-printable", "base64"}, (
                part.get_content_type()
            )


def both_parsers(text: str) -> tuple[dict, dict, object]:
    """ical.js's reading, its one event, and icalendar's one event, after checking that the
    two agree on what a calendar program acts on."""
    mozilla = read_ical(text)
    [event] = mozilla["events"]
    calendar = Calendar.from_ical(text)
    [python] = calendar.walk("VEVENT")
    assert str(calendar["method"]) == mozilla["method"]
    assert str(python["uid"]) == event["uid"]
    assert int(python["sequence"]) == event["sequence"]
    assert python.decoded("dtstart").astimezone(UTC).isoformat() == event["start"]["utc"].replace(".000Z", "+00:00")
    assert str(python["organizer"]) == event["organizer"]["value"]
    assert [str(a) for a in [python["attendee"]]] == [a["value"] for a in event["attendees"]]
    return mozilla, event, python


def test_both_parties_get_invitations_that_a_calendar_program_updates_and_cancels(now, smtp, anna, erik):
    anna_api, erik_api = api_for(anna.user), api_for(erik.user)
    assert anna_api.patch("/therapist/settings", {"contact_email": CONTACT}).status_code == 200
    slot = anna_api.post("/therapist/slots", {"start": "2027-01-12T09:00:00+01:00", "modes": ["video"]}).json()
    booked = erik_api.post(f"/slots/{slot['id']}/book", {"mode": "video"})
    assert booked.status_code == 201, booked.content
    booking = Booking.objects.get(pk=booked.json()["id"])
    run_worker()
    moved = anna_api.patch(f"/therapist/slots/{slot['id']}", {"start": "2027-01-13T10:00:00+01:00"})
    assert moved.status_code == 200, moved.content
    run_worker()
    cancelled = erik_api.post(f"/bookings/{booking.pk}/cancel")
    assert cancelled.status_code == 200, cancelled.content
    run_worker()

    received = [(e.rcpt_tos, parsed(e)["Subject"], *invitation(parsed(e)), e) for e in smtp.envelopes]
    assert [(to, method) for to, _s, method, _t, _e in received] == [
        ([erik.email], "REQUEST"), ([anna.user.email], "REQUEST"),  # the booking: both
        ([erik.email], "REQUEST"),  # her own move: the client only
        ([erik.email], "CANCEL"), ([anna.user.email], "CANCEL"),  # the cancellation: both
    ]
    expected = [  # (sequence, start, status) of each mail's event, in the order received
        (0, "2027-01-12T08:00:00.000Z", "CONFIRMED"), (0, "2027-01-12T08:00:00.000Z", "CONFIRMED"),
        (1, "2027-01-13T09:00:00.000Z", "CONFIRMED"),
        (2, "2027-01-13T09:00:00.000Z", "CANCELLED"), (2, "2027-01-13T09:00:00.000Z", "CANCELLED"),
    ]
    for (to, _subject, method, text, envelope), (sequence, start, status) in zip(received, expected, strict=True):
        assert_seven_bit(envelope)
        assert f"Content-Type: text/calendar; charset=utf-8; method={method}\r\n".encode() in raw(envelope)
        mozilla, event, python = both_parsers(text)
        assert mozilla["method"] == method  # the Content-Type parameter is the body's METHOD
        assert event["uid"] == f"booking-{booking.pk}@tidbok"
        assert (event["sequence"], event["start"]["utc"], event["status"]) == (sequence, start, status)
        assert event["start"]["zone"] == "UTC" and event["end"]["zone"] == "UTC"
        assert event["dtstamp"] is not None
        assert event["organizer"] == {"value": f"mailto:{CONTACT}", "params": {"cn": "Anna Andersson"}}
        assert event["attendees"] == [{
            "value": f"mailto:{erik.email}",
            "params": {"cn": "Erik Eriksson", "cutype": "INDIVIDUAL", "role": "REQ-PARTICIPANT",
                       "partstat": "ACCEPTED", "rsvp": "FALSE"},
        }]
        # Each party's copy holds her own link to the call, and no personnummer.
        link = booking.therapist_video_url if to == [anna.user.email] else booking.video_url
        assert event["location"] == link and link in text
        assert erik.personnummer not in text and erik.personnummer.replace("-", "") not in text
        # The same invitation once more as a file, for programs that only offer attachments.
        message = parsed(envelope)
        [attached] = [p for p in message.walk() if p.get_filename() == "tidbok.ics"]
        assert attached.get_payload(decode=True).decode() == text
    # Her calendar replaced the booking by the cancellation: the same UID, a higher SEQUENCE.
    assert Booking.objects.get(pk=booking.pk).sequence == 2


def test_a_move_by_the_client_sends_both_parties_a_new_request_for_the_same_event(now, smtp, anna, erik):
    """R33: Erik moves his booking through the API (`booking_move`): one mail to each party,
    each carrying the same event (UID) with a higher SEQUENCE at the new time. Anna moving a
    booking herself is told nothing (`email_therapist_booking_moved` answers None)."""
    anna_api, erik_api = api_for(anna.user), api_for(erik.user)
    slot = anna_api.post("/therapist/slots", {"start": "2027-01-12T09:00:00+01:00"}).json()
    target = anna_api.post("/therapist/slots", {"start": "2027-01-14T14:00:00+01:00"}).json()
    booking = Booking.objects.get(pk=erik_api.post(f"/slots/{slot['id']}/book", {"mode": "onsite"}).json()["id"])
    run_worker()
    del smtp.envelopes[:]

    moved = erik_api.post(f"/bookings/{booking.pk}/move", {"slot_id": target["id"]})
    run_worker()

    assert moved.status_code == 200, moved.content
    booking = Booking.objects.select_related("therapist__user", "client").get(pk=booking.pk)
    assert email_therapist_booking_moved(booking=booking, actor=anna.user, old_start=booking.start_at,
                                         old_end=booking.end_at) is None  # she moved it: she knows
    envelopes = {tuple(e.rcpt_tos): e for e in smtp.envelopes}
    assert set(envelopes) == {(anna.user.email,), (erik.email,)}
    for envelope in envelopes.values():
        assert_seven_bit(envelope)
        method, text = invitation(parsed(envelope))
        mozilla, event, _ = both_parsers(text)
        assert (method, mozilla["method"]) == ("REQUEST", "REQUEST")
        assert (event["uid"], event["sequence"]) == (f"booking-{booking.pk}@tidbok", 1)
        assert event["start"]["utc"] == "2027-01-14T13:00:00.000Z"
    message = parsed(envelopes[(anna.user.email,)])
    assert message["Subject"] == "Flyttad: torsdag 14 januari 2027 kl. 14:00, Erik E."
    body = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert "Erik Eriksson har flyttat sin tid hos dig." in body
    assert "Tidigare: tisdag 12 januari 2027 kl. 09:00" in body
    assert "Ny tid: torsdag 14 januari 2027 kl. 14:00–14:45 (svensk tid), 45 min" in body
    message = parsed(envelopes[(erik.email,)])
    assert message["Subject"] == "Ny tid: torsdag 14 januari 2027 kl. 14:00 med Anna Andersson"
    assert message["Reply-To"] is not None  # her therapist answers (R30)
    body = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert "Du har flyttat din tid hos Anna Andersson." in body
    assert "Tidigare: tisdag 12 januari 2027 kl. 09:00" in body
