"""Accounts: log-in and its throttle (R28), API tokens, Client Booster (R9) and the production
password hasher. Sign-up is in test_signup.py."""

import hashlib
import importlib.util
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.utils.module_loading import import_string

from conftest import at
from domain.models import ApiToken, AuditEntry, RateCounter, Therapist, User
from domain.services import (
    LoginFailed,
    LoginThrottled,
    client_booster_set,
    login_check,
    token_create,
    token_revoke,
    token_user,
)
from domain.services import login_check as _login_check

HOME, ELSEWHERE = "127.0.0.9", "10.1.2.3"


def login_check(*, email, password, source=HOME):  # noqa: F811 - the tests' usual caller sits at HOME
    return _login_check(email=email, password=password, source=source)

PASSWORD = "correct horse battery"


# Login and throttling.


def test_it_logs_in_with_the_right_password(anna, now):
    assert login_check(email=" ANNA@example.se ", password=PASSWORD) == anna.user


def test_a_wrong_password_is_counted_by_a_hash_of_the_address_and_the_source(anna, now):
    with pytest.raises(LoginFailed):
        login_check(email="anna@example.se", password="wrong")

    keys = dict(RateCounter.objects.values_list("key", "count"))
    account_and_source = hashlib.sha256("\x1f".join(["login", "anna@example.se", HOME]).encode()).hexdigest()
    source = hashlib.sha256("\x1f".join(["login-source", HOME]).encode()).hexdigest()
    assert keys == {account_and_source: 1, source: 1}
    assert RateCounter.objects.get(key=source).window_start == at("2027-01-11 08:00")
    assert "anna" not in str(list(RateCounter.objects.values()))


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


def test_a_stranger_elsewhere_cannot_lock_the_owner_out(anna, now):
    """Finding 4: the guesser's failures hold up the guesser's address only; the owner's
    right password from her own address still works, even after many more failures."""
    for _ in range(settings.LOGIN_MAX_FAILURES * 5):
        with pytest.raises((LoginFailed, LoginThrottled)):
            login_check(email="anna@example.se", password="guess", source=ELSEWHERE)

    assert login_check(email="anna@example.se", password=PASSWORD, source=HOME) == anna.user
    with pytest.raises(LoginThrottled):
        login_check(email="anna@example.se", password=PASSWORD, source=ELSEWHERE)


def test_one_address_guessing_many_accounts_is_held_up(anna, bo, now, settings):
    settings.LOGIN_MAX_FAILURES_PER_SOURCE = 8
    for i in range(8):
        with pytest.raises(LoginFailed):
            login_check(email=f"person{i}@example.se", password="guess", source=ELSEWHERE)

    with pytest.raises(LoginThrottled):
        login_check(email="anna@example.se", password=PASSWORD, source=ELSEWHERE)
    assert login_check(email="bo@example.se", password=PASSWORD, source=HOME) == bo.user


def test_successes_do_not_use_up_the_sources_allowance(anna, now, settings):
    settings.LOGIN_MAX_FAILURES_PER_SOURCE = 3
    for _ in range(10):
        assert login_check(email="anna@example.se", password=PASSWORD) == anna.user


def test_an_unknown_address_is_counted_and_checked_like_a_known_one(db, now):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        with pytest.raises(LoginFailed):
            login_check(email="nobody@example.se", password="guess")

    with pytest.raises(LoginThrottled):
        login_check(email="nobody@example.se", password="guess")


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
    assert "Client Booster är påslaget" in out.getvalue()

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


@pytest.mark.parametrize(
    ("remote", "key"),
    [("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"), ("2001:db8:1:2:ffff:1:2:3", "2001:db8:1:2::/64"),
     ("::ffff:10.1.2.3", "10.1.2.3"), ("10.1.2.3", "10.1.2.3"), ("", "unknown"), ("garbage", "garbage")],
)
def test_an_ipv6_caller_is_counted_by_her_64_network(rf, remote, key):
    """One IPv6 subscriber holds a whole /64: counted address by address she would have 2^64
    fresh starts at guessing."""
    from domain.backends import source_address

    assert source_address(rf.get("/", REMOTE_ADDR=remote)) == key


def test_behind_our_proxy_the_address_it_saw_is_used_not_one_the_client_sent(rf, settings):
    from domain.backends import source_address

    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.7")

    assert source_address(request) == "192.0.2.7"
