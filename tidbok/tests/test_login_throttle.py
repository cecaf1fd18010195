"""The log-in throttle of R28 as a guesser on the network meets it: real HTTP from real source
addresses to Django's live server (a threaded server in this process), the real database,
nothing of ours replaced.

Loopback is a whole /8, so two "people" on one machine are two source addresses: the owner at
127.0.0.1 and a stranger at 127.0.0.2 (`http.client.HTTPConnection(..., source_address=...)`),
and the server reads REMOTE_ADDR as in production without a proxy. Every surface with a
password is tried: the API's token, the log-in page and the admin's log-in, which must share
one counter (docs/security.md, findings 4 and 5)."""

import http.client
import json
import re
import threading
import traceback
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings

from domain.models import User

PASSWORD = "correct horse battery"  # the personas' password (conftest)
OWNER, STRANGER = "127.0.0.1", "127.0.0.2"
THROTTLED = "För många misslyckade försök"  # sv of "Too many failed attempts. Wait 15 minutes …"
WRONG_ON_LOGIN_PAGE = "Fel e-postadress eller lösenord"
WRONG_ON_ADMIN = "Ange e-post och lösenord för ett personalkonto"  # Django's admin, in Swedish
RACE_TIMEOUT = 60

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    text: str

    def json(self):
        return json.loads(self.text)


class Caller:
    """Someone at one source address: a connection of her own for every request, and her
    cookies kept between them (what a browser does, without one)."""

    def __init__(self, live_server, source: str):
        self.port = live_server.thread.port
        self.source = source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                connection: http.client.HTTPConnection | None = None) -> Answer:
        conn = connection or self.connect()
        headers = {"Host": f"127.0.0.1:{self.port}", "Connection": "close", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        for line in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(line).items():
                self.cookies[name] = morsel.value
        return Answer(response.status, response.headers, text)

    def connect(self) -> http.client.HTTPConnection:
        """An open connection from this caller's address (so a race can connect first and
        then all send at once)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=RACE_TIMEOUT, source_address=(self.source, 0))
        conn.connect()
        return conn

    def token(self, email: str, password: str, connection=None) -> Answer:
        body = json.dumps({"email": email, "password": password}).encode()
        return self.request("POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"}, connection)

    def csrf(self, path: str) -> str:
        """Fetch a form page (which sets the CSRF cookie) and answer the form's token."""
        page = self.request("GET", path)
        assert page.status == 200, (path, page.status)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def post_form(self, path: str, fields: dict, csrf_token: str, connection=None) -> Answer:
        body = urlencode({"csrfmiddlewaretoken": csrf_token, **fields}).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}, connection)

    def login_page(self, email: str, password: str, csrf_token: str | None = None) -> Answer:
        token = csrf_token or self.csrf("/logga-in/")
        return self.post_form("/logga-in/", {"email": email, "password": password}, token)

    def admin_login(self, email: str, password: str, csrf_token: str | None = None, connection=None) -> Answer:
        token = csrf_token or self.csrf("/admin/login/?next=/admin/")
        return self.post_form("/admin/login/?next=/admin/", {"username": email, "password": password, "next": "/admin/"},
                              token, connection)


def error_text(answer: Answer) -> str:
    """The form's error block (the log-in page's and the admin's), tags dropped."""
    block = re.search(r'<(?:div|p) class="(?:form-errors|errornote)"[^>]*>(.*?)</(?:div|p)>', answer.text, re.S)
    assert block, answer.text[:2000]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block.group(1))).strip()


@pytest.fixture
def owner(live_server):
    return Caller(live_server, OWNER)


@pytest.fixture
def stranger(live_server):
    return Caller(live_server, STRANGER)


@pytest.fixture
def staff(db):
    return User.objects.create_superuser(email="stina@example.se", password=PASSWORD, first_name="Stina",
                                         last_name="Staff")


