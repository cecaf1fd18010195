"""Mail to clients (R19, R18, R25): written to the outbox inside the caller's transaction,
rendered in the client's language with the time in the therapist's zone, with an .ics made
by the icalendar package, and sent by the task worker (`domain.tasks.send_email`)."""

from datetime import UTC, datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from icalendar import Calendar, Event, vCalAddress, vText

from ..models import ONSITE, VIDEO, Booking, OutboundEmail


def local_when(dt: datetime, booking: Booking, lang: str) -> str:
    """"tisdag 1 december 2026 kl. 09:00" / "Tuesday 1 December 2026 at 09:00"."""
    local = timezone.localtime(dt, booking.therapist.tz)
    with translation.override(lang):
        day = formats.date_format(local, "l j F Y")
        clock = local.strftime("%H:%M")
    return f"{day} kl. {clock}" if lang == "sv" else f"{day} at {clock}"


def booking_ics(booking: Booking, *, cancelled: bool = False) -> str:
    """One VEVENT with a stable UID, so a reschedule (higher SEQUENCE) replaces the event and
    a cancellation (METHOD:CANCEL) removes it in the client's calendar program."""
    cal = Calendar()
    cal.add("prodid", "-//Tidbok//tidbok.se//")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")
    therapist = booking.therapist
    event = Event()
    event.add("uid", f"booking-{booking.pk}@tidbok")
    event.add("dtstamp", timezone.now())
    # In UTC: a time read from the API carries a bare offset, which icalendar would write as
    # an undefined TZID ("UTC+01:00") that calendar programs read as a floating local time.
    event.add("dtstart", booking.start_at.astimezone(UTC))
    event.add("dtend", booking.end_at.astimezone(UTC))
    event.add("sequence", booking.sequence + (1 if cancelled else 0))
    event.add("summary", f"Tidbok: {therapist.full_name}")
    if booking.mode == VIDEO:
        event.add("location", booking.video_url)
        event.add("url", booking.video_url)
        event.add("description", booking.video_url)
    else:
        event.add("location", therapist.reception_address)
        event.add("description", therapist.personal_info)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{therapist.user.email}")
    organizer.params["cn"] = vText(therapist.full_name)
    event.add("organizer", organizer)
    cal.add_component(event)
    return cal.to_ical().decode()


def _outbox(*, kind: str, booking: Booking, context: dict, ics: str = "") -> OutboundEmail:
    from ..tasks import send_email

    lang = booking.client.language if booking.client.language in ("sv", "en") else "sv"
    context = {
        "booking": booking,
        "therapist": booking.therapist,
        "client": booking.client,
        "when": local_when(booking.start_at, booking, lang),
        "end_clock": timezone.localtime(booking.end_at, booking.therapist.tz).strftime("%H:%M"),
        "is_video": booking.mode == VIDEO,
        "is_onsite": booking.mode == ONSITE,
        "site_url": settings.SITE_URL,
        **context,
    }
    subject, _, body = render_to_string(f"domain/email/{kind}.{lang}.txt", context).strip().partition("\n")
    email = OutboundEmail.objects.create(
        kind=kind, booking=booking, to=booking.client.email, subject=subject.strip(), body=body.strip() + "\n", ics=ics
    )
    # Enqueued in the same transaction: the task row commits with the booking or not at all.
    send_email.enqueue(email.pk)
    return email


def email_booking_confirmed(*, booking: Booking) -> OutboundEmail:
    return _outbox(kind="booking_confirmed", booking=booking, context={}, ics=booking_ics(booking))


def email_booking_cancelled(*, booking: Booking) -> OutboundEmail:
    return _outbox(kind="booking_cancelled", booking=booking, context={}, ics=booking_ics(booking, cancelled=True))


def email_booking_rescheduled(*, booking: Booking, old_start: datetime, old_end: datetime) -> OutboundEmail:
    lang = booking.client.language
    return _outbox(
        kind="booking_rescheduled",
        booking=booking,
        context={"old_when": local_when(old_start, booking, lang)},
        ics=booking_ics(booking),
    )


def email_booking_reminder(*, booking: Booking) -> OutboundEmail:
    """The reminder a day before the visit, with the same details as the confirmation."""
    return _outbox(kind="booking_reminder", booking=booking, context={})


def _outbox_to_person(*, kind: str, to: str, lang: str, context: dict) -> OutboundEmail:
    """A mail about an account rather than a booking, written to the outbox in the caller's
    transaction like the others."""
    from ..tasks import send_email

    lang = lang if lang in ("sv", "en") else "sv"
    text = render_to_string(f"domain/email/{kind}.{lang}.txt", {"site_url": settings.SITE_URL, **context})
    subject, _, body = text.strip().partition("\n")
    email = OutboundEmail.objects.create(kind=kind, to=to, subject=subject.strip(), body=body.strip() + "\n")
    send_email.enqueue(email.pk)
    return email


def set_password_url(user) -> str:
    """A one-time link to choose a password (Django's default_token_generator: it stops
    working once the password is set, and after PASSWORD_RESET_TIMEOUT)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse(
        "client_pages:password_set",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)},
    )
    return f"{settings.SITE_URL}{path}"


def email_client_invitation(*, client, therapist, link: str) -> OutboundEmail:
    """An own client (R12) is invited to join her therapist's record to an account (R26):
    following the link proves the mailbox."""
    return _outbox_to_person(
        kind="client_invitation",
        to=client.email,
        lang=client.language,
        context={"client": client, "therapist": therapist, "link": link,
                 "days": settings.INVITATION_MAX_AGE_DAYS},
    )


def email_verification(*, user, next_url: str = "") -> OutboundEmail:
    """R27: the link that proves a new account's address (and returns to `next_url`)."""
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlencode, urlsafe_base64_encode

    from .accounts import email_verification_token

    path = reverse(
        "client_pages:verify_email",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": email_verification_token.make_token(user)},
    )
    if next_url:
        path += "?" + urlencode({"next": next_url})
    context = {"user": user, "link": f"{settings.SITE_URL}{path}", "days": settings.PASSWORD_RESET_TIMEOUT // 86400}
    return _outbox_to_person(kind="email_verification", to=user.email, lang=user.language, context=context)


def email_signup_unfinished(*, user) -> OutboundEmail:
    """A password reset for a sign-up whose address was never confirmed: sign up again (the
    newest sign-up replaces an unconfirmed one)."""
    from django.urls import reverse

    return _outbox_to_person(
        kind="password_reset", to=user.email, lang=user.language,
        context={"user": user, "unfinished": True, "signup": f"{settings.SITE_URL}{reverse('client_pages:signup')}"},
    )


def email_account_exists(*, user) -> OutboundEmail:
    """Someone signed up with an address that has an account: its owner is told (the page
    said the same as to anyone, R26), with the ways in."""
    from django.urls import reverse

    return _outbox_to_person(
        kind="account_exists", to=user.email, lang=user.language,
        context={"user": user, "login": f"{settings.SITE_URL}{reverse('login')}",
                 "reset": f"{settings.SITE_URL}{reverse('client_pages:password_reset')}"},
    )


def email_password_reset(*, user) -> OutboundEmail:
    return _outbox_to_person(
        kind="password_reset",
        to=user.email,
        lang=getattr(user, "language", "sv"),
        context={"user": user, "link": set_password_url(user)},
    )
