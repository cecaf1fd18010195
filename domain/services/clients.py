"""Clients: one person per personnummer on the whole platform (R12, R24)."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .. import personnummer as pnr
from ..models import Client, ClientLink, Therapist, User
from .audit import audit_write, client_snapshot


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
    client.source = link.source
    return client
