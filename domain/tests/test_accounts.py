"""Accounts: sign-up of therapists and clients, login throttling, API tokens, Client Booster
(R9) and the production password hasher."""

import hashlib
import importlib.util
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import CommandError, call_command
from django.utils.module_loading import import_string

from conftest import at, pnr
from domain.models import ApiToken, AuditEntry, Client, ClientLink, LoginFailure, OutboundEmail, Therapist, User
from domain.services import (
    LoginFailed,
    LoginThrottled,
    SignupInvitationSent,
    account_signup,
    client_add,
    client_booster_set,
    login_check,
    token_create,
    token_revoke,
    token_user,
)

PASSWORD = "correct horse battery"


def signup(**overrides):
    fields = {
        "role": "client", "email": "ase@example.se", "password": "lingon-sylt-1987", "first_name": "Åse",
        "last_name": "Larsson", "personnummer": pnr("19800505", "246"),
    } | overrides
    return account_signup(**fields)


def invalid(field, **overrides):
    users_before = User.objects.count()
    with pytest.raises(ValidationError) as caught:
        signup(**overrides)
    assert field in caught.value.message_dict, caught.value.message_dict
    assert User.objects.count() == users_before
    return caught.value


# Sign-up.


def test_a_therapist_signs_up(db, now):
    user = signup(role="therapist", email=" Cecilia@Example.SE ", first_name="Cecilia", last_name="Carlsson",
                  personnummer=None, language="en")

    row = User.objects.get(pk=user.pk)
    assert (row.email, row.first_name, row.language, row.role) == ("cecilia@example.se", "Cecilia", "en", "therapist")
    assert row.check_password("lingon-sylt-1987")
    therapist = Therapist.objects.get(user=row)
    assert (therapist.default_duration_minutes, therapist.default_price, therapist.client_booster) == (45, 1000, False)
    assert therapist.timezone == "Europe/Stockholm"
    assert not Client.objects.exists()
    [entry] = AuditEntry.objects.filter(action="therapist.signed_up")
    assert (entry.actor, entry.therapist, entry.target_id) == (row, therapist, therapist.pk)


def test_a_client_signs_up_with_her_personnummer(db, now):
    user = signup(personnummer=pnr("19800505", "246")[2:].replace("-", ""))

    assert User.objects.get(pk=user.pk).role == "client"
    client = Client.objects.get(user=user)
    assert (client.personnummer, client.email, client.first_name) == (pnr("19800505", "246"), "ase@example.se", "Åse")
    assert not ClientLink.objects.exists()
    [entry] = AuditEntry.objects.filter(action="client.signed_up")
    assert (entry.actor, entry.target_type, entry.target_id) == (user, "client", client.pk)
    assert client.personnummer not in str([entry.before, entry.after])


@pytest.mark.parametrize("personnummer", [None, "", "19800505-2461", "19801305-2460", "hello"])
def test_a_client_needs_a_valid_personnummer(db, now, personnummer):
    invalid("personnummer", personnummer=personnummer)

    assert not Client.objects.exists()


def test_it_refuses_an_email_address_that_has_an_account(anna, now):
    invalid("email", email="ANNA@example.se")
    invalid("email", role="therapist", email="anna@example.se", personnummer=None)

    assert not Client.objects.exists()
    assert Therapist.objects.count() == 1


@pytest.mark.parametrize("password", ["", "short", "12345678901", "password123", "ase@example.se", "Larsson1"])
def test_it_refuses_a_weak_password(db, now, password):
    invalid("password", password=password)

    assert not Client.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("role", "staff"), ("email", "not-an-address"), ("first_name", " ")])
def test_it_refuses_bad_details(db, now, field, value):
    invalid(field, **{field: value})


def test_a_client_added_by_her_therapist_is_sent_the_set_password_link_instead_of_being_joined(anna, now):
    """A personnummer and an e-mail address are no secrets: signing up with them never hands
    over her record; the link goes to the address her therapist has on file."""
    added = client_add(therapist=anna, actor=anna.user, first_name="Åse", last_name="Larsson",
                       personnummer=pnr("19800505", "246"), email="ase@example.se")
    invited = added.user
    OutboundEmail.objects.all().delete()

    with pytest.raises(SignupInvitationSent) as caught:
        signup(email="ASE@example.se", personnummer=pnr("19800505", "246")[2:], language="en")

    assert "personnummer" in caught.value.message_dict
    assert Client.objects.count() == 1 and User.objects.filter(email="ase@example.se").count() == 1
    client = Client.objects.get()
    assert (client.pk, client.user) == (added.pk, invited)
    assert not User.objects.get(pk=invited.pk).has_usable_password()  # the typed password was not taken
    [mail] = OutboundEmail.objects.all()
    assert (mail.kind, mail.to) == ("client_invitation", "ase@example.se")
    assert "/losenord/" in mail.body


