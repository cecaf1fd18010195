"""R30: the therapist is mailed when a client books or cancels (and, with R33, moves), in her
language and her zone, with the client's name (never the personnummer), the kind of visit,
the address or her own link to the call, and the invitation; unless she turned it off, and
never for what she did herself. Read from a real SMTP server after the real worker ran.

Time is frozen on Monday 2027-01-11 08:00 in Stockholm; the slot is Tuesday at 09:00."""

import pytest

from conftest import api_for, run_worker
from domain.models import Booking, Therapist, User

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "Sveavägen 1, 113 50 Stockholm"


def slot(anna, start="2027-01-12T09:00:00+01:00", **fields) -> int:
    response = api_for(anna.user).post("/therapist/slots", {"start": start, **fields})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def text_of(message) -> str:
    """The plain text as a mail program shows it (its line breaks crossed the wire as CRLF)."""
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def subject_of(message) -> str:
    return " ".join(message["Subject"].split())


def mails_to(smtp, address) -> list:
    return [m for e, m in zip(smtp.envelopes, smtp.messages, strict=True) if e.rcpt_tos == [address]]


def test_a_clients_video_booking_mails_her_therapist_with_the_clients_name_and_her_own_link(now, smtp, anna, erik):
    slot_id = slot(anna, modes=["video"])
    response = api_for(erik.user).post(f"/slots/{slot_id}/book", {"mode": "video"})
    assert response.status_code == 201, response.content
    booking = Booking.objects.get(pk=response.json()["id"])

    run_worker()

    [mail] = mails_to(smtp, anna.user.email)
    assert subject_of(mail) == "Ny bokning: tisdag 12 januari 2027 kl. 09:00, Erik E."
    body = text_of(mail)
    assert body.startswith("Hej Anna!\n\nErik Eriksson har bokat en tid hos dig.\n")
    assert "När: tisdag 12 januari 2027 kl. 09:00–09:45 (svensk tid), 45 min" in body
    assert "Videosamtal. Din egen länk till samtalet" in body
    assert booking.therapist_video_url in body
    assert booking.video_url not in body  # the client's key stays the client's
    assert "http://127.0.0.1:8000/kalender/?datum=2027-01-12" in body
    assert "http://127.0.0.1:8000/kalender/installningar/" in body
    raw = b"".join(e.original_content or e.content for e in smtp.envelopes)
    assert erik.personnummer.encode() not in raw and erik.personnummer.replace("-", "").encode() not in raw
    assert any(p.get_content_type() == "text/calendar" for p in mail.walk())
    [client_mail] = mails_to(smtp, erik.email)
    assert booking.therapist_video_url not in text_of(client_mail)


def test_a_client_cancelling_an_onsite_visit_mails_her_therapist(now, smtp, anna, erik):
    Therapist.objects.filter(pk=anna.pk).update(reception_address=ADDRESS)
    erik_api = api_for(erik.user)
    booking_id = erik_api.post(f"/slots/{slot(anna)}/book", {"mode": "onsite"}).json()["id"]
    run_worker()
    confirmation = mails_to(smtp, anna.user.email)[0]
    assert "Besök på plats.\nAdress:\nSveavägen 1, 113 50 Stockholm" in text_of(confirmation)

    assert erik_api.post(f"/bookings/{booking_id}/cancel").status_code == 200
    run_worker()

    [_, cancellation] = mails_to(smtp, anna.user.email)
    assert subject_of(cancellation) == "Avbokad: tisdag 12 januari 2027 kl. 09:00, Erik E."
    body = text_of(cancellation)
    assert "Bokningen med Erik Eriksson är avbokad." in body
    assert "När: tisdag 12 januari 2027 kl. 09:00–09:45 (svensk tid), 45 min\nBesök på plats" in body
    assert "Tiden är öppen för bokning igen." in body


def test_a_therapist_who_turned_the_mails_off_gets_none(now, smtp, anna, erik):
    assert api_for(anna.user).patch("/therapist/settings", {"notify_by_email": False}).status_code == 200
    erik_api = api_for(erik.user)
    booking_id = erik_api.post(f"/slots/{slot(anna)}/book", {"mode": "video"}).json()["id"]
    erik_api.post(f"/bookings/{booking_id}/cancel")

    run_worker()

    assert [e.rcpt_tos for e in smtp.envelopes] == [[erik.email], [erik.email]]  # the client's two only


def test_what_the_therapist_does_herself_is_not_mailed_to_her(now, smtp, anna, erik):
    anna_api = api_for(anna.user)
    slot_id = slot(anna)
    booked = anna_api.post(f"/therapist/slots/{slot_id}/booking", {"client_id": erik.pk, "mode": "video"})
    assert booked.status_code == 201, booked.content
    assert anna_api.patch(f"/therapist/slots/{slot_id}", {"start": "2027-01-13T10:00:00+01:00"}).status_code == 200
    assert anna_api.post(f"/bookings/{booked.json()['id']}/cancel").status_code == 200

    run_worker()

    assert [e.rcpt_tos for e in smtp.envelopes] == [[erik.email]] * 3  # booked, moved, cancelled
    assert mails_to(smtp, anna.user.email) == []


def test_a_therapist_who_reads_english_gets_her_mail_in_english_in_her_zone(now, smtp, anna, erik):
    User.objects.filter(pk=anna.user.pk).update(language="en")
    Therapist.objects.filter(pk=anna.pk).update(timezone="Europe/Helsinki")
    slot_id = slot(anna, start="2027-01-12T10:00:00+02:00")  # 09:00 in Stockholm

    assert api_for(erik.user).post(f"/slots/{slot_id}/book", {"mode": "video"}).status_code == 201
    run_worker()

    [mail] = mails_to(smtp, anna.user.email)
    assert subject_of(mail) == "New booking: Tuesday 12 January 2027 at 10:00, Erik E."
    body = text_of(mail)
    assert body.startswith("Hello Anna,\n\nErik Eriksson has booked a time with you.\n")
    assert "When: Tuesday 12 January 2027 at 10:00–10:45 (time zone Europe/Helsinki), 45 min" in body
    assert "Video call. Your own link to the call" in body
    assert "Hej" not in body and "tisdag" not in body
    # Her client reads Swedish, the times in her therapist's zone, and is told which zone.
    [client_mail] = mails_to(smtp, erik.email)
    assert "När: tisdag 12 januari 2027 kl. 10:00–10:45 (tidszon Europe/Helsinki), 45 min" in text_of(client_mail)
