"""Mail (R18, R19, R25, R30, R31): written to the outbox inside the caller's transaction,
rendered in the reader's language with the times in the therapist's zone, and sent by the task
worker (`domain.tasks.send_email`), which builds what goes over the wire (`email_message`):
the text, the same text as simple HTML beside it, and for a booking its iMIP invitation.

A booking's mails go to its client and, for what a client did, to its therapist. Both
parties' invitations are one calendar event (one UID, one SEQUENCE: `booking_ics`), so a
calendar program updates or removes it whichever mail it reads last."""

import re
from datetime import UTC, datetime
from email import policy as email_policy
from email.headerregistry import Address
from email.message import MIMEPart
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _
from icalendar import Calendar, Event, vCalAddress, vText

from ..links import links
from ..models import Booking, OutboundEmail, User
from ..timezones import local_today, moment_text, span_text

# The mails about a booking that go to its client: replies to them reach her therapist.
CLIENT_BOOKING_KINDS = frozenset({
    "booking_confirmed", "booking_cancelled", "booking_rescheduled", "booking_moved", "booking_reminder",
    "series_booked", "series_cancelled",
})


# Each mail's subject; the body is domain/templates/domain/email/<template>.txt. Both are
# gettext'ed (the Swedish in domain/locale/sv) and written in the reader's language.
SUBJECTS = {
    "booking_confirmed": _("Booking confirmed: %(when)s with %(therapist)s"),
    "booking_cancelled": _("Cancelled: %(when)s with %(therapist)s"),
    "booking_rescheduled": _("New time: %(when)s with %(therapist)s"),
    "booking_moved": _("New time: %(when)s with %(therapist)s"),
    "booking_reminder": _("Reminder: %(when)s with %(therapist)s"),
    "series_booked": _("Booked every week from %(when)s with %(therapist)s"),
    "series_cancelled": _("Cancelled from %(when)s: your weekly visits with %(therapist)s"),
    "therapist_booking_created": _("New booking: %(when)s, %(client)s"),
    "therapist_booking_cancelled": _("Cancelled: %(when)s, %(client)s"),
    "therapist_booking_erased": _("Cancelled: %(when)s"),
    "therapist_booking_moved": _("Moved: %(when)s, %(client)s"),
    "client_invitation": _("Welcome to Tidbok"),
    "email_verification": _("Confirm your e-mail address for Tidbok"),
    "password_reset": _("Choose a new password for Tidbok"),
    "signup_unfinished": _("Your Tidbok account is not confirmed yet"),
    "account_exists": _("You already have a Tidbok account"),
    "eid_account_exists": _("Someone with BankID tried to create an account with your address"),
    "waitlist_opened": _("A time with %(therapist)s is free"),
}


def _language(code: str | None) -> str:
    """The reader's language if the site speaks it (`LANGUAGES`, as Django matches a
    request's), else the site's (`LANGUAGE_CODE`, Swedish)."""
    try:
        return translation.get_supported_language_variant(code or "")
    except LookupError:
        return settings.LANGUAGE_CODE


def _render(template: str, lang: str, context: dict, subject: dict | None = None) -> tuple[str, str]:
    """A mail's subject and body in `lang`. The body's template may leave empty lines where
    a part is left out: two or more in a row are one paragraph break."""
    with translation.override(lang):
        text = render_to_string(f"domain/email/{template}.txt", {
            "site_url": settings.SITE_URL, **context,
        })
        subject = str(SUBJECTS[template]) % (subject or {})
    return subject, re.sub(r"\n{3,}", "\n\n", text.strip()) + "\n"


def booking_ics(booking: Booking, *, for_therapist: bool = False, anonymous: bool = False) -> str:
    """The booking as an iTIP message (RFC 5546) for iMIP (RFC 6047): METHOD:REQUEST while it
    stands, METHOD:CANCEL once cancelled, with the therapist as ORGANIZER and the client as
    ATTENDEE. The UID is the booking's and SEQUENCE is `booking.sequence`, which every move
    and the cancellation raise: calendar programs replace an event only by a higher one.
    Each party's copy carries her own link to the call; everything else is the same.
    `anonymous` (R41: the client erased her account) names no client: no summary of her, no
    ATTENDEE, so the mail kept in the outbox holds nothing of her."""
    cal = _calendar("REQUEST" if booking.is_confirmed else "CANCEL")
    cal.add_component(_booking_event(booking, for_therapist=for_therapist, anonymous=anonymous))
    return cal.to_ical().decode()


