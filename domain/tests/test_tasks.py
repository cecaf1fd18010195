"""domain.tasks: the outbox worker (R19, R25). A mail is sent once; a mail server that is down
puts it back in the queue with a growing delay, and after EMAIL_MAX_ATTEMPTS it is given up
as failed; a mail left half-sent by a dead worker goes back to the queue.

The test settings send with Django's locmem backend (mail.outbox)."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from conftest import at
from domain.models import OutboundEmail
from domain.services import booking_create_by_therapist, slot_create
from domain.tasks import requeue_stale_emails, retry_delay, send_email, stale_claim

NOW = at("2027-01-11 08:00")


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    error = ConnectionRefusedError(111, "Connection refused")

    def send_messages(self, messages):
        raise type(self).error


class DisconnectingBackend(RefusingBackend):
    error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RecipientRefusingBackend(RefusingBackend):
    error = smtplib.SMTPRecipientsRefused({"erik.eriksson.100@example.se": (550, b"no such user here")})


def server_down(settings, backend=RefusingBackend):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.{backend.__name__}"}}


@pytest.fixture
def email(anna, erik, now):
    """The confirmation of Erik's booking, pending in the outbox."""
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"))
    booking = booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)
    mail.outbox.clear()
    return OutboundEmail.objects.get(booking=booking)


def tasks_for(email_id) -> list[DBTaskResult]:
    return [
        task for task in DBTaskResult.objects.order_by("enqueued_at", "run_after")
        if task.task_path == "domain.tasks.send_email" and task.args_kwargs["args"] == [email_id]
    ]


def retries_for(email_id) -> list[DBTaskResult]:
    """Tasks for this mail that wait for a time; one to run at once has run_after = the end of time."""
    return sorted((task for task in tasks_for(email_id) if task.run_after != get_date_max()), key=lambda t: t.run_after)


def test_the_booking_enqueues_its_mail_in_the_same_transaction(email):
    assert email.status == "pending"
    assert email.attempts == 0
    [task] = tasks_for(email.pk)
    assert (task.status, task.run_after) == ("READY", get_date_max())
    assert mail.outbox == []


def test_it_sends_a_pending_mail_with_its_calendar_file(email, erik):
    assert send_email.call(email.pk) == "sent"

    [message] = mail.outbox
    assert (message.to, message.subject, message.body) == ([erik.email], email.subject, email.body)
    parts = {part.get_content_type(): part for part in message.message().walk()}
    assert parts["text/calendar"].get_param("method") == "REQUEST"
    assert parts["text/calendar"].get_content() == email.ics.replace("\r\n", "\n")  # CRLF once on the wire
    assert parts["application/ics"].get_filename() == "tidbok.ics"
    row = OutboundEmail.objects.get(pk=email.pk)
    assert (row.status, row.attempts, row.sent_at, row.claimed_at, row.last_error) == ("sent", 1, NOW, NOW, "")


def test_it_sends_a_mail_only_once(email):
    send_email.call(email.pk)

    assert send_email.call(email.pk) == "skipped"

    assert len(mail.outbox) == 1
    assert OutboundEmail.objects.get(pk=email.pk).attempts == 1


def test_it_skips_a_mail_that_does_not_exist(db):
    assert send_email.call(123456) == "skipped"

    assert mail.outbox == []


def test_it_skips_a_mail_another_worker_is_sending(email):
    OutboundEmail.objects.filter(pk=email.pk).update(status="sending", claimed_at=NOW)

    assert send_email.call(email.pk) == "skipped"

    assert mail.outbox == []
    assert OutboundEmail.objects.get(pk=email.pk).attempts == 0


@pytest.mark.parametrize("backend", [RefusingBackend, DisconnectingBackend])
def test_a_mail_server_that_is_down_puts_the_mail_back_with_a_retry(email, settings, backend):
    server_down(settings, backend)

    assert send_email.call(email.pk) == "retry"

    assert mail.outbox == []
    row = OutboundEmail.objects.get(pk=email.pk)
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
    assert row.last_error == backend.error.__class__.__name__
    [retry] = retries_for(email.pk)
    assert retry.run_after == NOW + timedelta(seconds=settings.EMAIL_RETRY_DELAY)
    assert retry.run_after > NOW
    assert retry.status == "READY"


def test_the_error_kept_does_not_quote_the_recipient(email, settings, erik):
    server_down(settings, RecipientRefusingBackend)

    send_email.call(email.pk)

    row = OutboundEmail.objects.get(pk=email.pk)
    assert row.last_error == "SMTPRecipientsRefused"
    assert erik.email not in row.last_error


