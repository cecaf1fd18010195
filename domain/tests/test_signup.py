"""Sign-up and password reset (R26, R27): the request path does the same work for every
well-formed request, the worker decides by what exists, and an account logs in only once the
mailed link proved its address."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import pnr
from domain.models import AccountRequest, AuditEntry, Client, ClientLink, OutboundEmail, Therapist, User
from domain.services import (
    AccountRequestsThrottled,
    LoginFailed,
    LoginThrottled,
    account_request_process,
    account_signup_request,
    client_add,
    email_verification_token,
    email_verify,
    login_check,
    password_reset_request,
)

pytestmark = pytest.mark.usefixtures("now")

PASSWORD = "lingon-sylt-1987"
HOME = "127.0.0.9"


def signup(source=HOME, **overrides):
    fields = {
        "role": "client", "email": "ase@example.se", "password": PASSWORD, "first_name": "Åse",
        "last_name": "Larsson", "personnummer": pnr("19800505", "246"),
    } | overrides
    account_signup_request(**fields, source=source)


def process() -> list[str]:
    """The worker's half of every request waiting, oldest first (what `process_account_request` runs)."""
    return [account_request_process(request_id=pk) for pk in AccountRequest.objects.order_by("pk").values_list("pk", flat=True)]


def link_of(mail: OutboundEmail) -> str:
    return next(line for line in mail.body.splitlines() if line.startswith(settings.SITE_URL))


def token_of(mail: OutboundEmail) -> str:
    return link_of(mail).split("?")[0].rstrip("/").rsplit("/", 1)[1]


# The request path.


def test_a_sign_up_creates_nothing_but_the_request_until_the_worker_takes_it(db):
    signup()

    [request] = AccountRequest.objects.all()
    assert (request.email, request.role, request.first_name) == ("ase@example.se", "client", "Åse")
    assert request.password.startswith("md5$") and PASSWORD not in request.password  # hashed (MD5 in tests only)
    assert not User.objects.exists() and not Client.objects.exists() and not OutboundEmail.objects.exists()


def statements(work) -> list[str]:
    """The SQL `work` runs, without its values (savepoint names included)."""
    with CaptureQueriesContext(connection) as queries:
        work()
    return [re.sub(r'"s\d+_x\d+"', '"s"', q["sql"]).split(" VALUES ")[0] for q in queries.captured_queries]


def test_the_request_path_runs_the_same_statements_whatever_exists(erik, anna):
    """R26 "timing within noise": the same statements (and one password hash) for a new
    address, an address with an account, a personnummer on file and a therapist's record."""
    client_add(therapist=anna, actor=anna.user, first_name="Åse", last_name="Larsson",
               personnummer=pnr("19800505", "246"), email="ase@example.se")
    signup(email="warm-up@example.se")  # the source's rate counter exists from here on

    new = statements(lambda: signup(email="nobody@example.se", personnummer=pnr("19770707", "135")))
    taken = statements(lambda: signup(email=erik.email, personnummer=pnr("19770707", "135")))
    known_number = statements(lambda: signup(email="someone@example.se", personnummer=erik.personnummer))
    record = statements(lambda: signup(email="ase@example.se"))

    assert new == taken == known_number == record
    assert len(new) >= 3  # the rate counter, the request, the task


@pytest.mark.parametrize("personnummer", ["19800505-2461", "19801305-2460", "hello"])
def test_a_personnummer_given_must_be_valid(db, personnummer):
    with pytest.raises(ValidationError) as caught:
        signup(personnummer=personnummer)

    assert "personnummer" in caught.value.message_dict
    assert not AccountRequest.objects.exists()


@pytest.mark.parametrize("password", ["", "short", "12345678901", "password123", "ase@example.se", "Larsson1"])
def test_it_refuses_a_weak_password(db, password):
    with pytest.raises(ValidationError) as caught:
        signup(password=password)

    assert "password" in caught.value.message_dict
    assert not AccountRequest.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("role", "staff"), ("email", "not-an-address"), ("first_name", " "), ("first_name", "Åse\nBcc: x@y.se"),
     ("last_name", "Lars\rson"), ("first_name", "Å\x00se"), ("last_name", "Lars\x85son"), ("first_name", "Åse\tL")],
)
def test_it_refuses_bad_details_naming_the_field(db, field, value):
    with pytest.raises(ValidationError) as caught:
        signup(**{field: value})

    assert field in caught.value.message_dict
    assert not AccountRequest.objects.exists()