def _calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Tidbok//tidbok.se//")
    cal.add("version", "2.0")
    cal.add("method", method)
    return cal


def _booking_event(
    booking: Booking, *, for_therapist: bool = False, anonymous: bool = False, attendee: bool = True
) -> Event:
    """The booking's one calendar event (`booking_ics`): its UID, SEQUENCE and status."""
    therapist, client = booking.therapist, booking.client
    cancelled = not booking.is_confirmed
    event = Event()
    event.add("uid", f"booking-{booking.pk}@tidbok")
    event.add("dtstamp", timezone.now())
    # In UTC: a time read from the API carries a bare offset, which icalendar would write as
    # an undefined TZID ("UTC+01:00") that calendar programs read as a floating local time.
    event.add("dtstart", booking.start_at.astimezone(UTC))
    event.add("dtend", booking.end_at.astimezone(UTC))
    event.add("sequence", booking.sequence)
    # Her copy names the client as her feed does (first name and initial): a calendar event
    # is copied to the calendar provider's servers; the mail itself gives the whole name.
    summary = f"{client.first_name} {client.last_name[:1]}.".strip() if for_therapist else therapist.full_name
    event.add("summary", "Tidbok" if anonymous else f"Tidbok: {summary}")
    where = booking.where(for_therapist=for_therapist)
    if where.video_url:
        event.add("location", where.video_url)
        event.add("url", where.video_url)
        event.add("description", where.video_url)
    else:
        event.add("location", where.address)
        if where.personal_info:
            event.add("description", where.personal_info)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{therapist.contact_address}")
    organizer.params["cn"] = vText(therapist.full_name)
    event.add("organizer", organizer)
    # Booked, so accepted: nobody is asked to answer (RSVP=FALSE), and an answer would reach
    # the therapist's mailbox, not Tidbok.
    if attendee and not anonymous:
        person = vCalAddress(f"mailto:{client.email}")
        person.params["cn"] = vText(f"{client.first_name} {client.last_name}".strip())
        person.params["cutype"] = "INDIVIDUAL"
        person.params["role"] = "REQ-PARTICIPANT"
        person.params["partstat"] = "ACCEPTED"
        person.params["rsvp"] = "FALSE"
        event.add("attendee", person)
    return event


def series_ics(bookings: list[Booking]) -> str:
    """R32: every occurrence of a weekly series, for its client, in one calendar file: each
    occurrence is its own VEVENT with its booking's own UID and SEQUENCE (`booking_ics`'s), so
    the mail that later moves or cancels one occurrence (METHOD:REQUEST or CANCEL, one UID)
    updates exactly that event in her calendar. Not one event with an RRULE: the occurrences
    are separate bookings that move and cancel one by one, and a week the clocks change is
    already at its own instant here.

    METHOD:PUBLISH, not REQUEST: RFC 5546 lets only PUBLISH carry several components with
    different UIDs in one iCalendar object (section 3.2.1; a REQUEST or CANCEL, sections 3.2.2
    and 3.2.5, is about one UID and its recurrence instances), so a program may read only the
    first event of a REQUEST that holds several. A PUBLISH is imported as it is, which is what
    a booked (already accepted) time needs; it has no ATTENDEE (section 3.2.1 forbids one), so
    no answer is asked for. Cancelled occurrences (`series_cancel`'s mail) are published the same way with
    STATUS:CANCELLED and their raised SEQUENCE, which replaces the event by its UID."""
    cal = _calendar("PUBLISH")
    for booking in bookings:
        cal.add_component(_booking_event(booking, attendee=False))
    return cal.to_ical().decode()


def _booking_outbox(
    *, kind: str, booking: Booking, to: str, lang: str, ics: str = "", old_start: datetime | None = None,
    context: dict | None = None, for_therapist: bool = False,
) -> OutboundEmail:
    from ..tasks import send_email

    tz = booking.therapist.tz
    with translation.override(lang):
        context = {
            "booking": booking,
            "therapist": booking.therapist,
            "client": booking.client,
            "when": moment_text(booking.start_at, tz),
            "span": span_text(booking.start_at, booking.end_at, tz),
            "old_when": moment_text(old_start, tz) if old_start else "",
            "where": booking.where(for_therapist=for_therapist),
            **(context or {}),
        }
    subject, body = _render(kind, lang, context, {
        "when": context["when"], "therapist": booking.therapist.full_name, "client": context.get("client_short", ""),
    })
    email = OutboundEmail.objects.create(kind=kind, booking=booking, to=to, subject=subject, body=body, ics=ics)
    # Enqueued in the same transaction: the task row commits with the booking or not at all.
    send_email.enqueue(email.pk)
    return email


