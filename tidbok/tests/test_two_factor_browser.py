"""R42 in Chromium, done-when of issue 11: staff log in to the admin with a code from an
authenticator app; a therapist sets up her app on the page (reading the secret the page shows
as text), logs out and logs in with it; a passkey registers and logs in with Chromium's own
virtual authenticator (the DevTools protocol's WebAuthn domain: real WebAuthn in the browser,
real verification by django-otp-webauthn and py_webauthn on the server). Codes are computed by
hand from RFC 6238 (tidbok/tests/totp.py), not by django-otp."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from domain.models import AuditEntry, User

from .totp import secret_of, totp_code

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture
def errors(page):
    found = []
    page.on("pageerror", lambda error: found.append(str(error)))
    yield found
    assert found == []


def log_in(page, base, email, next_path=""):
    page.goto(f"{base}/logga-in/" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in", exact=True).click()


def test_staff_log_in_to_the_admin_with_a_code_from_the_app(live_server, page, settings, errors):
    settings.STAFF_REQUIRE_2FA = True
    staff = User.objects.create_user(email="staff@example.se", password=PASSWORD, email_verified=True)
    User.objects.filter(pk=staff.pk).update(is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)

    page.goto(f"{live_server.url}/admin/")
    page.locator("#id_username").fill(staff.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    # The password was right; the admin is not open yet.
    expect(page).to_have_url(re.compile(r"/logga-in/kod/\?next=%2Fadmin%2F$"))
    page.goto(f"{live_server.url}/admin/domain/auditentry/")
    expect(page).to_have_url(re.compile(r"/logga-in/kod/"))

    page.get_by_label("Kod").fill(totp_code(secret_of(device)))
    page.get_by_role("button", name="Fortsätt").click()
    expect(page).to_have_url(re.compile(r"/admin/domain/auditentry/$"))
    expect(page.locator("#site-name")).to_be_visible()


def test_a_therapist_sets_up_the_app_logs_out_and_logs_in_with_it(live_server, page, anna, errors):
    log_in(page, live_server.url, anna.user.email)
    expect(page).to_have_url(re.compile(r"/kalender/"))
    page.get_by_role("link", name="Konto").click()
    page.get_by_role("link", name="Tvåstegsverifiering").click()
    page.get_by_role("link", name="Ställ in en autentiseringsapp").click()
    expect(page.get_by_role("img", name="QR-kod med nyckeln till din autentiseringsapp")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Kod").fill(totp_code(secret))
    page.get_by_role("button", name="Slå på").click()

    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    page.get_by_role("link", name="Jag har sparat dem").click()
    expect(page.get_by_text("Används sedan")).to_be_visible()
    assert AuditEntry.objects.filter(actor=anna.user, action="second_factor_added").count() == 1

    page.get_by_role("button", name="Logga ut").click()
    log_in(page, live_server.url, anna.user.email)
    expect(page).to_have_url(re.compile(r"/logga-in/kod/"))
    # The code of the next step: the one used at set-up cannot be used again (replay).
    page.get_by_label("Kod").fill(totp_code(secret, offset=1))
    page.get_by_role("button", name="Fortsätt").click()
    expect(page).to_have_url(re.compile(r"/kalender/"))
    expect(page.get_by_role("link", name="Klienter")).to_be_visible()


def virtual_authenticator(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
    }})
    return cdp


def test_a_passkey_registers_and_logs_in(live_server, page, anna, settings, errors):
    # A passkey belongs to a domain: the live server is http://localhost:PORT.
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    assert live_server.url.startswith("http://localhost:")
    virtual_authenticator(page)

    log_in(page, live_server.url, anna.user.email)
    expect(page).to_have_url(re.compile(r"/kalender/"))
    page.goto(f"{live_server.url}/konto/tvastegsverifiering/")
    page.get_by_role("button", name="Lägg till en passkey").click()
    # Her first factor brings recovery codes, shown once (a lost passkey is not a locked door),
    # then the page shows the new passkey in the list.
    expect(page.get_by_role("heading", name="Reservkoder")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="Jag har sparat dem").click()
    expect(page.get_by_role("button", name=re.compile("^Ta bort"))).to_have_count(1)
    expect(page.get_by_text("Du har 10 oanvända reservkoder")).to_be_visible()
    passkey = WebAuthnCredential.objects.get(user=anna.user)
    assert passkey.confirmed
    assert AuditEntry.objects.filter(action="second_factor_added", target_id=passkey.pk).exists()

    page.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(r"/logga-in/$"))
    # No e-mail, no password: the passkey alone (the device and its user verification).
    page.get_by_role("button", name="Använd passkey").click()
    expect(page).to_have_url(re.compile(r"/kalender/"))
    expect(page.get_by_role("link", name="Klienter")).to_be_visible()
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None

    # As the second step after a password, too.
    page.get_by_role("button", name="Logga ut").click()
    log_in(page, live_server.url, anna.user.email)
    expect(page).to_have_url(re.compile(r"/logga-in/kod/"))
    page.get_by_role("button", name="Använd passkey").click()
    expect(page).to_have_url(re.compile(r"/kalender/"))
