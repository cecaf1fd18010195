"""eID log-in (R26, R27): what a personnummer proven by BankID/Freja through an OpenID Connect
broker does. The surface (`tidbok/eid.py`) proves it; these functions only act on it.

- A logged-in client connects her account (`eid_connect`): her personnummer becomes verified
  and every therapist's record of it that nobody has joined becomes hers.
- A visitor whose verified personnummer an account already carries is that account
  (`eid_account`).
- A visitor nobody knows creates an account by giving an e-mail address
  (`eid_account_request`); whether the address is known is not told (R26): both branches
  end on the same page, and the mailbox learns what happened."""

import hashlib
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import personnummer as pnr
from ..models import Client, OutboundEmail, User
from ..privacy import POLICY_VERSION
from .accounts import (
    AccountRequestsThrottled,
    account_request_rate,
    clean_next_url,
    is_waiting_for_verification,
    mail_allowed,
)
from .audit import audit_write
from .clients import clean_email, clean_name, clean_personnummer, client_personnummer_verify
from .emails import EID_NOTE_KIND, email_eid_account_exists
from .throttle import rate_hit

# Mails to an address that has an account when someone with BankID tried to make another
# with it: at most this many within this long, so nobody floods a mailbox through the form.
EID_NOTE_LIMIT = (1, timedelta(minutes=10))


def eid_personnummer(value) -> str:
    """The personnummer a broker's claim holds, in our normal form (YYYYMMDD-NNNN).

    Only the 12-digit form is taken: Swedish brokers give the century, and a 10-digit number
    could be another country's identity number (a Danish CPR number is DDMMYY-SSSS) that
    happens to pass the Swedish checks. Raises ValidationError."""
    raw = str(value or "").strip() if isinstance(value, str | int) else ""
    if sum(c.isdigit() for c in raw) != 12:
        raise ValidationError(_("The eID gave no Swedish personnummer."), code="invalid_length")
    return pnr.normalize(raw)


def eid_account(personnummer: str) -> User | None:
    """The active account whose client profile carries this personnummer, verified."""
    number = clean_personnummer(personnummer)
    return User.objects.filter(
        client__personnummer=number, client__personnummer_verified=True, is_active=True
    ).first()


def eid_connect(*, user: User, personnummer: str) -> Client:
    """A logged-in client proved this personnummer with an eID: it becomes her verified one
    (`client_personnummer_verify`: records of it join her). Refused, changing nothing, for an
    account that is no client's, one verified with another number, and when another account
    holds this number verified."""
    number = clean_personnummer(personnummer)
    profile = Client.objects.filter(user=user).first()
    if profile is None or hasattr(user, "therapist"):
        raise ValidationError(_("Only a client's account can be connected to BankID."))
    if profile.personnummer_verified and profile.personnummer != number:
        raise ValidationError(_("Your account is already verified with another personnummer."))
    return client_personnummer_verify(user=user, personnummer=number)


def eid_account_request(
    *,
    email: str,
    personnummer: str,
    first_name: str,
    last_name: str,
    language: str = "sv",
    next_url: str = "",
    source: str,
    accept_privacy_policy: str = "",
) -> str:
    """Someone proved `personnummer` with an eID, no account carries it verified, and she
    gives an e-mail address for a new account. The caller answers the same page either way
    (R26); the mailbox learns what happened:

    - Nobody has the address (or only a sign-up nobody confirmed, which the newest request
      replaces, as a sign-up does): a new client account with no password, its personnummer
      verified (records of it join her), and a verification link to the address. Following
      the link proves the mailbox and logs her in (R27); until then she logs in with the eID.
    - The address has an account: its owner gets a short note (at most EID_NOTE_LIMIT)
      saying how to connect the eID to it herself; nothing changes.

    Answers "created" or "exists" (for tests; never shown). At most ACCOUNT_REQUESTS_PER_HOUR
    from one source address, shared with sign-ups."""
    from .emails import email_verification

    if not rate_hit(account_request_rate(), source):
        raise AccountRequestsThrottled
    email = clean_email(email)
    number = clean_personnummer(personnummer)
    first_name = clean_name(first_name, "first_name")
    last_name = clean_name(last_name, "last_name")
    language = language if language in ("sv", "en") else "sv"
    next_url = clean_next_url(next_url)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email=email).first()
        if user is not None and not is_waiting_for_verification(user):
            if _note_allowed(user.email):
                email_eid_account_exists(user=user)
            return "exists"
        if user is not None:
            # A sign-up nobody confirmed (perhaps typed by someone else): nothing happened in
            # it, and its link only ever went to the mailbox. The newest request wins.
            Client.objects.filter(user=user).delete()
            user.delete()
        user = User(email=email, first_name=first_name, last_name=last_name, language=language, email_verified=False)
        if accept_privacy_policy == POLICY_VERSION:  # the page's consent (docs/privacy.md)
            user.privacy_policy_version, user.privacy_policy_accepted_at = POLICY_VERSION, timezone.now()
        user.set_unusable_password()  # she logs in with the eID, or chooses a password by a reset
        user.save()
        client = Client.objects.create(
            user=user, first_name=first_name, last_name=last_name, email=email, language=language
        )
        audit_write(actor=user, action="client.signed_up_eid", target=client)
        client_personnummer_verify(user=user, personnummer=number)
        if mail_allowed("email_verification", email):
            email_verification(user=user, next_url=next_url)
    return "created"


def _note_allowed(to: str) -> bool:
    limit, window = EID_NOTE_LIMIT
    recent = OutboundEmail.objects.filter(kind=EID_NOTE_KIND, to=to, created_at__gte=timezone.now() - window)
    return recent.count() < limit


# The browser that proved a personnummer and asked for a new account keeps this mark in its
# session, so that the verification link opened in that browser logs her in; opened anywhere
# else it only confirms the address (someone mailed a link to an account that is not hers).
EID_PROOF_SESSION_KEY = "eid_signup_proof"


def eid_proof(personnummer: str) -> str:
    return hashlib.sha256(f"tidbok-eid-proof:{personnummer}".encode()).hexdigest()