def test_too_many_requests_from_one_address_are_refused_for_an_hour(db, now, settings):
    settings.ACCOUNT_REQUESTS_PER_HOUR = 3
    for i in range(3):
        signup(email=f"p{i}@example.se")
    with pytest.raises(AccountRequestsThrottled):
        signup(email="p3@example.se")
    with pytest.raises(AccountRequestsThrottled):
        password_reset_request(email="p0@example.se", source=HOME)  # the same count

    signup(email="p4@example.se", source="127.0.0.10")  # another address is not held up
    now.shift(timedelta(hours=1, seconds=1))
    signup(email="p5@example.se")
    assert AccountRequest.objects.count() == 5


def test_the_default_limit_is_far_above_a_clinic_behind_one_address():
    assert settings.ACCOUNT_REQUESTS_PER_HOUR >= 60


# The worker's half.


def test_a_new_address_gets_an_account_that_waits_for_its_link(db):
    signup(personnummer=pnr("19800505", "246")[2:].replace("-", ""), language="en", next_url="/boka/12/?mode=video")

    assert process() == ["created"]

    user = User.objects.get(email="ase@example.se")
    assert not user.email_verified and user.check_password(PASSWORD) and user.language == "en"
    client = Client.objects.get(user=user)
    assert (client.personnummer, client.personnummer_verified) == (pnr("19800505", "246"), False)
    assert not ClientLink.objects.exists()
    assert not AccountRequest.objects.exists()  # neither the hash nor the personnummer is kept
    [mail] = OutboundEmail.objects.all()
    assert (mail.kind, mail.to) == ("email_verification", "ase@example.se")
    assert mail.subject == "Confirm your e-mail address for Tidbok"
    assert "/bekrafta/" in link_of(mail) and "next=%2Fboka%2F12%2F%3Fmode%3Dvideo" in link_of(mail)
    assert client.personnummer not in mail.body
    assert AuditEntry.objects.filter(action="client.signed_up", target_id=client.pk).exists()


def test_a_therapist_signs_up_with_the_default_settings(db):
    signup(role="therapist", email=" Cecilia@Example.SE ", first_name="Cecilia", last_name="Carlsson", personnummer=None)
    process()

    therapist = Therapist.objects.get(user__email="cecilia@example.se")
    assert (therapist.default_duration_minutes, therapist.default_price, therapist.client_booster) == (45, 1000, False)
    assert not Client.objects.exists()


def test_the_account_cannot_log_in_until_the_link_is_followed(db):
    signup()
    process()
    user = User.objects.get(email="ase@example.se")
    [mail] = OutboundEmail.objects.all()

    with pytest.raises(LoginFailed):
        login_check(email="ase@example.se", password=PASSWORD, source=HOME)
    assert email_verify(user=user, token=token_of(mail), password=PASSWORD, source=HOME) is True

    assert login_check(email="ase@example.se", password=PASSWORD, source=HOME) == user
    assert User.objects.get(pk=user.pk).email_verified
    assert email_verify(user=user, token=token_of(mail), password=PASSWORD, source=HOME) is False  # once


def test_logging_in_before_verifying_mails_a_fresh_link_but_a_wrong_password_does_not(db):
    signup()
    process()

    with pytest.raises(LoginFailed):
        login_check(email="ase@example.se", password="wrong-guess-1", source=HOME)
    assert OutboundEmail.objects.filter(kind="email_verification").count() == 1
    with pytest.raises(LoginFailed):
        login_check(email="ase@example.se", password=PASSWORD, source=HOME)

    first, fresh = OutboundEmail.objects.filter(kind="email_verification").order_by("pk")
    owner = User.objects.get(email="ase@example.se")
    assert email_verify(user=owner, token=token_of(fresh), password=PASSWORD, source=HOME)


def test_a_verification_link_stops_working_after_the_reset_timeout(db, now):
    signup()
    process()
    user = User.objects.get()

    now.shift(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1))

    assert email_verify(user=user, token=token_of(OutboundEmail.objects.get()), password=PASSWORD, source=HOME) is False
    assert not User.objects.get().email_verified