def test_signing_up_again_and_again_sends_one_link_per_ten_minutes(anna, now):
    client_add(therapist=anna, actor=anna.user, first_name="Åse", last_name="Larsson",
               personnummer=pnr("19800505", "246"), email="ase@example.se")
    for _ in range(3):
        with pytest.raises(SignupInvitationSent):
            signup(email="someone.else@example.se")

    assert OutboundEmail.objects.filter(kind="client_invitation").count() == 1  # the therapist's


def test_a_personnummer_on_file_with_another_email_address_is_refused(anna, now):
    client_add(therapist=anna, actor=anna.user, first_name="Åse", last_name="Larsson",
               personnummer=pnr("19800505", "246"), email="ase@example.se")

    error = invalid("personnummer", email="someone.else@example.se")

    assert isinstance(error, SignupInvitationSent)
    client = Client.objects.get()
    assert (client.user.email, client.email) == ("ase@example.se", "ase@example.se")
    assert not User.objects.filter(email="someone.else@example.se").exists()


def test_a_personnummer_that_has_a_login_is_never_given_a_second(erik, now):
    invalid("personnummer", email="erik.again@example.se", personnummer=erik.personnummer)

    assert Client.objects.get().user == erik.user


def test_an_email_address_of_another_client_without_login_is_refused(anna, now):
    client_add(therapist=anna, actor=anna.user, first_name="Åse", last_name="Larsson",
               personnummer=pnr("19800505", "246"), email="ase@example.se")

    invalid("email", personnummer=pnr("19911111", "135"))

    assert not Client.objects.get().user.has_usable_password()


# Login and throttling.


def test_it_logs_in_with_the_right_password(anna, now):
    assert login_check(email=" ANNA@example.se ", password=PASSWORD) == anna.user


def test_a_wrong_password_is_remembered_by_a_hash_of_the_address(anna, now):
    with pytest.raises(LoginFailed):
        login_check(email="anna@example.se", password="wrong")

    [failure] = LoginFailure.objects.all()
    assert failure.email_hash == hashlib.sha256(b"anna@example.se").hexdigest()
    assert failure.at == at("2027-01-11 08:00")


def test_too_many_failures_refuse_even_the_right_password_until_the_window_passes(anna, now):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        with pytest.raises(LoginFailed):
            login_check(email="anna@example.se", password="guess")

    with pytest.raises(LoginThrottled):
        login_check(email="anna@example.se", password=PASSWORD)
    now.shift(timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS - 1))
    with pytest.raises(LoginThrottled):
        login_check(email="anna@example.se", password=PASSWORD)

    now.shift(timedelta(seconds=2))
    assert login_check(email="anna@example.se", password=PASSWORD) == anna.user
    assert not LoginFailure.objects.exists()


def test_one_failure_fewer_than_the_limit_does_not_throttle(anna, now):
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        with pytest.raises(LoginFailed):
            login_check(email="anna@example.se", password="guess")

    assert login_check(email="anna@example.se", password=PASSWORD) == anna.user


def test_a_success_starts_the_count_again(anna, now):
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        with pytest.raises(LoginFailed):
            login_check(email="anna@example.se", password="guess")
    login_check(email="anna@example.se", password=PASSWORD)

    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        with pytest.raises(LoginFailed):
            login_check(email="anna@example.se", password="guess")

    assert login_check(email="anna@example.se", password=PASSWORD) == anna.user


def test_failures_for_one_address_do_not_throttle_another(anna, bo, now):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        with pytest.raises(LoginFailed):
            login_check(email="ANNA@example.se", password="guess")

    assert login_check(email="bo@example.se", password=PASSWORD) == bo.user
    with pytest.raises(LoginThrottled):
        login_check(email="anna@example.se", password=PASSWORD)


# API tokens: only a hash is stored.


def test_a_token_is_stored_only_as_its_sha256(anna, now):
    key = token_create(user=anna.user)

    [token] = ApiToken.objects.all()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.user == anna.user
    assert key not in [str(v) for v in ApiToken.objects.values().get().values()]
    assert len(key) >= 32


def test_a_token_names_its_user(anna, now):
    key = token_create(user=anna.user)

    assert token_user(key) == anna.user
    assert ApiToken.objects.get().last_used_at == at("2027-01-11 08:00")
    assert token_user(key + "x") is None
    assert token_user(ApiToken.objects.get().key_hash) is None


def test_a_token_of_a_deactivated_user_names_nobody(anna, now):
    key = token_create(user=anna.user)
    User.objects.filter(pk=anna.user.pk).update(is_active=False)

    assert token_user(key) is None


