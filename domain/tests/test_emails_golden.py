"""Every mail, in Swedish and in English, reads exactly as the snapshot in `golden_mails/`
says: subject, body and (for a booking) the calendar invitation. The snapshots were taken
from the mails as they were before the templates became one gettext template per kind, so
they guard the wording through any change to how a mail is put together.

What changes from one run to the next is masked: the one-time tokens and user ids in links,
the booking's id in the invitation's UID and its DTSTAMP. To take new snapshots after a
deliberate change of wording: `GOLDEN_MAILS=write pytest domain/tests/test_emails_golden.py`,
then read the diff."""

import os
import re
from pathlib import Path

import pytest

from conftest import at
from domain.models import Booking, OutboundEmail, Slot, User
from domain.services import emails
from domain.services.clients import invitation_url
from domain.services.eid import email_eid_account_exists

GOLDEN = Path(__file__).parent / "golden_mails"
WRITE = os.environ.get("GOLDEN_MAILS") == "write"

ADDRESS = "Storgatan 1\n111 22 Stockholm"
INFO = "Ring på porten, koden är 1234."


def masked(text: str) -> str:
    text = re.sub(r"/(bekrafta|losenord)/[^/\s]+/[^/\s]+/", r"/\1/<uid>/<token>/", text)
    text = re.sub(r"/inbjudan/[^/\s]+/", "/inbjudan/<token>/", text)
    text = re.sub(r"booking-\d+@tidbok", "booking-<id>@tidbok", text)
    text = re.sub(r"/boka/\d+/", "/boka/<id>/", text)
    return re.sub(r"(?m)^DTSTAMP:.*\r?\n", "", text)


@pytest.fixture
def people(make_therapist, make_client):
    anna = make_therapist(reception_address=ADDRESS, personal_info=INFO)
    bo = make_therapist(email="bo@example.se", first="Bo", last="Berg", booster=False)
    erik = make_client(email="erik@example.se", therapist=anna)
    return anna, bo, erik


def booking(therapist, client, *, mode, cancelled=False):
    slot = Slot.objects.create(therapist=therapist, start_at=at("2027-01-12 09:00"), end_at=at("2027-01-12 09:45"),
                               price=850)
    return Booking.objects.create(
        slot=slot, therapist=therapist, client=client, start_at=slot.start_at, end_at=slot.end_at, price=850,
        mode=mode, status=Booking.Status.CANCELLED if cancelled else Booking.Status.CONFIRMED,
        video_token=f"client-key-{therapist.first_name}", therapist_video_token=f"therapist-key-{therapist.first_name}",
    )


def series_bookings(therapist, client, *, mode, cancelled=False):
    """Three weeks of a series across the change to summer time (28 March 2027)."""
    from domain.models import BookingSeries

    series = BookingSeries.objects.create(therapist=therapist, client=client, weeks=3)
    made = []
    for day in ("2027-03-15", "2027-03-22", "2027-03-29"):
        slot = Slot.objects.create(therapist=therapist, start_at=at(f"{day} 10:00"), end_at=at(f"{day} 10:45"),
                                   price=850)
        made.append(Booking.objects.create(
            slot=slot, therapist=therapist, client=client, start_at=slot.start_at, end_at=slot.end_at, price=850,
            mode=mode, series=series, sequence=1 if cancelled else 0,
            status=Booking.Status.CANCELLED if cancelled else Booking.Status.CONFIRMED,
            video_token=f"client-key-{therapist.first_name}-{day}",
            therapist_video_token=f"therapist-key-{therapist.first_name}-{day}",
        ))
    return made


OLD = {"old_start": at("2027-01-11 14:00"), "old_end": at("2027-01-11 14:45")}