def test_an_address_with_an_account_is_told_and_nothing_changes(erik):
    before = User.objects.get(pk=erik.user.pk).password

    signup(email=erik.email.upper(), personnummer=None)
    assert process() == ["exists"]

    assert User.objects.get(pk=erik.user.pk).password == before
    assert Client.objects.count() == 1
    [mail] = OutboundEmail.objects.all()
    assert (mail.kind, mail.to) == ("account_exists", erik.email)
    assert "/logga-in/" in mail.body and "/glomt-losenord/" in mail.body


def test_the_owner_is_told_at_most_once_in_ten_minutes(erik, now):
    for _ in range(3):
        signup(email=erik.email, personnummer=None)
    process()
    now.shift(timedelta(minutes=11))
    signup(email=erik.email, personnummer=None)
    process()

    assert OutboundEmail.objects.filter(kind="account_exists").count() == 2


def test_a_newer_sign_up_replaces_an_account_nobody_verified(db):
    """Whoever typed an address first, perhaps not its owner, cannot keep it: the owner's own
    sign-up replaces that account, and the first link stops working."""
    signup(first_name="Mallory", password="squatter-pass-99")
    process()
    squatter = User.objects.get()
    first_mail = OutboundEmail.objects.get()

    signup()
    process()

    owner = User.objects.get()
    assert owner.pk != squatter.pk and owner.first_name == "Åse" and owner.check_password(PASSWORD)
    assert Client.objects.get().user == owner
    assert email_verify(user=owner, token=token_of(first_mail), password=PASSWORD, source=HOME) is False
    newest = OutboundEmail.objects.filter(kind="email_verification").latest("pk")
    assert email_verify(user=owner, token=token_of(newest), password=PASSWORD, source=HOME) is True


def test_verification_mails_to_one_address_are_limited(db):
    for _ in range(7):
        signup()
    process()

    assert OutboundEmail.objects.filter(kind="email_verification").count() == 5
    assert User.objects.count() == 1


# R26: a typed personnummer links nothing.


def test_a_personnummer_that_is_another_persons_links_to_nothing(erik, anna):
    """Finding 1 (squatting): the sign-up with Erik's personnummer is an account of its own;
    Erik's record, list entry and account are untouched and nobody is mailed but the typist."""
    signup(email="squatter@example.se", personnummer=erik.personnummer)
    assert process() == ["created"]

    squatter = Client.objects.get(user__email="squatter@example.se")
    assert squatter.pk != erik.pk and not squatter.personnummer_verified
    assert not ClientLink.objects.filter(client=squatter).exists()
    assert Client.objects.get(pk=erik.pk).user == erik.user
    assert set(OutboundEmail.objects.values_list("to", flat=True)) == {"squatter@example.se"}


def test_a_therapists_record_is_not_joined_by_a_sign_up_with_its_number_and_address(anna):
    record = client_add(therapist=anna, actor=anna.user, first_name="Åse", last_name="Larsson",
                        personnummer=pnr("19800505", "246"), email="ase@example.se")
    OutboundEmail.objects.all().delete()

    signup()
    process()

    account = Client.objects.get(user__email="ase@example.se")
    assert account.pk != record.pk
    assert Client.objects.get(pk=record.pk).user is None
    assert ClientLink.objects.get(therapist=anna).client_id == record.pk


# Password reset.


def test_a_reset_is_decided_by_the_worker_and_mails_only_an_account(erik):
    password_reset_request(email="nobody@example.se", source=HOME)
    password_reset_request(email=erik.email.upper(), source=HOME)
    password_reset_request(email="not an address", source=HOME)

    assert AccountRequest.objects.count() == 2
    assert not OutboundEmail.objects.exists()
    assert process() == ["unknown", "sent"]
    [mail] = OutboundEmail.objects.all()
    assert (mail.kind, mail.to) == ("password_reset", erik.email)


def test_the_reset_request_path_runs_the_same_statements_whatever_exists(erik):
    password_reset_request(email="warm-up@example.se", source=HOME)
    unknown = statements(lambda: password_reset_request(email="nobody@example.se", source=HOME))
    known = statements(lambda: password_reset_request(email=erik.email, source=HOME))

    assert unknown == known