def test_each_retry_waits_longer(email, settings):
    server_down(settings)
    settings.EMAIL_RETRY_DELAY = 10

    for _ in range(3):
        send_email.call(email.pk)

    assert [task.run_after - NOW for task in retries_for(email.pk)] == [
        timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)
    ]
    assert OutboundEmail.objects.get(pk=email.pk).attempts == 3


def test_the_retry_delay_doubles_up_to_its_cap(settings):
    settings.EMAIL_RETRY_DELAY = 10
    settings.EMAIL_RETRY_MAX_DELAY = 600

    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5, 6, 7, 20)] == [10, 20, 40, 80, 160, 320, 600, 600]


def test_the_mail_goes_out_once_the_server_is_back(email, settings, erik):
    server_down(settings)
    send_email.call(email.pk)
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

    assert send_email.call(email.pk) == "sent"

    assert [m.to for m in mail.outbox] == [[erik.email]]
    row = OutboundEmail.objects.get(pk=email.pk)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")


def test_after_the_last_attempt_the_mail_is_failed(email, settings):
    server_down(settings)
    attempts = settings.EMAIL_MAX_ATTEMPTS

    results = [send_email.call(email.pk) for _ in range(attempts)]

    assert results == ["retry"] * (attempts - 1) + ["failed"]
    row = OutboundEmail.objects.get(pk=email.pk)
    assert (row.status, row.attempts, row.last_error) == ("failed", attempts, "ConnectionRefusedError")
    assert len(retries_for(email.pk)) == attempts - 1
    assert send_email.call(email.pk) == "skipped"
    assert OutboundEmail.objects.get(pk=email.pk).attempts == attempts
    assert mail.outbox == []


def test_a_mail_claimed_by_a_worker_that_died_goes_back_to_the_queue(email, now):
    OutboundEmail.objects.filter(pk=email.pk).update(status="sending", claimed_at=NOW - stale_claim() - timedelta(minutes=1))
    tasks_before = len(tasks_for(email.pk))

    assert requeue_stale_emails() == 1

    row = OutboundEmail.objects.get(pk=email.pk)
    assert row.status == "pending"
    assert len(tasks_for(email.pk)) == tasks_before + 1
    assert send_email.call(email.pk) == "sent"
    assert len(mail.outbox) == 1


def test_how_long_a_claim_takes_to_go_stale_is_a_setting(email, now, settings):
    """EMAIL_STALE_CLAIM_SECONDS: short in the cluster test (a worker is killed there), ten
    minutes by default."""
    settings.EMAIL_STALE_CLAIM_SECONDS = 30
    OutboundEmail.objects.filter(pk=email.pk).update(status="sending", claimed_at=NOW - timedelta(seconds=29))
    assert requeue_stale_emails() == 0
    OutboundEmail.objects.filter(pk=email.pk).update(claimed_at=NOW - timedelta(seconds=31))
    assert requeue_stale_emails() == 1
    assert OutboundEmail.objects.get(pk=email.pk).status == "pending"


def test_every_attempt_at_one_mail_has_the_same_message_id_and_each_mail_its_own(email, now):
    """So that a mail sent again after a worker died between the server's 250 and its UPDATE
    is recognisably the same message (docs/deploy.md)."""
    from domain.services.emails import email_message

    other = OutboundEmail.objects.create(kind=email.kind, to=email.to, subject=email.subject, body=email.body)
    first, again = email_message(email).message()["Message-ID"], email_message(email).message()["Message-ID"]
    assert first == again == f"<outbox-{email.pk}.20270111070000@tidbok.se>"
    assert email_message(other).message()["Message-ID"] != first


def test_a_mail_being_sent_right_now_is_left_alone(email, now):
    OutboundEmail.objects.filter(pk=email.pk).update(status="sending", claimed_at=NOW - timedelta(minutes=5))
    tasks_before = len(tasks_for(email.pk))

    assert requeue_stale_emails() == 0

    assert OutboundEmail.objects.get(pk=email.pk).status == "sending"
    assert len(tasks_for(email.pk)) == tasks_before


def test_sent_and_failed_mails_are_not_requeued(email, now):
    OutboundEmail.objects.filter(pk=email.pk).update(status="sent", claimed_at=NOW - timedelta(hours=1))

    assert requeue_stale_emails() == 0

    assert OutboundEmail.objects.get(pk=email.pk).status == "sent"
