"""Accounts: sign-up, API tokens with login throttling, Client Booster."""

import secrets
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import ApiToken, Client, LoginFailure, Therapist, User
from ..rows import Columns, fetch, instances
from .audit import audit_write
from .clients import clean_email, clean_name, clean_personnummer, client_invite


class SignupInvitationSent(ValidationError):
    """The person is on the platform already (a therapist added her) but has not chosen a
    password: nothing was created, and a set-password link went to the address on file."""


class LoginThrottled(Exception):
    """Too many failed logins for one address within the window."""


class LoginFailed(Exception):
    pass


def account_signup(
    *,
    role: str,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    personnummer: str | None = None,
    language: str = "sv",
) -> User:
    """A new therapist or client, never a second record of a person already on the platform.

    A client whose personnummer (or, failing that, e-mail address) is already on file is that
    same person. If she has a password she is told to log in. If she has none yet (a
    therapist added her), she is never joined on what she typed — a personnummer and an
    e-mail address are no secrets, and the record holds her bookings: instead the
    set-password link goes to the address on file (`SignupInvitationSent`), and whoever
    can read that mailbox becomes her login."""
    if role not in ("therapist", "client"):
        raise ValidationError({"role": _('The role must be "therapist" or "client".')})
    email = clean_email(email)
    first_name = clean_name(first_name, "first_name")
    last_name = clean_name(last_name, "last_name")
    language = language if language in ("sv", "en") else "sv"
    number = clean_personnummer(personnummer) if role == "client" else None
    if role == "client":
        _refuse_a_known_person(number=number, email=email)
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": _("An account with this e-mail address already exists.")})
    candidate = User(email=email, first_name=first_name, last_name=last_name, language=language)
    try:
        validate_password(password or "", user=candidate)
    except ValidationError as e:
        raise ValidationError({"password": e.messages})

    with transaction.atomic():
        if role == "client" and Client.objects.filter(Q(personnummer=number) | Q(email=email)).exists():
            # Added by a therapist a moment ago: the next attempt takes the invitation path.
            raise ValidationError({"personnummer": _("This person is already on Tidbok. Try again.")})
        user = User.objects.create_user(
            email=email, password=password, first_name=first_name, last_name=last_name, language=language
        )
        if role == "therapist":
            therapist = Therapist.objects.create(user=user)
            audit_write(actor=user, action="therapist.signed_up", target=therapist, therapist_id=therapist.pk)
        else:
            client = Client.objects.create(
                user=user, personnummer=number, first_name=first_name, last_name=last_name, email=email, language=language
            )
            audit_write(actor=user, action="client.signed_up", target=client)
    return user


def _refuse_a_known_person(*, number: str, email: str) -> None:
    field = "personnummer"
    person = Client.objects.select_related("user").filter(personnummer=number).first()
    if person is None:
        field = "email"
        person = Client.objects.select_related("user").filter(email=email).first()
    if person is None:
        return
    if person.user is not None and person.user.has_usable_password():
        if field == "personnummer":
            raise ValidationError(
                {"personnummer": _("This personnummer already has an account. Log in, or reset your password.")}
            )
        raise ValidationError({"email": _("An account with this e-mail address already exists.")})
    with transaction.atomic():
        person = Client.objects.select_for_update(of=("self",)).select_related("user").get(pk=person.pk)
        client_invite(client=person, therapist=None, actor=None, quiet=True)
    raise SignupInvitationSent(
        {field: _("You are already a client on Tidbok. We have sent a link to choose your password to the "
                  "e-mail address your therapist has on file; open it to log in.")}
    )


PASSWORD_RESET_QUIET = timedelta(minutes=10)
# How precisely a token's last use is kept: enough for the idle expiry, without a write per request.
TOKEN_STAMP_EVERY = timedelta(hours=1)


def password_reset_request(*, email: str) -> int:
    """Mail a set-password link to the login with this address, if there is one (any role,
    and an invited client who has not chosen a password yet), through the outbox. Answers
    how many were written; the page says the same either way, so nobody learns whether an
    address has an account. At most one link per address per ten minutes, so the form
    cannot flood a mailbox."""
    from ..models import OutboundEmail
    from .emails import email_password_reset

    email = str(email or "").strip().lower()
    if "\x00" in email:
        return 0
    written = 0
    for user in User.objects.filter(email=email, is_active=True):
        recent = OutboundEmail.objects.filter(
            kind="password_reset", to=user.email, created_at__gte=timezone.now() - PASSWORD_RESET_QUIET
        )
        if recent.exists():
            continue
        with transaction.atomic():
            email_password_reset(user=user)
        written += 1
    return written


