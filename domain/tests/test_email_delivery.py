"""R19, R18 and R25 end to end: a booking made through the API, its mail sent by the worker
exactly as production runs it (`manage.py db_worker --batch`), received by a real SMTP
server (aiosmtpd) on 127.0.0.1 and read back with the standard library's e-mail parser.

Time is frozen on Monday 2027-01-11 08:00 in Stockholm (conftest's `now`); the slot starts
on Tuesday 2027-01-12 at 09:00."""

from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from conftest import api_for, at, free_port, run_worker, start_smtp_server, use_smtp
from domain.models import Booking, OutboundEmail

ADDRESS = "Sveavägen 1, 113 50 Stockholm"
INFO = "Ring på porttelefonen märkt Andersson. Väntrummet ligger en trappa upp."
RETRY_DELAY = 30  # seconds; long enough that "not yet due" is visible, shifted past below

# The worker runs in its own transactions, as in production, so the tests' data must commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def anna_api(anna):
    api = api_for(anna.user)
    status = api.patch("/therapist/settings", {"reception_address": ADDRESS, "personal_info": INFO}).status_code
    assert status == 200
    return api


def new_slot(anna_api, start="2027-01-12T09:00:00+01:00", **fields) -> int:
    response = anna_api.post("/therapist/slots", {"start": start, **fields})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def subject_of(message) -> str:
    """The subject as a mail program shows it: a long one is folded onto a continuation line,
    and the parser keeps the folding's leading space."""
    return " ".join(message["Subject"].split())


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def calendar_parts(message):
    return [part for part in message.walk() if part.get_content_type() == "text/calendar"]


def the_event(message):
    """The one VEVENT of the message's one text/calendar attachment."""
    parts = calendar_parts(message)
    assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
    calendar = Calendar.from_ical(parts[0].get_content())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return calendar, events[0]


def test_an_onsite_confirmation_arrives_in_swedish_with_address_and_calendar_file(now, smtp, anna_api, erik, anna):
    slot_id = new_slot(anna_api)
    response = anna_api.post(f"/therapist/slots/{slot_id}/booking", {"client_id": erik.pk, "mode": "onsite"})
    assert response.status_code == 201, response.content
    booking = Booking.objects.get(pk=response.json()["id"])
    assert smtp.envelopes == []  # nothing goes out inside the request

    run_worker()

    assert len(smtp.envelopes) == 1
    envelope = smtp.envelopes[0]
    assert envelope.rcpt_tos == [erik.email]
    assert envelope.mail_from == "noreply@tidbok.se"
    message = smtp.messages[0]
    assert message["To"] == erik.email
    subject, body = subject_of(message), text_of(message)
    assert subject == "Bokningsbekräftelse: tisdag 12 januari 2027 kl. 09:00 med Anna Andersson"
    assert "Hej Erik!" in body
    assert "Anna Andersson" in body
    assert "När: tisdag 12 januari 2027 kl. 09:00–09:45 (svensk tid), 45 min" in body
    assert "Pris: 1000 kr" in body
    assert ADDRESS in body
    assert INFO in body
    assert "/video/" not in body

    calendar, event = the_event(message)
    assert str(calendar["method"]) == "REQUEST"
    assert event.decoded("dtstart") == booking.start_at == at("2027-01-12 09:00")
    assert event.decoded("dtend") == booking.end_at == at("2027-01-12 09:45")
    assert str(event["uid"]) == f"booking-{booking.pk}@tidbok"
    assert str(event["location"]) == ADDRESS
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT


def test_a_video_confirmation_carries_the_video_link_and_no_address(now, smtp, anna_api, nora_api, nora):
    slot_id = new_slot(anna_api, modes=["video"])
    response = nora_api.post(f"/slots/{slot_id}/book", {"mode": "video"})
    assert response.status_code == 201, response.content
    video_url = response.json()["video_url"]
    assert video_url and Booking.objects.get().video_url == video_url

    run_worker()

    # Nora's confirmation, and a note to Anna (R30: a client booked).
    assert [e.rcpt_tos for e in smtp.envelopes] == [[nora.email], ["anna@example.se"]]
    message = smtp.messages[0]
    assert message["To"] == nora.email
    body = text_of(message)
    assert "tisdag 12 januari 2027 kl. 09:00" in subject_of(message)
    assert "Anna Andersson" in subject_of(message)
    assert video_url in body
    assert ADDRESS not in body and INFO not in body
    _, event = the_event(message)
    assert event.decoded("dtstart") == at("2027-01-12 09:00")
    assert event.decoded("dtend") == at("2027-01-12 09:45")
    assert str(event["location"]) == video_url
    assert str(event["url"]) == video_url


def test_a_client_who_reads_english_gets_the_confirmation_in_english(now, smtp, anna_api, anna, make_client):
    olivia = make_client(first="Olivia", last="Brown", birth="19900101", therapist=anna, language="en")
    slot_id = new_slot(anna_api)
    response = anna_api.post(f"/therapist/slots/{slot_id}/booking", {"client_id": olivia.pk, "mode": "video"})
    assert response.status_code == 201, response.content

    run_worker()

    [message] = smtp.messages
    body = text_of(message)
    assert subject_of(message) == "Booking confirmed: Tuesday 12 January 2027 at 09:00 with Anna Andersson"
    assert "Hello Olivia," in body
    assert "When: Tuesday 12 January 2027 at 09:00–09:45 (Swedish time), 45 min" in body
    assert response.json()["video_url"] in body
    assert "tisdag" not in body and "Hej" not in body
    _, event = the_event(message)
    assert event.decoded("dtstart") == at("2027-01-12 09:00")