# case: (who reads it: "client", "therapist" or "user", which therapist, mode, cancelled, write it)
CASES = {
    "booking_confirmed-video": ("client", "anna", "video", False, lambda b: emails.email_booking_confirmed(booking=b)),
    "booking_confirmed-onsite": ("client", "anna", "onsite", False, lambda b: emails.email_booking_confirmed(booking=b)),
    "booking_confirmed-onsite-bare": ("client", "bo", "onsite", False,
                                      lambda b: emails.email_booking_confirmed(booking=b)),
    "booking_cancelled": ("client", "anna", "video", True, lambda b: emails.email_booking_cancelled(booking=b)),
    "booking_rescheduled-onsite": ("client", "anna", "onsite", False,
                                   lambda b: emails.email_booking_rescheduled(booking=b, **OLD)),
    "booking_rescheduled-video": ("client", "anna", "video", False,
                                  lambda b: emails.email_booking_rescheduled(booking=b, **OLD)),
    "booking_moved-video": ("client", "anna", "video", False, lambda b: emails.email_booking_moved(booking=b, **OLD)),
    "booking_moved-onsite": ("client", "anna", "onsite", False, lambda b: emails.email_booking_moved(booking=b, **OLD)),
    "booking_reminder-video": ("client", "anna", "video", False, lambda b: emails.email_booking_reminder(booking=b)),
    "booking_reminder-onsite": ("client", "anna", "onsite", False, lambda b: emails.email_booking_reminder(booking=b)),
    "therapist_booking_created-video": ("therapist", "anna", "video", False,
                                        lambda b: emails.email_therapist_booking_created(booking=b, actor=None)),
    "therapist_booking_created-onsite": ("therapist", "anna", "onsite", False,
                                         lambda b: emails.email_therapist_booking_created(booking=b, actor=None)),
    "therapist_booking_created-onsite-bare": ("therapist", "bo", "onsite", False,
                                              lambda b: emails.email_therapist_booking_created(booking=b, actor=None)),
    "therapist_booking_cancelled-video": ("therapist", "anna", "video", True,
                                          lambda b: emails.email_therapist_booking_cancelled(booking=b, actor=None)),
    "therapist_booking_cancelled-onsite": ("therapist", "anna", "onsite", True,
                                           lambda b: emails.email_therapist_booking_cancelled(booking=b, actor=None)),
    "therapist_booking_erased": ("therapist", "anna", "onsite", True,
                                 lambda b: emails.email_therapist_booking_erased(booking=b, actor=None)),
    "therapist_booking_moved-video": ("therapist", "anna", "video", False,
                                      lambda b: emails.email_therapist_booking_moved(booking=b, actor=None, **OLD)),
    "therapist_booking_moved-onsite": ("therapist", "anna", "onsite", False,
                                       lambda b: emails.email_therapist_booking_moved(booking=b, actor=None, **OLD)),
    # R32: one mail for a whole series, with every occurrence in one calendar file.
    "series_booked-video": ("client", "anna", "video", False, lambda bs: emails.email_series_booked(bookings=bs)),
    "series_booked-onsite": ("client", "anna", "onsite", False, lambda bs: emails.email_series_booked(bookings=bs)),
    "series_cancelled": ("client", "anna", "video", True, lambda bs: emails.email_series_cancelled(bookings=bs)),
    "client_invitation": ("client", "anna", None, False, None),
    "email_verification": ("user", None, None, False, lambda u: emails.email_verification(user=u)),
    "email_verification-next": ("user", None, None, False,
                                lambda u: emails.email_verification(user=u, next_url="/terapeut/anna/?a=1&b=2")),
    "signup_unfinished": ("user", None, None, False, lambda u: emails.email_signup_unfinished(user=u)),
    "account_exists": ("user", None, None, False, lambda u: emails.email_account_exists(user=u)),
    "eid_account_exists": ("user", None, None, False, lambda u: email_eid_account_exists(user=u)),
    "password_reset": ("user", None, None, False, lambda u: emails.email_password_reset(user=u)),
    # R37: a wait-listed client told of the times that opened (one and several).
    "waitlist_opened": ("client", "anna", None, False, None),
    "waitlist_opened-several": ("client", "anna", None, False, None),
}


def write(case: str, people, language: str) -> OutboundEmail:
    anna, bo, erik = people
    reader, who, mode, cancelled, send = CASES[case]
    if reader == "user":
        user = User.objects.create_user(email="nora@example.se", password="correct horse battery", first_name="Nora",
                                        last_name="Nilsson", language=language)
        return send(user)
    therapist = {"anna": anna, "bo": bo}[who]
    if reader == "client":
        type(erik).objects.filter(pk=erik.pk).update(language=language)
        erik.refresh_from_db()
    else:
        User.objects.filter(pk=therapist.user.pk).update(language=language)
        therapist.user.refresh_from_db()
    if case == "client_invitation":
        return emails.email_client_invitation(client=erik, therapist=therapist, link=invitation_url(erik))
    if case.startswith("waitlist_opened"):
        days = ("2027-01-12", "2027-01-13") if case.endswith("several") else ("2027-01-12",)
        slots = [Slot.objects.create(therapist=therapist, start_at=at(f"{d} 09:00"), end_at=at(f"{d} 09:45"), price=850,
                                     video=True, onsite=d.endswith("12")) for d in days]
        return emails.email_waitlist_opened(client=erik, therapist=therapist, slots=slots)
    if case.startswith("series_"):
        return send(series_bookings(therapist, erik, mode=mode, cancelled=cancelled))
    return send(booking(therapist, erik, mode=mode, cancelled=cancelled))


def check(path: Path, text: str):
    if WRITE:
        path.write_bytes(text.encode())
    assert path.exists(), f"no snapshot {path.name}: take it with GOLDEN_MAILS=write"
    assert text == path.read_bytes().decode()  # bytes: the invitation's lines end in CRLF


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("case", CASES)
def test_every_mail_reads_as_its_snapshot(people, case, language):
    email = write(case, people, language)

    check(GOLDEN / f"{case}.{language}.txt", masked(f"Subject: {email.subject}\n\n{email.body}"))
    if email.ics:
        # The invitation says the same in both languages (the mail around it is translated).
        check(GOLDEN / f"{case}.ics", masked(email.ics))
    else:
        assert not (GOLDEN / f"{case}.ics").exists()
