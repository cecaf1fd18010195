"""Clients (R12, R24, R26): a therapist's own records, their invitations, and joining a record
to the person's platform account.

R26 in one sentence: a typed personnummer proves nothing. Adding a client therefore always
makes a new record holding exactly what the therapist typed, and nothing stored elsewhere is
looked up, linked or shown. The record joins the person's account only when the person
proves it is hers: by following the invitation mailed to the address the therapist typed
(`client_invitation_accept`), or by an eID log-in whose verified personnummer matches
(`client_personnummer_verify`)."""

import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import personnummer as pnr
from ..locking import in_transaction
from ..models import NAME_MAX_LENGTH, PHONE_MAX_LENGTH, Booking, BookingSeries, Client, ClientLink, OutboundEmail, Therapist, User
from ..text import clean_text, has_control_characters
from .access_log import access_log_carry
from .audit import audit_write, client_snapshot
from .throttle import Rate, rate_hit

LINK_IN_NAME = re.compile(r"://|www\.|@", re.IGNORECASE)


def clean_name(value, field: str) -> str:
    """A person's name: no control characters, and nothing that makes a link or an address
    of it (names are written into mails sent in Tidbok's name)."""
    value = clean_text(value, field, max_length=NAME_MAX_LENGTH, required=True)
    if LINK_IN_NAME.search(value):
        raise ValidationError({field: _("A name cannot hold a web or e-mail address.")})
    return value


class InvitationsThrottled(Exception):
    """A therapist sent INVITATIONS_PER_THERAPIST_PER_DAY invitations in the last day."""


def invitation_rate() -> Rate:
    return Rate("invitation", settings.INVITATIONS_PER_THERAPIST_PER_DAY, timedelta(days=1))


# At most this many invitations reach one address in a day, from all therapists together.
INVITATIONS_PER_ADDRESS_PER_DAY = 3