def test_one_reset_link_per_address_per_ten_minutes(erik, now):
    for _ in range(3):
        password_reset_request(email=erik.email, source=HOME)
    process()

    assert OutboundEmail.objects.filter(kind="password_reset").count() == 1


def test_the_verification_token_is_not_a_password_reset_token(db):
    """Two links, two purposes: a verification link cannot set a password and back."""
    from django.contrib.auth.tokens import default_token_generator

    signup()
    process()
    user = User.objects.get()
    token = token_of(OutboundEmail.objects.get())

    assert email_verification_token.check_token(user, token)
    assert not default_token_generator.check_token(user, token)
    assert not email_verification_token.check_token(user, default_token_generator.make_token(user))


# What a security review found, and its fixes.


def test_a_verification_link_opens_the_account_only_with_its_sign_ups_password(db):
    """Pre-claiming: a stranger's newer sign-up replaces hers, and the link the stranger's
    sign-up sent her does not let her confirm (and so use) an account whose password he chose."""
    signup(password="Vilma-own-pass-99")
    process()
    signup(password="Attacker-pass-42", source="127.0.0.31")
    process()
    mine, his = OutboundEmail.objects.filter(kind="email_verification").order_by("pk")
    user = User.objects.get()

    assert email_verify(user=user, token=token_of(mine), password="Vilma-own-pass-99", source=HOME) is False
    with pytest.raises(LoginFailed):
        email_verify(user=user, token=token_of(his), password="Vilma-own-pass-99", source=HOME)
    assert not User.objects.get().email_verified


def test_guessing_the_password_at_a_verification_link_is_throttled(db, settings):
    signup()
    process()
    user, token = User.objects.get(), token_of(OutboundEmail.objects.get())
    for _ in range(settings.LOGIN_MAX_FAILURES):
        with pytest.raises(LoginFailed):
            email_verify(user=user, token=token, password="guess", source="127.0.0.31")

    with pytest.raises(LoginThrottled):
        email_verify(user=user, token=token, password=PASSWORD, source="127.0.0.31")
    assert email_verify(user=user, token=token, password=PASSWORD, source=HOME) is True


def test_a_strangers_sign_ups_do_not_use_up_her_verification_mails(db):
    for _ in range(6):
        signup(password="Attacker-pass-42", source="127.0.0.40")
    process()
    assert OutboundEmail.objects.filter(kind="email_verification").count() == 5

    signup(source="127.0.0.41")
    process()

    newest = OutboundEmail.objects.filter(kind="email_verification").latest("pk")
    assert email_verify(user=User.objects.get(), token=token_of(newest), password=PASSWORD, source=HOME) is True


def test_a_reset_for_a_sign_up_nobody_verified_asks_her_to_sign_up_again(db):
    """A reset link would prove the mailbox, but not who typed that sign-up's name and
    personnummer: it must not turn someone else's sign-up into her account."""
    signup(first_name="Mallory", last_name="Evil", password="squatter-pass-99", source="127.0.0.5")
    process()

    password_reset_request(email="ase@example.se", source=HOME)
    assert process() == ["unfinished"]

    mail = OutboundEmail.objects.filter(kind="password_reset").get()
    assert "/skapa-konto/" in mail.body and "/losenord/" not in mail.body and "Mallory" not in mail.body


def test_every_wrong_field_is_named_at_once(db):
    with pytest.raises(ValidationError) as caught:
        signup(personnummer="19800505-2461", password="123", email="nope", first_name="")

    assert set(caught.value.message_dict) >= {"personnummer", "password", "email", "first_name"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", '"a\x01b"@evil.test'), ("email", '"a b"@evil.test'), ("last_name", "\u202emloH"),
     ("first_name", "Kla\u200bra"), ("first_name", "Klara. Förnya ditt BankID på https://evil.example"),
     ("last_name", "www.evil.example"), ("first_name", "klara@evil.test")],
)
def test_it_refuses_names_and_addresses_that_read_other_than_they_are(db, field, value):
    with pytest.raises(ValidationError) as caught:
        signup(**{field: value})

    assert field in caught.value.message_dict
    assert not AccountRequest.objects.exists()


def test_names_in_scripts_that_need_joiners_are_kept(db):
    signup(first_name="Ali", last_name="حسن\u200cزاده")
    process()

    assert User.objects.get().last_name == "حسن\u200cزاده"