def race(calls):
    """Run each call in its own thread, all released at once by a barrier; answer the results
    in order. An exception in any thread fails the test with its traceback."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(i, call):
        try:
            results[i] = call(barrier)
        except BaseException:
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RACE_TIMEOUT * 2)
    assert not any(t.is_alive() for t in threads), "a racing request hung"
    assert not errors, "\n".join(errors)
    return results


# Finding 4: anyone can lock anyone out ----------------------------------------------------


def test_a_guesser_elsewhere_is_stopped_at_the_api_but_the_owner_still_gets_her_token(anna, owner, stranger):
    limit = django_settings.LOGIN_MAX_FAILURES
    answers = [stranger.token("anna@example.se", f"guess-{i}") for i in range(limit * 3)]

    assert [a.status for a in answers] == [401] * limit + [429] * (limit * 2)
    assert answers[0].json()["detail"] == "Fel e-postadress eller lösenord."
    assert all(int(a.headers["Retry-After"]) > 0 for a in answers[limit:])
    assert answers[-1].json()["detail"] == "För många misslyckade försök. Vänta 15 minuter och försök igen."
    assert stranger.token("anna@example.se", PASSWORD).status == 429  # the right one too: it is not checked

    mine = owner.token("Anna@example.se ", PASSWORD)  # from her own address
    assert mine.status == 200
    assert mine.json()["role"] == "therapist" and len(mine.json()["token"]) > 20
    me = owner.request("GET", "/api/v1/me", headers={"Authorization": f"Bearer {mine.json()['token']}"})
    assert me.status == 200 and me.json()["email"] == "anna@example.se"


def test_a_guesser_elsewhere_is_stopped_at_the_login_page_but_the_owner_logs_in(anna, owner, stranger):
    limit = django_settings.LOGIN_MAX_FAILURES
    token = stranger.csrf("/logga-in/")
    answers = [stranger.login_page("anna@example.se", f"guess-{i}", token) for i in range(limit * 3)]

    assert [a.status for a in answers] == [400] * limit + [429] * (limit * 2)
    assert WRONG_ON_LOGIN_PAGE in error_text(answers[0])
    assert THROTTLED in error_text(answers[-1])
    refused = stranger.login_page("anna@example.se", PASSWORD, token)
    assert refused.status == 429 and THROTTLED in error_text(refused)
    assert "sessionid" not in stranger.cookies

    welcome = owner.login_page("anna@example.se", PASSWORD)
    assert welcome.status == 302 and welcome.headers["Location"] == "/"
    assert "sessionid" in owner.cookies
    assert owner.request("GET", "/").headers["Location"] == "/kalender/"  # hers: a therapist's first view
    calendar = owner.request("GET", "/kalender/")
    assert calendar.status == 200 and "Logga ut" in calendar.text


# Finding 5: the admin's log-in is throttled, with the same counter ------------------------


def test_the_admin_login_is_throttled_by_the_same_counter_and_the_owner_still_gets_in(staff, owner, stranger):
    token = stranger.csrf("/admin/login/?next=/admin/")
    answers = [stranger.admin_login(staff.email, f"guess-{i}", token) for i in range(25)]

    limit = django_settings.LOGIN_MAX_FAILURES
    assert all(a.status == 200 for a in answers)  # the admin shows its form again; nobody got in
    assert [THROTTLED in error_text(a) for a in answers] == [False] * limit + [True] * (25 - limit)
    assert WRONG_ON_ADMIN in error_text(answers[0])
    refused = stranger.admin_login(staff.email, PASSWORD, token)
    assert refused.status == 200 and THROTTLED in error_text(refused)
    assert "sessionid" not in stranger.cookies
    assert stranger.request("GET", "/admin/").status == 302  # still sent to the log-in

    # One counter for every surface: the API from the guesser's address is closed too.
    assert stranger.token(staff.email, PASSWORD).status == 429

    welcome = owner.admin_login(staff.email, PASSWORD)
    assert welcome.status == 302 and welcome.headers["Location"] == "/admin/"
    admin = owner.request("GET", "/admin/")
    assert admin.status == 200 and "Stina" in admin.text and "Logga ut" in admin.text


# Finding 5: parallel wrong passwords do not pass the limit -------------------------------

RACERS = 20


def test_parallel_wrong_passwords_at_the_api_get_exactly_the_limit_checked(anna, stranger):
    def guess(i):
        def call(barrier):
            conn = stranger.connect()  # connected first, so that the requests leave together
            barrier.wait(timeout=RACE_TIMEOUT)
            return stranger.token("anna@example.se", f"guess-{i}", connection=conn).status
        return call

    statuses = race([guess(i) for i in range(RACERS)])

    limit = django_settings.LOGIN_MAX_FAILURES
    assert sorted(statuses) == [401] * limit + [429] * (RACERS - limit), statuses


def test_parallel_wrong_passwords_at_the_admin_get_exactly_the_limit_checked(staff, stranger):
    token = stranger.csrf("/admin/login/?next=/admin/")

    def guess(i):
        def call(barrier):
            conn = stranger.connect()
            barrier.wait(timeout=RACE_TIMEOUT)
            return stranger.admin_login(staff.email, f"guess-{i}", token, connection=conn)
        return call

    answers = race([guess(i) for i in range(RACERS)])

    limit = django_settings.LOGIN_MAX_FAILURES
    assert all(a.status == 200 for a in answers), [a.status for a in answers]
    throttled = [THROTTLED in error_text(a) for a in answers]
    assert throttled.count(False) == limit, throttled  # exactly the limit had the password checked
    assert throttled.count(True) == RACERS - limit
    assert all(WRONG_ON_ADMIN in error_text(a) for a in answers if THROTTLED not in error_text(a))


# LOGIN_MAX_FAILURES_PER_SOURCE: one address trying many accounts ----------------------------


def test_one_address_trying_many_accounts_is_stopped_for_every_account_but_not_others(
    anna, owner, stranger, settings
):
    settings.LOGIN_MAX_FAILURES_PER_SOURCE = 7  # the live server's thread reads the same settings
    answers = [stranger.token(f"person{i}@example.se", "guess") for i in range(7)]
    assert [a.status for a in answers] == [401] * 7  # each account alone is far below its limit

    assert stranger.token("person7@example.se", "guess").status == 429
    assert stranger.token("anna@example.se", PASSWORD).status == 429  # an account it never tried
    token = stranger.csrf("/logga-in/")
    assert THROTTLED in error_text(stranger.login_page("anna@example.se", PASSWORD, token))

    assert owner.token("anna@example.se", PASSWORD).status == 200
    assert owner.token("person0@example.se", "guess").status == 401