def test_a_token_comes_with_its_profile_and_no_other(anna, erik, now, django_assert_num_queries):
    therapist_user = token_user(token_create(user=anna.user))
    client_user = token_user(token_create(user=erik.user))

    # Every profile, present or missing, answers from the token's one query. (First: Django
    # caches a missing profile once it has looked, which would hide a query here.)
    with django_assert_num_queries(0):
        assert therapist_user.therapist == anna and therapist_user.role == "therapist"
        assert therapist_user.therapist.timezone == anna.timezone
        assert therapist_user.therapist.languages == anna.languages
        assert client_user.client == erik and client_user.role == "client"
        assert not hasattr(therapist_user, "client") and not hasattr(client_user, "therapist")
    with pytest.raises(Therapist.DoesNotExist):
        _ = client_user.therapist  # a missing profile raises as with select_related


def test_a_token_in_use_is_stamped_at_most_once_an_hour(anna, now):
    key = token_create(user=anna.user)
    token_user(key)

    now.shift(timedelta(minutes=59))
    token_user(key)
    assert ApiToken.objects.get().last_used_at == at("2027-01-11 08:00")

    now.shift(timedelta(minutes=2))
    token_user(key)
    assert ApiToken.objects.get().last_used_at == at("2027-01-11 09:01")


def test_a_token_left_unused_too_long_stops_working(anna, now, settings):
    settings.API_TOKEN_IDLE_DAYS = 90
    used, unused = token_create(user=anna.user), token_create(user=anna.user)
    token_user(used)

    now.shift(timedelta(days=89))
    assert token_user(used) == anna.user  # used now: another 90 days from here

    now.shift(timedelta(days=2))  # 91 days after it was made, never used
    assert token_user(unused) is None
    assert token_user(used) == anna.user


def test_a_revoked_token_names_nobody(anna, now):
    key, other = token_create(user=anna.user), token_create(user=anna.user)

    assert token_revoke(key=key) is True
    assert token_user(key) is None
    assert token_user(other) == anna.user
    assert token_revoke(key=key) is False


def test_every_token_is_new(anna, now):
    assert token_create(user=anna.user) != token_create(user=anna.user)
    assert ApiToken.objects.count() == 2


# Client Booster (R9), by service and by command.


def test_staff_switch_client_booster_on_with_an_audit_entry(bo, now):
    result = client_booster_set(therapist=bo, on=True, actor=None)

    assert result.client_booster is True
    assert Therapist.objects.get(pk=bo.pk).client_booster is True
    [entry] = AuditEntry.objects.filter(action="therapist.client_booster")
    assert (entry.actor, entry.therapist) == (None, bo)
    assert (entry.before, entry.after) == ({"client_booster": False}, {"client_booster": True})


def test_switching_client_booster_to_what_it_is_writes_nothing(anna, now):
    client_booster_set(therapist=anna, on=True, actor=None)

    assert Therapist.objects.get(pk=anna.pk).client_booster is True
    assert not AuditEntry.objects.filter(action="therapist.client_booster").exists()


def test_the_command_switches_client_booster_on_and_off(bo, now):
    out = StringIO()

    call_command("client_booster", " BO@example.se ", "on", stdout=out)
    assert Therapist.objects.get(pk=bo.pk).client_booster is True
    assert "Client Booster on" in out.getvalue()

    call_command("client_booster", "bo@example.se", "off", stdout=StringIO())
    assert Therapist.objects.get(pk=bo.pk).client_booster is False
    assert AuditEntry.objects.filter(action="therapist.client_booster").count() == 2


def test_the_command_refuses_an_unknown_address(bo, erik, now):
    with pytest.raises(CommandError):
        call_command("client_booster", "nobody@example.se", "on")
    with pytest.raises(CommandError):
        call_command("client_booster", erik.email, "on")  # a client, not a therapist

    assert not AuditEntry.objects.filter(action="therapist.client_booster").exists()


def test_the_command_refuses_an_unknown_state(bo, now):
    with pytest.raises(CommandError):
        call_command("client_booster", "bo@example.se", "maybe")

    assert Therapist.objects.get(pk=bo.pk).client_booster is False


# Production hashes passwords with Argon2; the tests use MD5 only to be quick.


def load_production_settings(name: str):
    path = Path(settings.BASE_DIR) / "tidbok" / "settings.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_production_hashes_passwords_with_argon2_first(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a-production-like-secret")
    monkeypatch.setenv("TIDBOK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DEBUG", raising=False)

    production = load_production_settings("tidbok_production_settings")

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    hasher = import_string(production.PASSWORD_HASHERS[0])()
    encoded = hasher.encode(PASSWORD, hasher.salt())
    assert encoded.startswith("argon2$")
    assert hasher.verify(PASSWORD, encoded)
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
    monkeypatch.delenv("DEBUG", raising=False)
    monkeypatch.setenv("TIDBOK_DATA_DIR", str(tmp_path))

    with pytest.raises(ImproperlyConfigured):
        load_production_settings("tidbok_production_settings_without_secret")