def clean_email(value, field: str = "email") -> str:
    """An address as mail programs write it: Django's check, and no quoted local part (which
    may hold control characters and spaces that end up in mail headers and logs)."""
    value = str(value or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError({field: _("Enter a valid e-mail address.")})
    if '"' in value or has_control_characters(value):
        raise ValidationError({field: _("Enter a valid e-mail address.")})
    return value


def clean_personnummer(value, field: str = "personnummer") -> str:
    try:
        return pnr.normalize(value)
    except ValidationError as e:
        raise ValidationError({field: e.messages})


def client_add(
    *,
    therapist: Therapist,
    actor: User | None,
    first_name: str,
    last_name: str,
    personnummer: str,
    email: str,
    phone: str = "",
) -> Client:
    """R12, R26: the therapist adds her own client: a new record of what she typed, on her
    list as `own`, and an invitation mailed to the address she typed (in the same
    transaction, so the mail exists exactly when the record does). The answer is what she
    typed, whoever else Tidbok knows: she learns nothing of other records or accounts.
    The one refusal that reads anything is her own list: the same personnummer typed twice
    for her own records is a mistake she is told of."""
    first_name = clean_name(first_name, "first_name")
    last_name = clean_name(last_name, "last_name")
    number = clean_personnummer(personnummer)
    email = clean_email(email)
    phone = clean_text(phone, "phone", max_length=PHONE_MAX_LENGTH)

    with transaction.atomic():
        # Her row serialises her own adds, so a double click cannot make two records.
        Therapist.objects.select_for_update().filter(pk=therapist.pk).first()
        if ClientLink.objects.filter(
            therapist=therapist, source=ClientLink.Source.OWN, client__personnummer=number
        ).exists():
            raise ValidationError({"personnummer": _("A client with this personnummer is already on your list.")})
        client = Client.objects.create(
            first_name=first_name, last_name=last_name, personnummer=number, email=email, phone=phone
        )
        link = ClientLink.objects.create(therapist=therapist, client=client, source=ClientLink.Source.OWN)
        audit_write(
            actor=actor, action="client.added", target=client, therapist_id=therapist.pk,
            after=client_snapshot(client, link.source),
        )
        client.invited = client_invitation_send(client=client, therapist=therapist, actor=actor)
    client.source = link.source
    return client


# The invitation link ------------------------------------------------------------------------

INVITATION_SALT = "tidbok.client-invitation"


def _email_hash(email: str) -> str:
    # The link must not carry the address itself (links end up in logs and browser histories).
    return hashlib.sha256(email.lower().encode()).hexdigest()[:24]


def invitation_token(client: Client) -> str:
    """A signed token naming the record and (by a hash) the address it was sent to: it stops
    working when the record is joined or its address changed, and after
    INVITATION_MAX_AGE_DAYS. A random part makes it unguessable even to someone who saw its
    signature (a log line, a Referer) and knows the record's id and the address."""
    return signing.dumps({"c": client.pk, "e": _email_hash(client.email), "n": secrets.token_urlsafe(16)},
                         salt=INVITATION_SALT)


def invitation_record(token: str) -> Client | None:
    """The record a still-valid invitation is for, or None."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE_DAYS * 24 * 3600)
        client_id, email_hash = int(data["c"]), str(data["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    client = Client.objects.filter(pk=client_id, user__isnull=True).first()
    if client is None or _email_hash(client.email) != email_hash:
        return None
    return client


def client_invitation_send(*, client: Client, therapist: Therapist, actor: User | None) -> bool:
    """Mail the invitation to a record nobody has joined yet (again, if she lost it). Answers
    whether it was written: not when the address has had INVITATIONS_PER_ADDRESS_PER_DAY
    today (so nobody's mailbox is flooded through Tidbok). Raises InvitationsThrottled past
    the therapist's daily allowance: therapist sign-up is open, and each invitation is a
    mail in Tidbok's name to an address she typed."""
    from .emails import email_client_invitation

    if client.user_id is not None:
        return False
    if not rate_hit(invitation_rate(), str(therapist.pk)):
        raise InvitationsThrottled
    recent = OutboundEmail.objects.filter(
        kind="client_invitation", to=client.email, created_at__gte=timezone.now() - timedelta(days=1)
    )
    if recent.count() >= INVITATIONS_PER_ADDRESS_PER_DAY:
        return False
    email_client_invitation(client=client, therapist=therapist, link=invitation_url(client))
    audit_write(actor=actor, action="client.invited", target=client, therapist_id=therapist.pk)
    return True


def invitation_url(client: Client) -> str:
    from ..links import links

    return links().invitation(invitation_token(client))


def invitation_account(client: Client) -> User | None:
    """The account that already holds the invited address, if any."""
    return User.objects.filter(email=client.email.lower()).first()


def client_invitation_accept(*, record: Client, password: str | None = None, user: User | None = None) -> User:
    """The invitation was followed, which proves the mailbox: the record joins the account of
    that address, and the address counts as verified (R27).

    - An account someone uses exists (its address verified, or an eID's): `user` must be it,
      logged in (the link alone is not a log-in to an account in use); the record is merged
      into her client profile.
    - No account, or only a sign-up nobody verified (perhaps not hers): she chooses `password`
      here, nobody may be logged in as someone else, and nothing of that sign-up is kept but
      the address: its profile goes, and the therapist's record becomes the account's."""
    from .accounts import is_waiting_for_verification

    with transaction.atomic():
        record = Client.objects.select_for_update().filter(pk=record.pk, user__isnull=True).first()
        if record is None:
            raise ValidationError(_("This invitation has already been accepted. Log in instead."))
        account = User.objects.select_for_update().filter(email=record.email.lower()).first()
        if account is not None and not is_waiting_for_verification(account):
            if user is None or user.pk != account.pk:
                raise ValidationError(_("Log in to the account with this e-mail address to accept the invitation."))
            if not account.email_verified:
                User.objects.filter(pk=account.pk).update(email_verified=True)
                account.email_verified = True
        else:
            if user is not None:
                raise ValidationError(_("You are logged in as someone else. Log out to accept this invitation."))
            if password is None:
                raise ValidationError({"password": _("Choose a password.")})
            if account is None:
                account = User(email=record.email.lower(), language=record.language)
            else:
                Client.objects.filter(user=account).delete()
                Therapist.objects.filter(user=account).delete()
            account.first_name, account.last_name = record.first_name, record.last_name
            account.password = make_password(password)
            account.email_verified = True
            account.save()
        if hasattr(account, "therapist"):
            raise ValidationError(_("This address belongs to a therapist's account. Ask your therapist to use another."))
        profile = Client.objects.filter(user=account).first()
        if profile is None:
            record.user = account
            record.save(update_fields=["user"])
            audit_write(actor=account, action="client.joined", target=record)
        else:
            client_merge(record=record, into=profile, actor=account)
    return account


@in_transaction
def client_merge(*, record: Client, into: Client, actor: User | None) -> Client:
    """Join a therapist's record to the person's account: its bookings and list entries move
    to her client profile and the record goes. A list that has her already keeps one entry,
    `own` (her therapist added her). What the profile lacks (a personnummer, a phone) is taken
    from the record, unverified. Call inside a transaction; locks both rows, lower id first,
    as every other writer of a client does."""
    assert record.user_id is None and record.pk != into.pk
    first, second = sorted((record.pk, into.pk))
    locked = {c.pk: c for c in Client.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
    record, into = locked[record.pk], locked[into.pk]
    Booking.objects.filter(client=record).update(client=into)
    BookingSeries.objects.filter(client=record).update(client=into)  # R32: with their bookings
    for link in ClientLink.objects.filter(client=record):
        existing = ClientLink.objects.filter(therapist_id=link.therapist_id, client=into).first()
        if existing is None:
            ClientLink.objects.filter(pk=link.pk).update(client=into)
        else:
            if link.source == ClientLink.Source.OWN and existing.source != link.source:
                ClientLink.objects.filter(pk=existing.pk).update(source=ClientLink.Source.OWN)
            link.delete()
        audit_write(actor=actor, action="client.joined", target=into, therapist_id=link.therapist_id,
                    after={"record_id": record.pk})
    fill = {}
    if not into.personnummer and record.personnummer:
        fill["personnummer"] = record.personnummer
    if not into.phone and record.phone:
        fill["phone"] = record.phone
    if fill:
        Client.objects.filter(pk=into.pk).update(**fill)
        for field, value in fill.items():
            setattr(into, field, value)
    # R39: the reads of the record are hers to see now (copied: the log is never updated).
    access_log_carry(from_client_id=record.pk, to_client_id=into.pk)
    record.delete()
    return into


def client_personnummer_verify(*, user: User, personnummer: str) -> Client:
    """An eID log-in proved that `user` is the person with this personnummer (R26, R27): her
    client profile carries it, verified, and unique (another account that only typed it
    loses it: a verified one wins). Every therapist's record of that personnummer that nobody
    has joined is joined to her. Refuses when another account holds it verified already."""
    number = clean_personnummer(personnummer)
    with transaction.atomic():
        holder = Client.objects.select_for_update().filter(personnummer=number, personnummer_verified=True).first()
        if holder is not None and holder.user_id != user.pk:
            raise ValidationError({"personnummer": _("Another account is already verified with this personnummer.")})
        profile = Client.objects.select_for_update().filter(user=user).first()
        if profile is None:
            profile = Client.objects.create(
                user=user, first_name=user.first_name, last_name=user.last_name, email=user.email, language=user.language
            )
        Client.objects.filter(personnummer=number, personnummer_verified=False, user__isnull=False).exclude(
            pk=profile.pk
        ).update(personnummer="")
        Client.objects.filter(pk=profile.pk).update(personnummer=number, personnummer_verified=True)
        profile.personnummer, profile.personnummer_verified = number, True
        audit_write(actor=user, action="client.personnummer_verified", target=profile)
        for record in Client.objects.filter(personnummer=number, user__isnull=True):
            client_merge(record=record, into=profile, actor=user)
    return profile