def test_a_mail_server_that_is_down_delays_the_confirmation_but_never_loses_or_doubles_it(
    now, settings, anna_api, erik
):
    port = free_port()  # nothing listens here yet
    use_smtp(settings, port, RETRY_DELAY)
    slot_id = new_slot(anna_api)
    response = anna_api.post(f"/therapist/slots/{slot_id}/booking", {"client_id": erik.pk, "mode": "onsite"})
    assert response.status_code == 201, response.content
    booking = Booking.objects.get(pk=response.json()["id"])  # committed: read on another query
    assert booking.is_confirmed

    run_worker()

    outbox = OutboundEmail.objects.get()
    assert outbox.status == OutboundEmail.Status.PENDING
    assert outbox.attempts == 1
    assert outbox.last_error == "ConnectionRefusedError"
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.task_path == "domain.tasks.send_email"
    assert retry.args_kwargs["args"] == [outbox.pk]
    assert retry.run_after == at("2027-01-11 08:00") + timedelta(seconds=RETRY_DELAY)
    assert Booking.objects.filter(pk=booking.pk, status=Booking.Status.CONFIRMED).exists()

    controller, inbox = start_smtp_server(port)
    try:
        run_worker()  # the retry is not due yet
        assert inbox.envelopes == []
        assert OutboundEmail.objects.get().attempts == 1

        now.shift(timedelta(seconds=RETRY_DELAY + 1))
        run_worker()
        run_worker()

        assert len(inbox.envelopes) == 1
        [message] = inbox.messages
        assert subject_of(message) == "Bokningsbekräftelse: tisdag 12 januari 2027 kl. 09:00 med Anna Andersson"
        _, event = the_event(message)
        assert event.decoded("dtstart") == booking.start_at
        outbox.refresh_from_db()
        assert outbox.status == OutboundEmail.Status.SENT
        assert outbox.attempts == 2
        assert outbox.last_error == ""
        assert not DBTaskResult.objects.filter(status="READY").exists()

        now.shift(timedelta(hours=1))
        run_worker()
        assert len(inbox.envelopes) == 1
    finally:
        controller.stop()


def test_a_reschedule_and_a_cancellation_each_arrive_once_with_the_same_calendar_uid(
    now, smtp, anna_api, erik_api, erik
):
    slot_id = new_slot(anna_api)
    response = erik_api.post(f"/slots/{slot_id}/book", {"mode": "video"})
    assert response.status_code == 201, response.content
    booking_id = response.json()["id"]
    run_worker()
    assert len(smtp.envelopes) == 2  # Erik's confirmation and Anna's note (R30)

    moved = anna_api.patch(f"/therapist/slots/{slot_id}", {"start": "2027-01-13T10:00:00+01:00"})
    assert moved.status_code == 200, moved.content
    run_worker()
    assert len(smtp.envelopes) == 3  # Anna moved it herself: Erik only
    cancelled = erik_api.post(f"/bookings/{booking_id}/cancel")
    assert cancelled.status_code == 200, cancelled.content
    run_worker()
    run_worker()

    assert len(smtp.envelopes) == 5
    assert [e.rcpt_tos for e in smtp.envelopes] == [
        [erik.email], ["anna@example.se"], [erik.email], [erik.email], ["anna@example.se"]
    ]
    confirmation, reschedule, cancellation = (m for e, m in zip(smtp.envelopes, smtp.messages, strict=True)
                                              if e.rcpt_tos == [erik.email])

    assert subject_of(reschedule) == "Ny tid: onsdag 13 januari 2027 kl. 10:00 med Anna Andersson"
    body = text_of(reschedule)
    assert "Tidigare: tisdag 12 januari 2027 kl. 09:00" in body
    assert "Ny tid: onsdag 13 januari 2027 kl. 10:00–10:45 (svensk tid), 45 min" in body
    assert Booking.objects.get(pk=booking_id).video_url in body

    assert subject_of(cancellation) == "Avbokad: onsdag 13 januari 2027 kl. 10:00 med Anna Andersson"
    assert "onsdag 13 januari 2027 kl. 10:00" in text_of(cancellation)

    events = [the_event(m) for m in (confirmation, reschedule, cancellation)]
    uids = {str(event["uid"]) for _, event in events}
    assert uids == {f"booking-{booking_id}@tidbok"}
    (cal1, first), (cal2, second), (cal3, third) = events
    assert first.decoded("dtstart") == at("2027-01-12 09:00")
    assert second.decoded("dtstart") == at("2027-01-13 10:00")
    assert second.decoded("dtend") == at("2027-01-13 10:45")
    assert third.decoded("dtstart") == at("2027-01-13 10:00")
    # Calendar programs replace an event only by a higher SEQUENCE, and remove it on CANCEL.
    assert first.decoded("sequence") < second.decoded("sequence") < third.decoded("sequence")
    assert (str(cal3["method"]), str(third["status"])) == ("CANCEL", "CANCELLED")
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {OutboundEmail.Status.SENT}
