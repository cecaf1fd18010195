"""Finding 7: a mail that can never be sent is marked failed for staff to see, at once, instead
of looping in the worker for ever; a mail server's "no, never" is believed, its "not now" is
retried. And no stored name can break a mail again: control characters are refused."""

from datetime import timedelta

import pytest
from django.test import Client as HttpClient

from conftest import api_for, at, free_port, run_worker, start_smtp_server, use_smtp
from domain.models import Booking, OutboundEmail, Slot, User
from domain.services import booking_create_by_therapist
from domain.tasks import requeue_stale_emails, stale_claim

pytestmark = pytest.mark.django_db(transaction=True)


def booked(anna, erik) -> Booking:
    start = at("2027-01-12 09:00")
    slot = Slot.objects.create(therapist=anna, start_at=start, end_at=start + timedelta(minutes=45), price=1000)
    return booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)


class Refusing:
    """An SMTP server that refuses every recipient with `code`."""

    def __init__(self, code: int):
        self.code, self.envelopes = code, []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"{self.code} 5.1.1 Mailbox refused" if self.code >= 500 else f"{self.code} 4.2.0 Try later"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def test_a_mail_whose_header_cannot_be_written_is_failed_at_once_not_retried(now, smtp, anna, erik):
    """Legacy data: a name with a carriage return (stored before names were checked) made the
    confirmation raise in the worker for ever. Now the mail is failed, with the reason."""
    User.objects.filter(pk=anna.user.pk).update(last_name="Andersson\rBcc: someone@example.se")
    anna.user.refresh_from_db()
    booking = booked(anna, erik)

    run_worker()

    mail = OutboundEmail.objects.get(booking=booking)
    assert (mail.status, mail.attempts) == (OutboundEmail.Status.FAILED, 1)
    assert mail.last_error and "Andersson" not in mail.last_error
    assert smtp.envelopes == []
    now.shift(stale_claim() + timedelta(minutes=1))
    assert requeue_stale_emails() == 0
    run_worker()
    assert OutboundEmail.objects.get(pk=mail.pk).attempts == 1


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [(550, OutboundEmail.Status.FAILED, "SMTPRecipientsRefused"),  # "no, never": believed at once
     (450, OutboundEmail.Status.PENDING, "SMTPRecipientsRefused")],  # "not now": tried again
)
def test_a_refusal_for_good_fails_the_mail_and_one_for_now_is_tried_again(now, settings, anna, erik, code, status, error):
    port = free_port()
    use_smtp(settings, port, retry_delay=1)
    controller, handler = start_smtp_server(port, Refusing(code))
    try:
        booking = booked(anna, erik)
        run_worker()
    finally:
        controller.stop()

    mail = OutboundEmail.objects.get(booking=booking)
    assert (mail.status, mail.attempts, mail.last_error) == (status, 1, error)


def test_a_mail_that_killed_its_worker_every_time_is_given_up(now, settings, anna, erik):
    """A row left in `sending` (the worker died mid-send) goes back to the queue, but not
    after its last attempt."""
    booking = booked(anna, erik)
    OutboundEmail.objects.filter(booking=booking).update(
        status=OutboundEmail.Status.SENDING, attempts=settings.EMAIL_MAX_ATTEMPTS, claimed_at=at("2027-01-11 07:00")
    )

    assert requeue_stale_emails() == 0
    assert OutboundEmail.objects.get(booking=booking).status == OutboundEmail.Status.FAILED


def test_staff_find_failed_mails_in_the_admin(now, anna, erik):
    User.objects.filter(pk=anna.user.pk).update(last_name="Andersson\r")
    booked(anna, erik)
    run_worker()
    staff = User.objects.create_superuser(email="staff@example.se", password="staff-pass-2027")
    http = HttpClient()
    http.force_login(staff)

    page = http.get("/admin/domain/outboundemail/", {"status__exact": "failed"}).content.decode()

    assert "booking_confirmed" in page
    assert OutboundEmail.objects.get().last_error in page


@pytest.mark.parametrize(("field", "value"), [("reception_address", "Gatan\x0b1"), ("personal_info", "Ring\x1bpå")])
def test_settings_refuse_control_characters_naming_the_field(anna, field, value):
    before = api_for(anna.user).get("/therapist/settings").json()

    response = api_for(anna.user).patch("/therapist/settings", {field: value})

    assert response.status_code == 422
    assert field in str(response.json())
    assert api_for(anna.user).get("/therapist/settings").json() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "Psykolog\nBcc: x"), ("city", "Stock\rholm"), ("areas", ["stress\x1f"]), ("presentation", "Hej\u2028då"),
     ("reception_address", "Gatan\t1")],
)
def test_every_profile_text_refuses_control_characters(anna, field, value):
    from django.core.exceptions import ValidationError

    from domain.models import Therapist
    from domain.services import therapist_settings_update

    with pytest.raises(ValidationError) as refused:
        therapist_settings_update(therapist=anna, actor=anna.user, **{field: value})

    assert field in refused.value.message_dict
    assert getattr(Therapist.objects.get(pk=anna.pk), field) in ("", [])


def test_line_breaks_stay_in_multi_line_settings(anna):
    response = api_for(anna.user).patch("/therapist/settings", {"reception_address": "Gatan 1\r\n113 50 Stockholm"})

    assert response.status_code == 200
    assert response.json()["reception_address"] == "Gatan 1\n113 50 Stockholm"