def _client_outbox(*, kind: str, booking: Booking, ics: str = "", old_start: datetime | None = None) -> OutboundEmail:
    return _booking_outbox(
        kind=kind, booking=booking, to=booking.client.email, lang=_language(booking.client.language), ics=ics,
        old_start=old_start,
    )


def email_booking_confirmed(*, booking: Booking) -> OutboundEmail:
    return _client_outbox(kind="booking_confirmed", booking=booking, ics=booking_ics(booking))


def email_booking_cancelled(*, booking: Booking) -> OutboundEmail:
    return _client_outbox(kind="booking_cancelled", booking=booking, ics=booking_ics(booking))


def email_booking_rescheduled(*, booking: Booking, old_start: datetime, old_end: datetime) -> OutboundEmail:
    return _client_outbox(kind="booking_rescheduled", booking=booking, ics=booking_ics(booking), old_start=old_start)


def email_booking_moved(*, booking: Booking, old_start: datetime, old_end: datetime) -> OutboundEmail:
    """R33: she moved her booking herself (`booking_rescheduled` says her therapist did): the
    new time, the old one, and the invitation that replaces the old one (same UID, higher
    SEQUENCE)."""
    return _client_outbox(kind="booking_moved", booking=booking, ics=booking_ics(booking), old_start=old_start)


def email_booking_reminder(*, booking: Booking) -> OutboundEmail:
    """The reminder a day before the visit, with the same details as the confirmation."""
    return _client_outbox(kind="booking_reminder", booking=booking)


def _series_outbox(*, kind: str, bookings: list[Booking]) -> OutboundEmail:
    """R32: one mail to the client about several occurrences of a series (every date, each
    with its price), with one calendar file holding them all (`series_ics`). Kept with the
    first occurrence (`OutboundEmail.booking`), so her reply goes to her therapist."""
    first = bookings[0]
    tz = first.therapist.tz
    lang = _language(first.client.language)
    with translation.override(lang):
        # Each occurrence is its own booking with its own link to the call (R29).
        rows = [{"span": span_text(b.start_at, b.end_at, tz), "price": b.price, "video_url": b.where().video_url}
                for b in bookings]
        when = moment_text(first.start_at, tz)
    return _booking_outbox(
        kind=kind, booking=first, to=first.client.email, lang=lang, ics=series_ics(bookings),
        context={"rows": rows, "when": when},
    )


def email_series_booked(*, bookings: list[Booking]) -> OutboundEmail:
    """R32: the one confirmation of a new weekly series (no per-booking confirmation goes)."""
    return _series_outbox(kind="series_booked", bookings=bookings)


def email_series_cancelled(*, bookings: list[Booking]) -> OutboundEmail:
    """R32: the one notice of a series cancelled from a date on, listing the cancelled dates."""
    return _series_outbox(kind="series_cancelled", bookings=bookings)


# To the therapist (R30) --------------------------------------------------------------------


def therapist_is_told(*, booking: Booking, actor: User | None) -> bool:
    """R30: she is told of what someone else did to a booking of hers (a client booked,
    cancelled or moved it), unless she turned it off; never of what she did herself."""
    therapist = booking.therapist
    return therapist.notify_by_email and (actor is None or actor.pk != therapist.user_id)


def _therapist_outbox(
    *, kind: str, booking: Booking, actor: User | None, old_start: datetime | None = None, anonymous: bool = False
) -> OutboundEmail | None:
    """Her mail goes to her log-in address, the one that was proven hers (R27); her contact
    address is what clients see. Her language, her zone, the client's name (never the
    personnummer), her own link to the call."""
    if not therapist_is_told(booking=booking, actor=actor):
        return None
    therapist = booking.therapist
    context = {
        "calendar_url": links().therapist_calendar(local_today(therapist.tz, booking.start_at)),
        "settings_url": links().therapist_settings(),
        "client_short": "" if anonymous else f"{booking.client.first_name} {booking.client.last_name[:1]}.".strip(),
    }
    if anonymous:
        context["client"] = None
    return _booking_outbox(
        kind=kind, booking=booking, to=therapist.user.email, lang=_language(therapist.user.language),
        ics=booking_ics(booking, for_therapist=True, anonymous=anonymous), old_start=old_start, context=context,
        for_therapist=True,
    )


