"""Background work, run by `manage.py db_worker` (django-tasks-db).

send_email delivers one outbox row. It claims the row with a conditional UPDATE
(pending → sending) so that two workers, or a task enqueued twice, never send one mail twice;
when the SMTP server is down it puts the row back to pending and enqueues itself again with a
growing delay, so the mail goes out once the server is back (R25). A mail that can never be
sent (the server refuses it for good, or it cannot even be built) is marked failed at once,
for staff to see in the admin, instead of being retried for ever.

process_account_request is the worker's half of a sign-up or a password reset
(`domain.services.accounts`)."""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.tasks import task
from django.utils import timezone

from .models import OutboundEmail
from .services.emails import email_message

log = logging.getLogger(__name__)



def stale_claim() -> timedelta:
    """A mail left in `sending` this long was claimed by a worker that died mid-send
    (EMAIL_STALE_CLAIM_SECONDS; docs/deploy.md, "A worker killed mid-send")."""
    return timedelta(seconds=settings.EMAIL_STALE_CLAIM_SECONDS)


def retry_delay(attempts: int) -> timedelta:
    seconds = settings.EMAIL_RETRY_DELAY * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.EMAIL_RETRY_MAX_DELAY))


@task
def send_email(email_id: int) -> str:
    now = timezone.now()
    claimed = OutboundEmail.objects.filter(pk=email_id, status=OutboundEmail.Status.PENDING).update(
        status=OutboundEmail.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return "skipped"
    # With what the Reply-To needs, so that building the message reads nothing more.
    email = OutboundEmail.objects.select_related("booking__therapist__user").get(pk=email_id)
    try:
        email_message(email).send()
    except (smtplib.SMTPException, OSError) as e:  # OSError covers refused and timed out
        if _refused_for_good(e):
            return _give_up(email, e)
        return _failed(email, e)
    except Exception as e:  # e.g. a header that cannot be written: trying again cannot help
        return _give_up(email, e)
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    log.info("sent %s mail #%s (attempt %s)", email.kind, email.pk, email.attempts)
    return "sent"


def _refused_for_good(error: Exception) -> bool:
    """A 5xx answer to the recipient, the sender or the message: the same mail will be
    refused again (a 4xx, a lost connection or a timeout may pass later)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in error.recipients.values())
    code = getattr(error, "smtp_code", None)
    return isinstance(error, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) and isinstance(code, int) and code >= 500


def _give_up(email: OutboundEmail, error: Exception) -> str:
    # The error's class only: SMTP replies can quote the recipient, which is personal data.
    reason = type(error).__name__
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundEmail.Status.FAILED, last_error=reason)
    log.error("gave up on %s mail #%s after %s attempts: %s", email.kind, email.pk, email.attempts, reason)
    return "failed"


def _failed(email: OutboundEmail, error: Exception) -> str:
    reason = type(error).__name__
    if email.attempts >= settings.EMAIL_MAX_ATTEMPTS:
        return _give_up(email, error)
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundEmail.Status.PENDING, last_error=reason)
    delay = retry_delay(email.attempts)
    send_email.using(run_after=timezone.now() + delay).enqueue(email.pk)
    log.warning("%s mail #%s not sent (%s), retry in %ss", email.kind, email.pk, reason, delay.total_seconds())
    return "retry"


def requeue_stale_emails() -> int:
    """Mails claimed by a worker that died before it finished go back to the queue, unless
    they have had all their attempts (a mail that kills its worker every time must not be
    tried for ever): those are marked failed."""
    stale = OutboundEmail.objects.filter(
        status=OutboundEmail.Status.SENDING, claimed_at__lt=timezone.now() - stale_claim()
    )
    stale.filter(attempts__gte=settings.EMAIL_MAX_ATTEMPTS).update(
        status=OutboundEmail.Status.FAILED, last_error="worker stopped while sending"
    )
    count = 0
    for email_id in stale.values_list("pk", flat=True):
        if OutboundEmail.objects.filter(pk=email_id, status=OutboundEmail.Status.SENDING).update(
            status=OutboundEmail.Status.PENDING
        ):
            send_email.enqueue(email_id)
            count += 1
    return count


@task
def process_account_request(request_id: int) -> str:
    from .services.accounts import account_request_process

    return account_request_process(request_id=request_id)


@task
def waitlist_announce(slot_ids: list[int]) -> int:
    """R37: tell the wait list of slots that opened (`services.waitlist`), after the commit
    that opened them; safe to run again."""
    from .services.waitlist import waitlist_announce

    return waitlist_announce(slot_ids=slot_ids)
