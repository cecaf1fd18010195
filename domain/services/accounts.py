"""Accounts (R26–R28): sign-up with a verified e-mail address, log-in throttled per account and
source address, API tokens, password reset, Client Booster.

What a stranger may not learn (R26): whether an address or a personnummer is known. Sign-up
and password reset therefore do the same work for every well-formed request on the request
path (validate, hash the password, store an `AccountRequest`, enqueue it) and the task worker
decides what to do by what exists (`account_request_process`); the answer is the same."""

import secrets
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..locking import in_transaction
from ..models import AccountRequest, ApiToken, Client, OutboundEmail, Therapist, User
from ..privacy import POLICY_VERSION
from ..rows import Columns, fetch, instances
from ..text import clean_text
from .audit import audit_write
from .clients import clean_email, clean_name, clean_personnummer
from .listing import listing_refresh
from .throttle import Rate, rate_hit, rate_reset, rate_undo

ROLES = ("therapist", "client")


class AccountRequestsThrottled(Exception):
    """Too many sign-ups or password resets from one source address within the hour."""


class LoginThrottled(Exception):
    """Too many failed logins for one account from one source address (or from one source
    address altogether) within the window."""

    @staticmethod
    def message() -> str:
        """What every surface says, with the window as it is set."""
        minutes = max(1, -(-settings.LOGIN_FAILURE_WINDOW_SECONDS // 60))
        return ngettext(
            "Too many failed attempts. Wait %(minutes)d minute and try again.",
            "Too many failed attempts. Wait %(minutes)d minutes and try again.",
            minutes,
        ) % {"minutes": minutes}


class LoginFailed(Exception):
    """Wrong address or password, or an address not verified yet: callers answer alike."""


class Errors:
    """Every field's error at once (a form that shows one at a time takes as many tries)."""

    def __init__(self):
        self.by_field: dict[str, list[str]] = {}

    def add(self, error) -> None:
        for field, messages in ValidationError(error).message_dict.items():
            self.by_field.setdefault(field, []).extend(messages)

    def check(self, clean, *args):
        try:
            return clean(*args)
        except ValidationError as e:
            self.add(e.message_dict)
            return None

    def raise_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def account_request_rate() -> Rate:
    return Rate("account-request", settings.ACCOUNT_REQUESTS_PER_HOUR, timedelta(hours=1))


def login_rate() -> Rate:
    return Rate("login", settings.LOGIN_MAX_FAILURES, timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS))


def login_source_rate() -> Rate:
    return Rate(
        "login-source", settings.LOGIN_MAX_FAILURES_PER_SOURCE, timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    )


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """The link in the verification mail. It stops working once followed (the state is in
    the hash), when the account is replaced by a newer sign-up or its password changes, and
    after PASSWORD_RESET_TIMEOUT."""

    key_salt = "tidbok.email-verification"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.password}{user.email}{user.email_verified}{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()


def clean_next_url(value) -> str:
    """Where a browser flow returns: a path on this site only (never another host)."""
    value = clean_text(value, "next", max_length=300)
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return ""
    return value


def account_signup_request(
    *,
    role: str,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    personnummer: str | None = None,
    language: str = "sv",
    next_url: str = "",
    source: str,
    accept_privacy_policy: str | None = None,
) -> None:
    """R26, R27: take a sign-up. Refuses bad input naming the field; then the same for every
    well-formed request: the password hashed, the request stored and enqueued for
    `account_request_process`. A client's personnummer is optional and, when given, only
    typed (unverified): it never joins her to anything someone else created.
    `accept_privacy_policy` is the version of the privacy policy she accepted (the sign-up
    page always sends it; an API sign-up may leave it out, and its account then records no
    consent); another version than the current one is refused naming the field.
    `source` is the caller's address: at most ACCOUNT_REQUESTS_PER_HOUR from one."""
    if not rate_hit(account_request_rate(), source):
        raise AccountRequestsThrottled
    errors = Errors()
    if role not in ROLES:
        errors.add({"role": _('The role must be "therapist" or "client".')})
    email = errors.check(clean_email, email)
    first_name = errors.check(clean_name, first_name, "first_name")
    last_name = errors.check(clean_name, last_name, "last_name")
    language = language if language in ("sv", "en") else "sv"
    number = ""
    if role == "client" and str(personnummer or "").strip():
        number = errors.check(clean_personnummer, personnummer)
    next_url = clean_next_url(next_url)
    consent = str(accept_privacy_policy or "").strip()
    if consent and consent != POLICY_VERSION:
        errors.add({"accept_privacy_policy": _("The current privacy policy is version %(version)s.")
                    % {"version": POLICY_VERSION}})
    password = str(password or "")
    candidate = User(email=email or "", first_name=first_name or "", last_name=last_name or "", language=language)
    try:
        validate_password(password, user=candidate)
    except ValidationError as e:
        errors.add({"password": e.messages})
    errors.raise_any()
    with transaction.atomic():
        request = AccountRequest.objects.create(
            kind=AccountRequest.Kind.SIGNUP, email=email, role=role, password=make_password(password),
            first_name=first_name, last_name=last_name, personnummer=number, language=language, next_url=next_url,
            source=source[:64], privacy_policy_version=consent,
        )
        _enqueue(request)


def password_reset_request(*, email: str, source: str) -> None:
    """Take a request for a set-password link: stored and enqueued alike for every address,
    so neither the answer nor the work tells whether it has an account."""
    if not rate_hit(account_request_rate(), source):
        raise AccountRequestsThrottled
    email = str(email or "").strip().lower()
    try:
        email = clean_email(email)
    except ValidationError:
        return  # no account has such an address; nothing to send
    with transaction.atomic():
        _enqueue(AccountRequest.objects.create(kind=AccountRequest.Kind.RESET, email=email))


def _enqueue(request: AccountRequest) -> None:
    from ..tasks import process_account_request

    process_account_request.enqueue(request.pk)


# How many mails of a kind one address gets at most, so that nobody can flood a mailbox
# through the forms: (how many, within how long). Verification links are counted per address
# *and* caller as well (`verification_mail_rate`): a stranger's sign-ups with her address must
# not use up the links her own sign-up needs; this cap only stops a flood from many callers.
ACCOUNT_MAIL_LIMITS = {
    "email_verification": (20, timedelta(hours=1)),
    "account_exists": (1, timedelta(minutes=10)),
    "password_reset": (1, timedelta(minutes=10)),
}


def verification_mail_rate() -> Rate:
    return Rate("verification-mail", 5, timedelta(hours=1))


def mail_allowed(kind: str, to: str) -> bool:
    limit, window = ACCOUNT_MAIL_LIMITS[kind]
    recent = OutboundEmail.objects.filter(kind=kind, to=to, created_at__gte=timezone.now() - window)
    return recent.count() < limit


def account_request_process(*, request_id: int) -> str:
    """The worker's half of a sign-up or a password reset (see the module's docstring):
    answers what was done, for the task's result and the tests."""
    with transaction.atomic():
        request = AccountRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            return "gone"
        if request.kind == AccountRequest.Kind.SIGNUP:
            outcome = _signup_complete(request)
        else:
            outcome = _password_reset_complete(request)
        request.delete()  # the hash and the personnummer are not kept
    return outcome


def is_waiting_for_verification(user: User) -> bool:
    """An account made by a sign-up whose address nobody has proven yet: nothing can have
    happened in it (it cannot log in), so a newer sign-up for the address replaces it. An
    account that logs in another way (an eID) is not replaced."""
    return not user.email_verified and user.has_usable_password()


@in_transaction
def _signup_complete(request: AccountRequest) -> str:
    from .emails import email_account_exists, email_verification

    user = User.objects.select_for_update().filter(email=request.email).first()
    if user is not None and not is_waiting_for_verification(user):
        # The address has an account: tell its owner; change nothing.
        if mail_allowed("account_exists", user.email):
            email_account_exists(user=user)
        return "exists"
    if user is not None:
        # The newest sign-up wins: whoever typed the address before (perhaps not its owner)
        # loses the account and its link, which only the mailbox ever received.
        Client.objects.filter(user=user).delete()
        user.delete()
    user = _account_create(
        role=request.role, email=request.email, password_hash=request.password, first_name=request.first_name,
        last_name=request.last_name, personnummer=request.personnummer, language=request.language, email_verified=False,
        privacy_policy_version=request.privacy_policy_version,
        privacy_policy_accepted_at=request.created_at if request.privacy_policy_version else None,
    )
    if mail_allowed("email_verification", user.email) and rate_hit(verification_mail_rate(), user.email, request.source):
        email_verification(user=user, next_url=request.next_url)
    return "created"


def account_create(
    *, role: str, email: str, password: str, first_name: str, last_name: str, personnummer: str = "",
    language: str = "sv",
) -> User:
    """An account made by an operator (the demo data, a script on the server), verified at
    once: no form a stranger can reach calls this."""
    number = clean_personnummer(personnummer) if personnummer else ""
    with transaction.atomic():
        return _account_create(
            role=role, email=clean_email(email), password_hash=make_password(password),
            first_name=clean_name(first_name, "first_name"), last_name=clean_name(last_name, "last_name"),
            personnummer=number, language=language, email_verified=True,
        )


def _account_create(
    *, role: str, email: str, password_hash: str, first_name: str, last_name: str, personnummer: str,
    language: str, email_verified: bool, privacy_policy_version: str = "", privacy_policy_accepted_at=None,
) -> User:
    user = User(
        email=email, password=password_hash, first_name=first_name, last_name=last_name, language=language,
        email_verified=email_verified, privacy_policy_version=privacy_policy_version,
        privacy_policy_accepted_at=privacy_policy_accepted_at,
    )
    user.save()
    if role == "therapist":
        therapist = Therapist.objects.create(user=user)
        audit_write(actor=user, action="therapist.signed_up", target=therapist, therapist_id=therapist.pk)
    else:
        client = Client.objects.create(
            user=user, personnummer=personnummer, first_name=first_name, last_name=last_name, email=email,
            language=language,
        )
        audit_write(actor=user, action="client.signed_up", target=client)
    return user


@in_transaction
def _password_reset_complete(request: AccountRequest) -> str:
    """A set-password link for an account in use. A sign-up nobody verified gets none: the
    link proves the mailbox but not who typed the sign-up's name and personnummer, so
    following it must not make that sign-up an account; she is asked to sign up again."""
    from .emails import email_password_reset, email_signup_unfinished

    user = User.objects.filter(email=request.email, is_active=True).first()
    if user is None:
        return "unknown"
    if not mail_allowed("password_reset", user.email):
        return "quiet"
    if is_waiting_for_verification(user):
        email_signup_unfinished(user=user)
        return "unfinished"
    email_password_reset(user=user)
    return "sent"


def email_verify(*, user: User, token: str, password: str | None, source: str) -> bool:
    """R27: the link in the verification mail was followed by the person who signed up: it
    proves the mailbox, and the password chosen at sign-up proves that the one following it
    made this account (not someone who signed up with her address, nor someone who mailed
    her a link of his own). Answers False for a link that is wrong, used, replaced or too
    old; raises LoginFailed for a wrong password, LoginThrottled after too many (the log-in's
    own count, per account and source address)."""
    if not email_verification_token.check_token(user, token):
        return False
    if user.has_usable_password():  # (an account made with an eID has none: nothing to hand over)
        if not rate_hit(login_rate(), user.email, source):
            raise LoginThrottled
        if not user.check_password(str(password or "")):
            raise LoginFailed
        rate_reset(login_rate(), user.email, source)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(email_verified=True)
        user.email_verified = True
        audit_write(actor=user, action="account.verified", target=user)
    return True


def email_verification_resend(*, user: User, source: str) -> bool:
    """A fresh verification link for an account that tried to log in before verifying."""
    from .emails import email_verification

    if user.email_verified or not mail_allowed("email_verification", user.email):
        return False
    if not rate_hit(verification_mail_rate(), user.email, source):
        return False
    with transaction.atomic():
        email_verification(user=user, next_url="")
    return True


# How precisely a token's last use is kept: enough for the idle expiry, without a write per request.
TOKEN_STAMP_EVERY = timedelta(hours=1)


def token_create(*, user: User, label: str = "") -> str:
    """A new bearer token; only its hash is stored, so this is the one time it is seen.
    `label` names it in her list of tokens (cut to fit; control characters dropped, since
    it usually comes from a program's User-Agent rather than a person)."""
    key = secrets.token_urlsafe(32)
    label = "".join(ch for ch in str(label or "") if ch.isprintable())[:100].strip()
    ApiToken.objects.create(user=user, key_hash=ApiToken.hash(key), label=label)
    return key


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """Her API tokens, the newest first (R28: she sees and ends them herself)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def token_delete(*, user: User, token_id: int) -> bool:
    """End one of her own tokens; another person's id changes nothing (and answers False)."""
    deleted = ApiToken.objects.filter(user=user, pk=token_id).delete()[0] > 0
    if deleted:
        audit_write(actor=user, action="token.deleted", target=user, after={"token_id": token_id})
    return deleted


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


def login_check(*, email: str, password: str, source: str) -> User:
    """R28: the user for these credentials, from `source` (the caller's IP address).

    Each try is counted before the password is checked (`throttle`): at most
    LOGIN_MAX_FAILURES per account *and* source address in the window, and at most
    LOGIN_MAX_FAILURES_PER_SOURCE from one address over all accounts. So a guesser is slow,
    and a stranger elsewhere cannot lock the owner out: her right password from her own
    address still works. A success clears her count. An address not verified yet fails
    like a wrong password (R27) and, with the right password, is mailed a fresh link."""
    email = str(email or "").strip().lower()
    if not rate_hit(login_rate(), email, source):
        raise LoginThrottled
    if not rate_hit(login_source_rate(), source):
        raise LoginThrottled
    user = _password_user(email, str(password or ""))
    if user is None:
        raise LoginFailed
    if not user.email_verified:
        email_verification_resend(user=user, source=source)
        raise LoginFailed
    rate_reset(login_rate(), email, source)
    rate_undo(login_source_rate(), source)
    return user


def _password_user(email: str, password: str) -> User | None:
    """The active user with this address and password, or None; the password is hashed
    either way, so an unknown address takes as long as a wrong password."""
    # No address holds a NUL, and PostgreSQL cannot even compare one.
    user = User.objects.filter(email=email).first() if "\x00" not in email else None
    if user is None:
        User().set_password(password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
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
            listing_refresh([therapist.pk])  # R9: in or out of the listing; last, see services.listing
    return therapist