def email_therapist_booking_created(*, booking: Booking, actor: User | None) -> OutboundEmail | None:
    """A client booked one of her slots."""
    return _therapist_outbox(kind="therapist_booking_created", booking=booking, actor=actor)


def email_therapist_booking_cancelled(*, booking: Booking, actor: User | None) -> OutboundEmail | None:
    """A booking of hers was cancelled by someone else (her client)."""
    return _therapist_outbox(kind="therapist_booking_cancelled", booking=booking, actor=actor)


def email_therapist_booking_erased(*, booking: Booking, actor: User | None) -> OutboundEmail | None:
    """R41: a booking of hers was cancelled because its client erased her account. The mail
    stays in the outbox after the erasure, so it names no client (no name, address or
    personnummer, not in the invitation either): she knows the visit by its time."""
    return _therapist_outbox(kind="therapist_booking_erased", booking=booking, actor=actor, anonymous=True)


def email_therapist_booking_moved(
    *, booking: Booking, actor: User | None, old_start: datetime, old_end: datetime
) -> OutboundEmail | None:
    """Her client moved a booking to another of her slots (R33), after the move is saved with
    a raised `booking.sequence`: the invitation replaces the old time in her calendar."""
    return _therapist_outbox(kind="therapist_booking_moved", booking=booking, actor=actor, old_start=old_start)


# What goes over the wire -------------------------------------------------------------------

_LINK = re.compile(r"https?://[^\s<>\"']+")
_P = 'style="margin:0 0 16px"'


def _html_line(line: str) -> str:
    """One line of the text, escaped, its addresses made links (without the full stop or
    bracket that may follow an address in a sentence)."""
    out, at = [], 0
    for match in _LINK.finditer(line):
        url = match.group(0).rstrip(".,;:!?)")
        out.append(escape(line[at:match.start()]))
        out.append(f'<a href="{escape(url)}" style="color:#1d4f91">{escape(url)}</a>')
        at = match.start() + len(url)
    out.append(escape(line[at:]))
    return "".join(out)


def email_html(subject: str, text: str) -> str:
    """The text as simple HTML, for mail programs that show HTML first: the same words, each
    paragraph a <p>, each line break a <br>, addresses as links. Inline styles only and no
    remote resource (an image or a font from elsewhere would tell a third party who read
    which mail when)."""
    paragraphs = [p for p in re.split(r"\n(?:[ \t]*\n)+", text.strip()) if p.strip()]
    body = "\n".join(f"<p {_P}>" + "<br>\n".join(_html_line(line) for line in p.split("\n")) + "</p>" for p in paragraphs)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width">'
        f"<title>{escape(subject)}</title></head>\n"
        '<body style="margin:0;padding:0;background:#f4f4f2">\n'
        '<div style="max-width:600px;margin:0 auto;padding:24px;background:#ffffff;color:#1a1a1a;'
        'font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5">\n'
        f"{body}\n</div>\n</body></html>\n"
    )


def _reply_to(email: OutboundEmail) -> list[str]:
    """A client's mail about her booking answers to her therapist (R30), not to noreply."""
    if email.booking_id is None or email.kind not in CLIENT_BOOKING_KINDS:
        return []
    therapist = email.booking.therapist
    return [str(Address(display_name=therapist.full_name, addr_spec=therapist.contact_address))]


def _calendar_method(ics: str) -> str:
    return str(Calendar.from_ical(ics)["method"])


class _Mail(EmailMessage):
    """Django's message with the body built here: no part in 8 bits (a server without
    8BITMIME may refuse or mangle it), so every text part is quoted-printable and the
    calendar file base64; the invitation beside the text and HTML as iMIP has it
    (`text/calendar; charset=utf-8; method=…`, the method the calendar's own METHOD), and
    once more as a file for programs that only offer attachments."""

    def __init__(self, *, html: str, ics: str, **kwargs):
        super().__init__(**kwargs)
        self.html, self.ics = html, ics

    def message(self, *, policy=email_policy.default):
        msg = super().message(policy=policy)
        msg.clear_content()
        msg.set_content(self.body, subtype="plain", charset="utf-8", cte="quoted-printable")
        msg.add_alternative(self.html, subtype="html", charset="utf-8", cte="quoted-printable")
        if self.ics:
            invitation = MIMEPart(policy=policy)
            invitation.set_content(self.ics, subtype="calendar", charset="utf-8", cte="quoted-printable")
            # Written as RFC 6047 shows it: Python's email package would quote every parameter.
            del invitation["Content-Type"]
            invitation.set_raw("Content-Type", f"text/calendar; charset=utf-8; method={_calendar_method(self.ics)}")
            msg.attach(invitation)
            msg.add_attachment(self.ics.encode(), maintype="application", subtype="ics", filename="tidbok.ics")
        return msg