def token_create(*, user: User) -> str:
    """A new bearer token; only its hash is stored, so this is the one time it is seen."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=ApiToken.hash(key))
    return key


_TOKEN = Columns(ApiToken, "t")
_USER = Columns(User, "u")
_THERAPIST = Columns(Therapist, "th")
_CLIENT = Columns(Client, "c")


@cache
def _token_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {_TOKEN.sql()}, {_USER.sql()}, {_THERAPIST.sql()}, {_CLIENT.sql()} "
        f"FROM {quote(ApiToken._meta.db_table)} t "
        f"JOIN {quote(User._meta.db_table)} u ON u.id = t.user_id "
        f"LEFT JOIN {quote(Therapist._meta.db_table)} th ON th.user_id = u.id "
        f"LEFT JOIN {quote(Client._meta.db_table)} c ON c.user_id = u.id "
        "WHERE t.key_hash = %s"
    )


def token_user(key: str) -> User | None:
    """The active user of a bearer token that has not lain unused for API_TOKEN_IDLE_DAYS,
    with her therapist or client profile attached (every API view asks for it next).

    One hand-written query (`domain.rows`): it runs on every API request. The token's
    `last_used_at` is written at most once per TOKEN_STAMP_EVERY, so a busy token costs no
    writes; that stamp is what the idle expiry reads."""
    rows = fetch(_token_sql(connection.vendor), [ApiToken.hash(key)])
    if not rows:
        return None
    token, user, therapist, client = instances(rows[0], _TOKEN, _USER, _THERAPIST, _CLIENT)
    # As select_related would: user.therapist / user.client answer without a query, and a
    # missing profile raises RelatedObjectDoesNotExist.
    for profile, model in ((therapist, Therapist), (client, Client)):
        field = model._meta.get_field("user")
        field.remote_field.set_cached_value(user, profile)
        if profile is not None:
            field.set_cached_value(profile, user)
    if not user.is_active:
        return None
    now = timezone.now()
    if now - (token.last_used_at or token.created_at) > timedelta(days=settings.API_TOKEN_IDLE_DAYS):
        return None
    if token.last_used_at is None or now - token.last_used_at > TOKEN_STAMP_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return user


def token_revoke(*, key: str) -> bool:
    """The caller's own token stops working at once (API: DELETE /auth/token)."""
    return ApiToken.objects.filter(key_hash=ApiToken.hash(key)).delete()[0] > 0


def login_check(*, email: str, password: str) -> User:
    """The user for these credentials. After LOGIN_MAX_FAILURES failures for one address
    within LOGIN_FAILURE_WINDOW_SECONDS, refuses even the right password until the window
    has passed, so guessing is slow for an attacker and the owner is told why."""
    email = str(email or "").strip().lower()
    key = ApiToken.hash(email)
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    if LoginFailure.objects.filter(email_hash=key, at__gte=since).count() >= settings.LOGIN_MAX_FAILURES:
        raise LoginThrottled
    # No address holds a NUL, and PostgreSQL cannot even compare one: a failure, not a 500.
    user = authenticate(email=email, password=password or "") if "\x00" not in email else None
    if user is None:
        LoginFailure.objects.create(email_hash=key)
        raise LoginFailed
    LoginFailure.objects.filter(email_hash=key).delete()
    return user


def client_booster_set(*, therapist: Therapist, on: bool, actor: User | None) -> Therapist:
    """R9: staff switch a therapist's Client Booster."""
    with transaction.atomic():
        before = therapist.client_booster
        Therapist.objects.filter(pk=therapist.pk).update(client_booster=on)
        therapist.client_booster = on
        if before != on:
            audit_write(
                actor=actor, action="therapist.client_booster", target=therapist, therapist_id=therapist.pk,
                before={"client_booster": before}, after={"client_booster": on},
            )
    return therapist
