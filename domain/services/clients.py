"""Clients: one person per personnummer on the whole platform (R12, R24)."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import personnummer as pnr
from ..models import Client, ClientLink, OutboundEmail, Therapist, User
from .audit import audit_write, client_snapshot
from .emails import email_client_invitation

# A second invitation to the same address within this time is not sent (a sign-up form
# submitted again and again must not flood a person's mailbox).
INVITATION_QUIET = timedelta(minutes=10)


def clean_name(value, field: str) -> str:
    value = str(value or "").strip()
    if not value:
        raise ValidationError({field: _("This field is required.")})
    reject_nul(value, field)
    if len(value) > 150:
        raise ValidationError({field: _("At most 150 characters.")})
    return value


def reject_nul(value: str, field: str) -> None:
    """PostgreSQL cannot store a NUL character (it would fail as a 500); Django's form fields
    refuse it likewise."""
    if "\x00" in value:
        raise ValidationError({field: _("Null characters are not allowed.")})


def clean_email(value, field: str = "email") -> str:
    value = str(value or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError:
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
    """R12: the therapist adds her own client. A person already on the platform (same
    personnummer) is linked, not duplicated, and nothing of her other therapists is shown;
    the details the person has on file stay as they are."""
    first_name = clean_name(first_name, "first_name")
    last_name = clean_name(last_name, "last_name")
    number = clean_personnummer(personnummer)
    email = clean_email(email)
    phone = str(phone or "").strip()[:40]
    reject_nul(phone, "phone")

    with transaction.atomic():
        client = Client.objects.filter(personnummer=number).first()
        if client is None:
            if Client.objects.filter(email=email).exists():
                raise ValidationError({"email": _("Another client already uses this e-mail address.")})
            client = Client(first_name=first_name, last_name=last_name, personnummer=number, email=email, phone=phone)
            try:
                with transaction.atomic():
                    client.save()
            except IntegrityError:
                # Another therapist added the same person a moment ago: link to her.
                client = Client.objects.filter(personnummer=number).first()
                if client is None:
                    raise ValidationError({"email": _("Another client already uses this e-mail address.")})
        link, created = ClientLink.objects.get_or_create(
            therapist=therapist, client=client, defaults={"source": ClientLink.Source.OWN}
        )
        if created:
            audit_write(
                actor=actor, action="client.added", target=client, therapist_id=therapist.pk,
                after=client_snapshot(client, link.source),
            )
            client_invite(client=client, therapist=therapist, actor=actor)
    client.source = link.source
    return client


def client_invite(*, client: Client, therapist: Therapist | None, actor: User | None, quiet: bool = False) -> bool:
    """Invite a client who cannot log in yet to choose a password: she gets a login with no
    usable password (so nobody can log in as her before she has chosen one) and a one-time
    set-password link, mailed to the address on file only. Call inside the transaction that
    adds her, so the mail exists exactly when she does. Answers whether a mail was written:
    not for a client who has a password, nor when her address is another login's, nor (with
    `quiet`) when she was invited moments ago."""
    user = client.user
    if user is not None and user.has_usable_password():
        return False
    if user is None:
        if User.objects.filter(email=client.email).exists():
            return False
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=client.email, password=None, first_name=client.first_name,
                    last_name=client.last_name, language=client.language,
                )
        except IntegrityError:
            return False  # the address became a login a moment ago
        client.user = user
        client.save(update_fields=["user"])
    if quiet and OutboundEmail.objects.filter(
        kind="client_invitation", to=client.email, created_at__gte=timezone.now() - INVITATION_QUIET
    ).exists():
        return False
    email_client_invitation(client=client, therapist=therapist)
    audit_write(actor=actor, action="client.invited", target=client, therapist_id=therapist.pk if therapist else None)
    return True
