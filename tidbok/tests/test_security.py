"""Security as the browser and the logs see it: headers and the Content-Security-Policy,
no inline scripts in any page we serve, CSRF on every session-authenticated write, cookie
flags behind HTTPS, and no personnummer or password in any log line (R24)."""

import json
import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver

from api.tests.helpers import slot_for
from conftest import TODAY, Api, api_for, days_ahead, mailed_link, pnr, run_worker

ROOT = Path(__file__).resolve().parent.parent.parent


# Headers ----------------------------------------------------------------------------------
def csp_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/logga-in/", "/api/v1/health", "/api/v1/therapists"])
def test_every_answer_carries_the_security_headers(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    csp = csp_of(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["script-src"][0] == "'self'"
    assert all(src == "'self'" or src.startswith("'nonce-") for src in csp["script-src"]), csp["script-src"]
    assert "'unsafe-inline'" not in str(csp) and "'unsafe-eval'" not in str(csp)


# No caching of private answers --------------------------------------------------------------
PRIVATE_ANSWERS = [
    ("token", "/api/v1/me", 200),
    ("token", "/api/v1/therapist/calendar", 200),
    ("anonymous", "/api/v1/me", 401),
    ("therapist", "/kalender/", 200),
    ("client", "/mina-bokningar/", 200),
    ("anonymous", "/logga-in/", 200),
    ("staff", "/admin/", 200),
    ("therapist", "/kalender/tider/999999/", 404),
]


@pytest.mark.parametrize(("who", "path", "status"), PRIVATE_ANSWERS, ids=[f"{w} {p}" for w, p, _ in PRIVATE_ANSWERS])
def test_no_private_answer_or_page_may_be_stored_by_a_cache(who, path, status, anna, erik, django_user_model):
    """A shared computer's browser cache, or a proxy, must not keep a calendar, a client list
    or a login page: every dynamic answer says no-store unless it chose its own caching."""
    http = HttpClient()
    headers = api_for(anna.user).headers if who == "token" else {}
    if who in ("therapist", "client", "staff"):
        user = {"therapist": anna.user, "client": erik.user}.get(who) or django_user_model.objects.create_superuser(
            email="staff@example.se", password="correct horse battery")
        http.force_login(user)

    response = http.get(path, headers=headers)

    assert response.status_code == status
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= directives, response.get("Cache-Control")


def test_a_static_file_keeps_whitenoises_long_cache_header(settings, tmp_path):
    from django.contrib.staticfiles.storage import staticfiles_storage

    import tidbok.settings as production

    settings.STATIC_ROOT = tmp_path
    settings.STATICFILES_DIRS = []  # our own files are enough, and quick to collect
    settings.STORAGES = {**settings.STORAGES, "staticfiles": production.STORAGES["staticfiles"]}
    call_command("collectstatic", "--noinput", "-v", "0")
    url = staticfiles_storage.url("tidbok/site.css")
    assert url != "/static/tidbok/site.css"  # the hashed name, as in production

    response = HttpClient().get(url)

    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"


# No inline scripts in any page ------------------------------------------------------------
class ScriptFinder(HTMLParser):
    """Inline <script> bodies (other than JSON data blocks), inline event handlers and
    javascript: URLs: everything a CSP without 'unsafe-inline' is there to forbid."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> inline event handler")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "script" and not attrs.get("src"):
            self._in_inline_script = (attrs.get("type") or "").lower() not in ("application/json",
                                                                              "application/ld+json")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:80]!r}")


def page_paths() -> list[str]:
    """Every page pattern of ours (not the admin, not the API) with its parameters filled with
    a placeholder: the pages that need a real object answer 404 for it, which is a page too."""
    paths = []

    def walk(patterns, prefix):
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                if route.startswith(("admin/", "api/")):
                    continue
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern):
                paths.append("/" + re.sub(r"<(?:\w+:)?\w+>", "1", prefix + route).lstrip("^").rstrip("$"))

    walk(get_resolver().url_patterns, "")
    return sorted(set(paths)) + ["/admin/login/"]


@pytest.fixture
def browsers(anna, erik):
    anon = HttpClient()
    therapist = HttpClient()
    therapist.force_login(anna.user)
    client = HttpClient()
    client.force_login(erik.user)
    return {"anonymous": anon, "therapist": therapist, "client": client}


def test_no_page_we_serve_has_an_inline_script(browsers, anna, erik, now):
    from api.tests.helpers import booked

    booking = booked(slot_for(anna, "2027-01-12 09:00"), erik, mode="video")
    paths = page_paths() + [f"/video/{booking.video_token}"]
    checked = 0
    problems = []
    for who, browser in browsers.items():
        for path in paths:
            response = browser.get(path, follow=True)
            if "text/html" not in response.get("Content-Type", ""):
                continue
            checked += 1
            finder = ScriptFinder()
            finder.feed(response.content.decode())
            problems += [f"{who} {path}: {p}" for p in finder.problems]
            if response.status_code == 200:
                assert "Content-Security-Policy" in response.headers, path
    assert checked >= 6
    assert problems == []


# CSRF -------------------------------------------------------------------------------------
API_WRITES = [
    ("patch", "/therapist/settings", {"default_price": 1100}),
    ("post", "/therapist/slots", {"start": "2027-01-20T09:00:00+01:00"}),
    ("patch", "/therapist/slots/{slot}", {"price": 900}),
    ("delete", "/therapist/slots/{slot}", None),
    ("post", "/therapist/clients", {"first_name": "Ny", "last_name": "Klient", "personnummer": "x", "email": "n@x.se"}),
    ("post", "/therapist/slots/{slot}/booking", {"client_id": 1, "mode": "video"}),
    ("post", "/slots/{slot}/book", {"mode": "video"}),
    ("post", "/bookings/{booking}/cancel", {}),
    ("post", "/bookings/{booking}/video-link", {}),
]


def session_client(user) -> HttpClient:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(user)
    return http


def send(http, method, path, body, token=None):
    headers = {"X-CSRFToken": token} if token else {}
    data = json.dumps(body) if body is not None else None
    kwargs = {"content_type": "application/json", "headers": headers}
    if data is not None:
        kwargs["data"] = data
    return getattr(http, method)(f"/api/v1{path}", **kwargs)


@pytest.mark.parametrize(("method", "path", "body"), API_WRITES, ids=[f"{m} {p}" for m, p, _ in API_WRITES])
@pytest.mark.parametrize("role", ["therapist", "client"])
def test_a_session_write_to_the_api_without_the_csrf_token_is_refused(method, path, body, role, anna, erik, now):
    from api.tests.helpers import booked

    slot = slot_for(anna, "2027-01-13 09:00")
    booking = booked(slot_for(anna, "2027-01-14 09:00"), erik)
    user = anna.user if role == "therapist" else erik.user
    http = session_client(user)
    path = path.format(slot=slot.pk, booking=booking.pk)

    refused = send(http, method, path, body)
    assert refused.status_code == 403, refused.content
    assert b"CSRF" in refused.content

    http.get("/logga-in/")  # the page sets the CSRF cookie
    token = http.cookies["csrftoken"].value
    accepted = send(http, method, path, body, token=token)
    assert accepted.status_code != 403 or b"CSRF" not in accepted.content, accepted.content


def test_a_bearer_token_needs_no_csrf_token(anna, now):
    api = api_for(anna.user)
    api.http = HttpClient(enforce_csrf_checks=True)
    assert api.post("/therapist/slots", {"start": "2027-01-20T09:00:00+01:00"}).status_code == 201


def test_every_page_refuses_a_post_without_the_csrf_token(anna, erik):
    """Whatever a page does with a POST, the CSRF middleware stops one without the token
    first: no page of ours is csrf_exempt."""
    refused = {}
    for user in (anna.user, erik.user):
        http = session_client(user)
        for path in page_paths():
            response = http.post(path, {"x": "1"})
            refused[(user.email, path)] = response.status_code
    assert {k: v for k, v in refused.items() if v != 403} == {}


# Cookies behind HTTPS ---------------------------------------------------------------------
def settings_under(env: dict) -> dict:
    code = (
        "import json, django; from django.conf import settings as s; django.setup(); print(json.dumps({k: getattr(s, k) "
        "for k in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', "
        "'CSRF_COOKIE_SAMESITE', 'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT', 'SECURE_PROXY_SSL_HEADER', "
        "'CSRF_TRUSTED_ORIGINS', 'DEBUG']}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SITE_URL", "DEBUG", "SECURE_"))}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
        env={**clean, "DJANGO_SETTINGS_MODULE": "tidbok.settings", "SECRET_KEY": "s" * 50, **env},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_behind_https_the_cookies_are_secure_httponly_and_samesite():
    s = settings_under({"SITE_URL": "https://tidbok.example"})

    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["CSRF_COOKIE_SECURE"] is True
    assert s["SESSION_COOKIE_HTTPONLY"] is True
    assert s["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert s["CSRF_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert s["SECURE_HSTS_SECONDS"] >= 31536000
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["CSRF_TRUSTED_ORIGINS"] == ["https://tidbok.example"]
    assert s["DEBUG"] is False


def test_a_login_behind_https_sets_a_secure_httponly_samesite_session_cookie(anna, settings):
    s = settings_under({"SITE_URL": "https://tidbok.example"})
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE"):
        setattr(settings, name, s[name])
    http = HttpClient()

    response = http.post("/logga-in/", {"email": "anna@example.se", "password": "correct horse battery"}, secure=True)

    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_over_plain_http_the_settings_do_not_claim_https():
    s = settings_under({"SITE_URL": "http://127.0.0.1:8000"})
    assert (s["SESSION_COOKIE_SECURE"], s["SECURE_SSL_REDIRECT"], s["SECURE_HSTS_SECONDS"]) == (False, False, 0)
    assert s["SESSION_COOKIE_HTTPONLY"] is True


# Logs -------------------------------------------------------------------------------------
PASSWORD = "Zebra-kvist 4711 Qx"


def forms_of(number: str) -> set[str]:
    """Every written form of a personnummer: 12 and 10 digits, with and without - (and +)."""
    digits = number.replace("-", "")
    return {number, digits, digits[2:], f"{digits[2:8]}-{digits[8:]}", f"{digits[2:8]}+{digits[8:]}"}


@pytest.mark.django_db(transaction=True)
def test_a_full_booking_flow_logs_no_personnummer_and_no_password(caplog, settings, anna, make_client):
    settings.EMAIL_RETRY_DELAY = 0
    caplog.set_level(logging.DEBUG)  # every logger,
    for name in ("django.db.backends", "django", "django.request", "django_tasks", "domain", "gunicorn"):
        caplog.set_level(logging.DEBUG, logger=name)  # including those the settings hold at INFO
    connection.force_debug_cursor = True  # django.db.backends logs each query with its parameters
    anon = Api()
    try:
        own_number = pnr("19610101", "234")
        signup_number = pnr("19770707", "456")
        signed_up = anon.post("/auth/signup", {
            "role": "client", "email": "sigrid@example.se", "password": PASSWORD, "first_name": "Sigrid",
            "last_name": "Svensson", "personnummer": signup_number})
        assert signed_up.status_code == 202, signed_up.content
        run_worker()  # the sign-up, then its verification mail
        assert HttpClient().post(mailed_link("email_verification"), {"password": PASSWORD}).status_code == 302
        wrong = anon.post("/auth/token", {"email": "sigrid@example.se", "password": PASSWORD + "x"})
        assert wrong.status_code == 401
        token = anon.post("/auth/token", {"email": "sigrid@example.se", "password": PASSWORD}).json()["token"]
        sigrid = Api(token)
        anna_api = api_for(anna.user)
        added = anna_api.post("/therapist/clients", {
            "first_name": "Tore", "last_name": "Torsson", "personnummer": own_number.replace("-", "")[2:],
            "email": "tore@example.se"})
        assert added.status_code == 201, added.content
        monday = days_ahead(7 - TODAY.weekday(), "00:00")  # a week whose slots lie ahead on the real clock
        s1 = anna_api.post("/therapist/slots", {"start": (monday + timedelta(hours=9)).isoformat()}).json()["id"]
        s2 = anna_api.post("/therapist/slots", {"start": (monday + timedelta(days=1, hours=9)).isoformat()}).json()["id"]
        assert anna_api.post(f"/therapist/slots/{s1}/booking", {"client_id": added.json()["id"], "mode": "onsite"}
                             ).status_code == 201
        booking = sigrid.post(f"/slots/{s2}/book", {"mode": "video"})
        assert booking.status_code == 201, booking.content
        assert anna_api.get("/therapist/calendar", start=monday.isoformat(),
                            end=(monday + timedelta(days=7)).isoformat()).status_code == 200
        assert anna_api.get("/therapist/clients", q=own_number).status_code == 200  # a number typed in search
        assert sigrid.post(f"/bookings/{booking.json()['id']}/cancel").status_code == 200
        # The login page, with a wrong and a right password.
        page = HttpClient()
        page.post("/logga-in/", {"email": "sigrid@example.se", "password": PASSWORD + "x"})
        page.post("/logga-in/", {"email": "sigrid@example.se", "password": PASSWORD})
        call_command("db_worker", "--batch", "--no-startup-delay")
    finally:
        connection.force_debug_cursor = False

    lines = [record.getMessage() for record in caplog.records] + [caplog.text]
    logged = "\n".join(lines)
    assert "domain_booking" in logged, "the SQL log was not captured; the test proves nothing"
    for number in (own_number, signup_number):
        for form in forms_of(number):
            assert form not in logged, f"personnummer {form} in the logs"
    assert PASSWORD not in logged
    assert "Zebra-kvist" not in logged