def email_message(email: OutboundEmail) -> EmailMessage:
    """What the worker sends for one outbox row."""
    return _Mail(
        subject=email.subject, body=email.body, to=[email.to], reply_to=_reply_to(email),
        html=email_html(email.subject, email.body), ics=email.ics, headers={"Message-ID": message_id(email)},
    )


def message_id(email: OutboundEmail) -> str:
    """One Message-ID per outbox row, the same on every attempt: a mail sent again after a
    worker died between the server's 250 and its own UPDATE (docs/deploy.md) is then the same
    message, which receiving systems and mail programs can recognise as a repeat."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "tidbok"
    return f"<outbox-{email.pk}.{email.created_at:%Y%m%d%H%M%S}@{domain}>"


def _outbox_to_person(*, kind: str, to: str, lang: str | None, context: dict, template: str = "") -> OutboundEmail:
    """A mail about an account rather than a booking, written to the outbox in the caller's
    transaction like the others (`template` when it is not the kind's own)."""
    from ..tasks import send_email

    subject, body = _render(template or kind, _language(lang), context)
    email = OutboundEmail.objects.create(kind=kind, to=to, subject=subject, body=body)
    send_email.enqueue(email.pk)
    return email


def set_password_url(user) -> str:
    """A one-time link to choose a password (Django's default_token_generator: it stops
    working once the password is set, and after PASSWORD_RESET_TIMEOUT)."""
    from django.contrib.auth.tokens import default_token_generator

    return links().password_set(user, default_token_generator.make_token(user))


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
    from .accounts import email_verification_token

    link = links().email_verify(user, email_verification_token.make_token(user), next_url)
    context = {"user": user, "link": link, "days": settings.PASSWORD_RESET_TIMEOUT // 86400}
    return _outbox_to_person(kind="email_verification", to=user.email, lang=user.language, context=context)


def email_signup_unfinished(*, user) -> OutboundEmail:
    """A password reset for a sign-up whose address was never confirmed: sign up again (the
    newest sign-up replaces an unconfirmed one)."""
    return _outbox_to_person(
        kind="password_reset", template="signup_unfinished", to=user.email, lang=user.language,
        context={"user": user, "signup": links().sign_up()},
    )


def email_account_exists(*, user) -> OutboundEmail:
    """Someone signed up with an address that has an account: its owner is told (the page
    said the same as to anyone, R26), with the ways in."""
    return _outbox_to_person(
        kind="account_exists", to=user.email, lang=user.language,
        context={"user": user, "login": links().log_in(), "reset": links().password_reset()},
    )


# The eID note's kind: `services.eid` counts these per address to send at most a few.
EID_NOTE_KIND = "eid_account_exists"


def email_eid_account_exists(*, user) -> OutboundEmail:
    """Someone who logged in with an eID tried to create an account with this address, which
    has one: its owner is told how to connect the eID to it, if it was she."""
    return _outbox_to_person(
        kind=EID_NOTE_KIND, to=user.email, lang=user.language,
        context={"user": user, "login": links().log_in_to_connect_eid(), "reset": links().password_reset()},
    )


def email_password_reset(*, user) -> OutboundEmail:
    return _outbox_to_person(
        kind="password_reset",
        to=user.email,
        lang=getattr(user, "language", None),
        context={"user": user, "link": set_password_url(user)},
    )


def email_waitlist_opened(*, client, therapist, slots: list) -> OutboundEmail:
    """R37: one mail to a wait-listed client (her day's one, `services.waitlist`) naming the
    open slots that suit her, earliest first, each with its link straight to booking it."""
    from ..tasks import send_email

    lang = _language(client.language)
    tz = therapist.tz
    with translation.override(lang):
        rows = [{"span": span_text(s.start_at, s.end_at, tz), "price": s.price, "kinds": str(s.kinds_for_client),
                 "link": links().book(s.pk)} for s in sorted(slots, key=lambda s: s.start_at)]
    subject, body = _render("waitlist_opened", lang, {
        "client": client, "therapist": therapist, "rows": rows, "leave_url": links().waitlist(),
    }, {"therapist": therapist.full_name})
    email = OutboundEmail.objects.create(kind="waitlist_opened", to=client.email, subject=subject, body=body)
    send_email.enqueue(email.pk)
    return email
