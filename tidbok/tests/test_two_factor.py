"""R42: the second factor. A password alone opens nothing for an account with one (pages,
the admin, the API by session or by token); codes come from the authenticator app (checked
here against RFC 6238 computed by hand, tidbok/tests/totp.py), a recovery code works once,
wrong codes are throttled like passwords, staff must and (with THERAPISTS_REQUIRE_2FA)
therapists must have one; set-up, removal and recovery-code use are audited."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from conftest import at
from domain.models import ApiToken, AuditEntry, User
from domain.services import token_create
from domain.services import two_factor as tf

from .totp import secret_of, totp_code

PASSWORD = "correct horse battery"
MOMENT = at("2027-01-11 08:00")


@pytest.fixture
def clock():
    """A frozen clock the test moves on by hand (TOTP steps are 30 s)."""
    with time_machine.travel(MOMENT, tick=False) as traveller:
        yield traveller


def with_app(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def code_for(device, offset: int = 0) -> str:
    return totp_code(secret_of(device), offset=offset)


def password_login(client, email, password=PASSWORD, next_url=""):
    return client.post(reverse("login"), {"email": email, "password": password, "next": next_url})


def test_the_hand_made_totp_is_rfc_6238():
    # RFC 6238, appendix B: the SHA-1 secret "12345678901234567890", 8 digits.
    import base64

    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp_code(secret, at=59, digits=8) == "94287082"
    assert totp_code(secret, at=1111111109, digits=8) == "07081804"
    assert totp_code(secret, at=20000000000, digits=8) == "65353130"


def test_without_a_second_factor_the_password_logs_in_as_before(client, anna, clock):
    answer = password_login(client, anna.user.email)
    assert answer.status_code == 302 and answer.url == reverse("home")
    assert client.get(reverse("therapist_pages:calendar")).status_code == 200


def test_with_an_app_the_password_leads_to_the_code_and_nothing_else_opens(client, anna, clock):
    device = with_app(anna.user)
    answer = password_login(client, anna.user.email, next_url="/kalender/klienter/")
    assert answer.status_code == 302
    assert answer.url == reverse("login_otp") + "?next=%2Fkalender%2Fklienter%2F"

    # The password alone: every page leads to the second step, the API takes the session for no one.
    calendar = client.get(reverse("therapist_pages:calendar"))
    assert calendar.status_code == 302 and calendar.url.startswith(reverse("login_otp"))
    assert client.get(reverse("account")).url.startswith(reverse("login_otp"))
    assert client.get(reverse("two_factor_off")).url.startswith(reverse("login_otp"))
    assert client.get("/api/v1/me").status_code == 401
    assert client.get(reverse("login_otp")).status_code == 200

    wrong = client.post(reverse("login_otp"), {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "wrong" in wrong.content.decode().lower() or "fel" in wrong.content.decode().lower()
    assert client.get(reverse("therapist_pages:calendar")).status_code == 302

    clock.shift(timedelta(seconds=31))  # django-otp's own throttle waits a second after a miss
    right = client.post(reverse("login_otp"), {"code": code_for(device), "next": "/kalender/klienter/"})
    assert right.status_code == 302 and right.url == "/kalender/klienter/"
    assert client.get(reverse("therapist_pages:calendar")).status_code == 200
    assert client.get("/api/v1/me").json()["email"] == anna.user.email


def test_a_code_works_once(client, anna, clock):
    device = with_app(anna.user)
    code = code_for(device)
    password_login(client, anna.user.email)
    assert client.post(reverse("login_otp"), {"code": code}).status_code == 302

    other = HttpClient()
    password_login(other, anna.user.email)
    replay = other.post(reverse("login_otp"), {"code": code})
    assert replay.status_code == 400
    assert other.get(reverse("therapist_pages:calendar")).status_code == 302


def test_a_recovery_code_logs_in_once_and_is_audited(client, anna, clock):
    with_app(anna.user)
    codes = tf.recovery_codes_create(user=anna.user)
    assert len(codes) == 10 and len(set(codes)) == 10
    password_login(client, anna.user.email)
    answer = client.post(reverse("login_otp"), {"code": codes[3].upper()}, follow=True)
    assert answer.status_code == 200
    assert "9" in answer.content.decode()  # "… 9 are left"
    assert tf.recovery_codes_left(anna.user) == 9
    entry = AuditEntry.objects.get(action="recovery_code_used")
    assert entry.actor_id == anna.user.pk and entry.after == {"left": 9}

    client.post(reverse("logout"))
    clock.shift(timedelta(seconds=5))
    password_login(client, anna.user.email)
    assert client.post(reverse("login_otp"), {"code": codes[3]}).status_code == 400


def test_wrong_codes_are_throttled_even_the_right_one_after(client, anna, clock, settings):
    settings.LOGIN_MAX_FAILURES = 3
    device = with_app(anna.user)
    password_login(client, anna.user.email)
    wrong = "123456" if code_for(device) != "123456" else "654321"
    statuses = []
    for _ in range(4):
        clock.shift(timedelta(seconds=70))  # past django-otp's own growing delay
        statuses.append(client.post(reverse("login_otp"), {"code": wrong}).status_code)
    assert statuses == [400, 400, 400, 429]
    clock.shift(timedelta(seconds=70))
    assert client.post(reverse("login_otp"), {"code": code_for(device)}).status_code == 429
    assert client.get(reverse("therapist_pages:calendar")).status_code == 302


def test_she_sets_up_the_app_sees_the_secret_and_gets_ten_recovery_codes(client, anna, clock):
    old_key = token_create(user=anna.user, label="before 2FA")
    client.force_login(anna.user)
    page = client.get(reverse("account")).content.decode()
    assert reverse("two_factor") in page

    setup = client.get(reverse("two_factor_totp"))
    html = setup.content.decode()
    device = TOTPDevice.objects.get(user=anna.user, confirmed=False)
    secret = secret_of(device)
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in html
    assert 'src="data:image/svg+xml' in html and "otpauth://totp/" in html
    assert not tf.has_second_factor(anna.user)

    assert client.post(reverse("two_factor_totp"), {"code": "12345x"}).status_code == 400
    done = client.post(reverse("two_factor_totp"), {"code": totp_code(secret)})
    assert done.status_code == 200
    shown = [c for c in done.context["codes"]]
    assert len(shown) == 10
    assert all(c in done.content.decode() for c in shown)
    assert TOTPDevice.objects.get(user=anna.user).confirmed
    assert StaticToken.objects.filter(device__user=anna.user).count() == 10
    assert set(AuditEntry.objects.filter(actor=anna.user).values_list("action", flat=True)) >= {
        "second_factor_added", "recovery_codes_created"}
    assert not ApiToken.objects.filter(user=anna.user).exists(), "a key made without the second factor ends"
    assert old_key
    # This session proved the code: it goes on.
    assert client.get(reverse("therapist_pages:calendar")).status_code == 200
    # New codes replace the old ones.
    again = client.post(reverse("two_factor_recovery"))
    assert again.status_code == 200 and set(again.context["codes"]).isdisjoint(shown)
    assert StaticToken.objects.filter(device__user=anna.user).count() == 10


def test_turning_off_needs_the_password_and_a_code(client, anna, clock):
    device = with_app(anna.user)
    password_login(client, anna.user.email)
    client.post(reverse("login_otp"), {"code": code_for(device)})
    assert client.get(reverse("two_factor_off")).status_code == 200

    clock.shift(timedelta(seconds=30))
    bad = client.post(reverse("two_factor_off"), {"password": "not it", "code": code_for(device)})
    assert bad.status_code == 400 and TOTPDevice.objects.filter(user=anna.user).exists()
    no_code = client.post(reverse("two_factor_off"), {"password": PASSWORD, "code": ""})
    assert no_code.status_code == 400 and TOTPDevice.objects.filter(user=anna.user).exists()

    clock.shift(timedelta(seconds=30))
    ok = client.post(reverse("two_factor_off"), {"password": PASSWORD, "code": code_for(device)})
    assert ok.status_code == 302
    assert not TOTPDevice.objects.filter(user=anna.user).exists()
    assert not StaticDevice.objects.filter(user=anna.user).exists()
    assert AuditEntry.objects.filter(action="second_factor_removed", actor=anna.user).exists()
    client.post(reverse("logout"))
    assert password_login(client, anna.user.email).url == reverse("home")


def test_therapists_must_set_one_up_when_required(client, anna, erik, clock, settings):
    settings.THERAPISTS_REQUIRE_2FA = True
    answer = password_login(client, anna.user.email)
    assert answer.url == reverse("two_factor")
    assert client.get(reverse("therapist_pages:calendar")).url.startswith(reverse("two_factor"))
    assert client.get("/api/v1/therapist/calendar").status_code == 401
    assert client.get(reverse("two_factor")).status_code == 200
    setup = client.get(reverse("two_factor_totp"))
    assert setup.status_code == 200
    device = TOTPDevice.objects.get(user=anna.user)
    client.post(reverse("two_factor_totp"), {"code": code_for(device)})
    assert client.get(reverse("therapist_pages:calendar")).status_code == 200
    # Required: it cannot be turned off.
    assert client.get(reverse("two_factor_off")).status_code == 302
    assert TOTPDevice.objects.filter(user=anna.user, confirmed=True).exists()
    # A client is not asked.
    other = HttpClient()
    erik.user.set_password(PASSWORD)
    erik.user.save()
    assert password_login(other, erik.user.email).url == reverse("home")


def test_a_client_may_turn_it_on_too(client, erik, clock):
    client.force_login(erik.user)
    client.get(reverse("two_factor_totp"))
    device = TOTPDevice.objects.get(user=erik.user)
    client.post(reverse("two_factor_totp"), {"code": code_for(device)})
    client.post(reverse("logout"))
    clock.shift(timedelta(seconds=30))
    assert password_login(client, erik.user.email).url.startswith(reverse("login_otp"))
    assert client.get(reverse("client_pages:bookings")).status_code == 302
    client.post(reverse("login_otp"), {"code": code_for(device)})
    assert client.get(reverse("client_pages:bookings")).status_code == 200


@pytest.fixture
def staff(db):
    user = User.objects.create_user(email="staff@example.se", password=PASSWORD, email_verified=True)
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    return User.objects.get(pk=user.pk)


def admin_login(client, user):
    token_page = client.get(reverse("admin:login"))
    assert token_page.status_code == 200
    return client.post(reverse("admin:login"), {"username": user.email, "password": PASSWORD,
                                                "next": reverse("admin:index")})


def test_staff_without_a_device_set_one_up_before_the_admin_opens(client, staff, clock, settings):
    settings.STAFF_REQUIRE_2FA = True
    assert admin_login(client, staff).status_code == 302
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 302 and admin.url.startswith(reverse("two_factor"))
    assert client.get(reverse("admin:domain_auditentry_changelist")).status_code == 302
    client.get(reverse("two_factor_totp"))
    device = TOTPDevice.objects.get(user=staff)
    client.post(reverse("two_factor_totp"), {"code": code_for(device)})
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_with_a_device_give_the_code_before_the_admin_opens(client, staff, clock, settings):
    settings.STAFF_REQUIRE_2FA = True
    device = with_app(staff)
    admin_login(client, staff)
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 302 and admin.url == reverse("login_otp") + "?next=%2Fadmin%2F"
    assert client.get(reverse("admin:domain_user_changelist")).status_code == 302
    answer = client.post(reverse("login_otp"), {"code": code_for(device), "next": "/admin/"})
    assert answer.url == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_must_use_it_by_default_outside_debug():
    env = {k: v for k, v in os.environ.items() if k not in ("STAFF_REQUIRE_2FA", "DEBUG", "THERAPISTS_REQUIRE_2FA")}
    env["SECRET_KEY"] = "x" * 50
    probe = "import tidbok.settings as s; print(s.STAFF_REQUIRE_2FA, s.THERAPISTS_REQUIRE_2FA, s.SESSION_IDLE_MINUTES)"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True,
                         cwd=settings.BASE_DIR).stdout.split()
    assert out == ["True", "False", "60"]
    env["DEBUG"] = "true"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True,
                         cwd=settings.BASE_DIR).stdout.split()
    assert out[0] == "False"
    env["SESSION_IDLE_MINUTES"] = "0"
    assert subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                          cwd=settings.BASE_DIR).returncode != 0


# The API -------------------------------------------------------------------------------------

def token(client, email, otp=None, **extra):
    body = {"email": email, "password": PASSWORD, **extra}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/v1/auth/token", body, content_type="application/json")


def test_the_api_gives_a_token_only_with_the_code(client, anna, clock):
    device = with_app(anna.user)
    codes = tf.recovery_codes_create(user=anna.user)
    missing = token(client, anna.user.email)
    assert missing.status_code == 401 and missing.json()["code"] == "otp_required"
    wrong = token(client, anna.user.email, otp="000000" if code_for(device) != "000000" else "111111")
    assert wrong.status_code == 401 and wrong.json()["code"] == "otp_invalid"
    assert not ApiToken.objects.exists()
    clock.shift(timedelta(seconds=31))
    good = token(client, anna.user.email, otp=code_for(device))
    assert good.status_code == 200 and good.json()["role"] == "therapist"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {good.json()['token']}"})
    assert me.status_code == 200
    by_recovery = token(client, anna.user.email, otp=codes[0])
    assert by_recovery.status_code == 200
    assert token(client, anna.user.email, otp=codes[0]).json()["code"] == "otp_invalid"


def test_the_api_speaks_swedish_about_the_code(client, anna, clock):
    with_app(anna.user)
    answer = token(client, anna.user.email)
    assert answer.json()["code"] == "otp_required" and "kod" in answer.json()["detail"].lower()


def test_the_api_throttles_wrong_codes(client, anna, clock, settings):
    settings.LOGIN_MAX_FAILURES = 2
    device = with_app(anna.user)
    wrong = "000000" if code_for(device) != "000000" else "111111"
    answers = []
    for _ in range(3):
        clock.shift(timedelta(seconds=70))
        answers.append(token(client, anna.user.email, otp=wrong).status_code)
    assert answers == [401, 401, 429]
    assert token(client, anna.user.email, otp=code_for(device)).status_code == 429


def test_the_api_refuses_an_account_that_must_and_has_none(client, anna, clock, settings):
    settings.THERAPISTS_REQUIRE_2FA = True
    answer = token(client, anna.user.email)
    assert answer.status_code == 401 and answer.json()["code"] == "otp_setup_required"


def test_without_a_second_factor_the_api_needs_no_code(client, anna, clock):
    assert token(client, anna.user.email).status_code == 200


# Idle sessions --------------------------------------------------------------------------------

def test_an_idle_therapist_session_ends_and_the_next_request_goes_to_log_in(client, anna, clock, settings):
    settings.SESSION_IDLE_MINUTES = 60
    password_login(client, anna.user.email)
    calendar = reverse("therapist_pages:calendar")
    assert client.get(calendar).status_code == 200
    clock.shift(timedelta(minutes=59))
    assert client.get(calendar).status_code == 200  # activity keeps it
    clock.shift(timedelta(minutes=59))
    assert client.get(calendar).status_code == 200
    clock.shift(timedelta(minutes=61))
    gone = client.get(calendar)
    assert gone.status_code == 302 and gone.url == reverse("login") + "?next=%2Fkalender%2F"
    page = client.get(gone.url).content.decode()
    assert "60" in page and "minuter" in page
    assert client.get(calendar).status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_an_idle_staff_session_ends_too(client, staff, clock):
    client.force_login(staff)
    assert client.get(reverse("admin:index")).status_code == 200
    clock.shift(timedelta(minutes=61))
    assert client.get(reverse("admin:index")).url.startswith(reverse("login"))


def test_a_client_keeps_the_ordinary_session(client, erik, clock):
    client.force_login(erik.user)
    bookings = reverse("client_pages:bookings")
    assert client.get(bookings).status_code == 200
    clock.shift(timedelta(hours=5))
    assert client.get(bookings).status_code == 200


def test_the_api_session_of_an_idle_therapist_logs_no_one_in(client, anna, clock):
    client.force_login(anna.user)
    assert client.get("/api/v1/me").status_code == 200
    clock.shift(timedelta(minutes=61))
    assert client.get("/api/v1/me").status_code == 401


# Passkeys (the browser test registers one for real) --------------------------------------------

def passkey_for(user, name="Laptop") -> WebAuthnCredential:
    return WebAuthnCredential.objects.create(
        user=user, name=name, confirmed=True, credential_id=os.urandom(16), credential_id_sha256=os.urandom(16).hex(),
        public_key=b"x", sign_count=0, aaguid="00000000-0000-0000-0000-000000000000",
    )


def test_a_passkey_counts_as_a_second_factor_and_is_audited(client, anna, clock):
    passkey = passkey_for(anna.user)
    assert tf.has_second_factor(anna.user)
    entry = AuditEntry.objects.get(action="second_factor_added")
    assert entry.target_type == "webauthncredential" and entry.target_id == passkey.pk
    assert entry.after["kind"] == "passkey"
    answer = password_login(client, anna.user.email)
    assert answer.url.startswith(reverse("login_otp"))
    assert "passkey-verification-button" in client.get(answer.url).content.decode()


def test_she_removes_her_own_passkey_not_anothers(client, anna, bo, clock):
    mine, theirs = passkey_for(anna.user), passkey_for(bo.user, "Bo's")
    client.force_login(anna.user)
    # force_login proves no second factor: this session owes it.
    assert client.post(reverse("two_factor_passkey_delete", args=[mine.pk])).url.startswith(reverse("login_otp"))
    from django_otp import DEVICE_ID_SESSION_KEY

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = mine.persistent_id
    session.save()
    page = client.get(reverse("two_factor")).content.decode()
    assert "Laptop" in page
    assert client.post(reverse("two_factor_passkey_delete", args=[theirs.pk])).status_code == 404
    assert WebAuthnCredential.objects.filter(pk=theirs.pk).exists()
    assert client.post(reverse("two_factor_passkey_delete", args=[mine.pk])).status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=mine.pk).exists()
    removed = AuditEntry.objects.get(action="second_factor_removed")
    assert removed.target_id == mine.pk and removed.before["kind"] == "passkey"


def test_an_eid_session_owes_no_second_step(client, erik, clock):
    from tidbok.two_factor import EID_SESSION_KEY

    with_app(erik.user)
    client.force_login(erik.user)
    assert client.get(reverse("client_pages:bookings")).status_code == 302
    session = client.session
    session[EID_SESSION_KEY] = "eid"
    session.save()
    assert client.get(reverse("client_pages:bookings")).status_code == 200


def test_the_idle_stamp_is_not_written_on_every_request(client, anna, clock):
    client.force_login(anna.user)
    client.get(reverse("therapist_pages:calendar"))
    first = client.session["tidbok_seen"]
    clock.shift(timedelta(seconds=30))
    client.get(reverse("therapist_pages:calendar"))
    assert client.session["tidbok_seen"] == first
    clock.shift(timedelta(seconds=31))
    client.get(reverse("therapist_pages:calendar"))
    assert client.session["tidbok_seen"] == pytest.approx(time.time())


def test_staff_turn_it_off_for_someone_who_lost_her_phone(client, staff, anna, clock):
    with_app(anna.user)
    passkey_for(anna.user)
    tf.recovery_codes_create(user=anna.user)
    client.force_login(staff)
    answer = client.post(reverse("admin:domain_user_changelist"),
                         {"action": "second_factor_off", "_selected_action": [anna.user.pk]}, follow=True)
    assert answer.status_code == 200
    assert not tf.has_second_factor(anna.user) and tf.recovery_codes_left(anna.user) == 0
    entry = AuditEntry.objects.get(action="second_factor_removed")
    assert entry.actor_id == staff.pk and entry.target_id == anna.user.pk
    assert sorted(entry.before["kinds"]) == ["passkey", "recovery", "totp"]
    # The libraries' own English pages, where a removal would bypass the audit trail, are not there.
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404


def test_the_passkey_script_and_its_answers_speak_swedish(client, db):
    catalog = client.get(reverse("otp_webauthn:js-i18n-catalog")).content.decode()
    assert "Registrerar" in catalog and "Verifieringen lyckades!" in catalog
    refused = client.post(reverse("otp_webauthn:credential-registration-begin"), content_type="application/json")
    assert refused.status_code in (401, 403) and refused.json()["detail"] == "Du behöver logga in."


def test_make_runs_demo_staff_has_an_app_whose_key_is_printed(db, clock):
    from io import StringIO

    from django.core.management import call_command

    from domain.management.commands.demo_data import STAFF_EMAIL

    out = StringIO()
    call_command("demo_data", stdout=out)
    device = TOTPDevice.objects.get(user__email=STAFF_EMAIL, confirmed=True)
    assert secret_of(device) in out.getvalue() and "otpauth://totp/" in out.getvalue()
    again = StringIO()
    call_command("demo_data", stdout=again)  # every start prints it, the data loaded once
    assert secret_of(device) in again.getvalue()
    assert TOTPDevice.objects.filter(user__email=STAFF_EMAIL).count() == 1


def test_the_two_factor_page_writes_its_dates_in_swedish(client, anna, clock):
    """The page's dates read like the rest of Tidbok's ("11 januari 2027"), not Django's
    three-letter English-looking "11 Jan 2027"."""
    from django_otp import DEVICE_ID_SESSION_KEY

    passkey = passkey_for(anna.user)
    with_app(anna.user)
    client.force_login(anna.user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = passkey.persistent_id
    session.save()
    page = client.get(reverse("two_factor"), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "11 januari 2027" in page
    assert "11 Jan 2027" not in page


def test_the_account_pages_api_keys_have_swedish_dates(client, erik, clock):
    token_create(user=erik.user, label="Min app")
    client.force_login(erik.user)
    page = client.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Min app" in page
    assert "11 januari 2027" in page and "11 Jan 2027" not in page


def test_a_token_made_before_the_second_factor_was_required_opens_nothing_until_it_is_set_up(
        client, anna, erik, clock, settings):
    """THERAPISTS_REQUIRE_2FA turned on: the web sends her to the set-up and the API gives her
    no new token; the token she had from before must not read her clients either."""
    key = token_create(user=anna.user, label="before the rule")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get("/api/v1/therapist/clients", **bearer).status_code == 200
    settings.THERAPISTS_REQUIRE_2FA = True
    answer = client.get("/api/v1/therapist/clients", **bearer)
    assert answer.status_code == 401
    assert "andra steg" in answer.json()["detail"]
    assert client.get("/api/v1/me", **bearer).status_code == 401
    # With a second factor (and a token that came with its code) the API opens again.
    device = with_app(anna.user)
    fresh = client.post("/api/v1/auth/token", {"email": anna.user.email, "password": PASSWORD,
                                               "otp": code_for(device)}, content_type="application/json")
    assert fresh.status_code == 200
    assert client.get("/api/v1/therapist/clients",
                      HTTP_AUTHORIZATION=f"Bearer {fresh.json()['token']}").status_code == 200
