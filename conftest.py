"""The named personas every test can use (healthchecks' BaseTestCase, pretix's api conftest):
Anna, a therapist with Client Booster; Erik, her existing client; Nora, a new client on no
list; Bo, another therapist without Client Booster. API clients carry each one's token."""

import email
import email.policy
import http.client
import json
import os
import shutil
import socket
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from stdnum import luhn

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def pnr(birth: str, serial: str = "123") -> str:
    """A valid personnummer YYYYMMDD-NNNN for a birth date and a three-digit serial."""
    body = birth[2:] + serial
    return f"{birth}-{serial}{luhn.calc_check_digit(body)}"


def at(text: str) -> datetime:
    """'2027-01-11 09:00' in Stockholm time, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


# The day the test run started, in Stockholm: fixed for the run, so that a test that crosses
# midnight still gets the same day from each call of `days_ahead`.
TODAY = datetime.now(STOCKHOLM).date()


def connected(therapist) -> None:
    """R38: give her an external calendar's address, as busy times exist only with one (a test
    that writes `BusyTime` rows itself calls this first)."""
    from domain.models import Therapist

    therapist.busy_calendar_url = "https://calendar.example.se/secret/basic.ics"
    Therapist.objects.filter(pk=therapist.pk).update(busy_calendar_url=therapist.busy_calendar_url)


def days_ahead(days: int, time: str = "09:00") -> datetime:
    """`time` in Stockholm on the day `days` days after the run's first day by the real clock,
    as an aware datetime. For the tests that cannot freeze time (threads on their own
    connections, other processes, a live server): their slots lie in the future whatever year
    the suite runs in."""
    day = TODAY + timedelta(days=days)
    return datetime.fromisoformat(f"{day.isoformat()} {time}").replace(tzinfo=STOCKHOLM)


postgres_only = pytest.mark.skipif(
    not settings.IS_POSTGRES, reason="needs PostgreSQL: run with DATABASE_URL=postgres://…"
)


class Api:
    """Django's test client speaking JSON with one persona's bearer token."""

    def __init__(self, token: str | None = None):
        self.http = HttpClient()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method, path, body=None, **params):
        kwargs = {"headers": self.headers}
        if body is not None:
            kwargs["data"] = json.dumps(body) if not isinstance(body, (str, bytes)) else body
            kwargs["content_type"] = "application/json"
        elif params:
            kwargs["data"] = params
        return getattr(self.http, method)(f"/api/v1{path}", **kwargs)

    def get(self, path, **params):
        return self._call("get", path, **params)

    def post(self, path, body=None):
        return self._call("post", path, body if body is not None else {})

    def patch(self, path, body):
        return self._call("patch", path, body)

    def delete(self, path):
        return self._call("delete", path)


@pytest.fixture
def make_therapist(db):
    from domain.models import MAX_BOOKING_HORIZON_DAYS, Therapist, User

    def make(email="anna@example.se", first="Anna", last="Andersson", booster=True, **settings_fields):
        # R35: the tests of the other rules book slots an hour ahead and months away (fixed
        # dates, frozen or not), so their therapists take any time a client picks; R35's own
        # tests (domain/tests/test_booking_window.py) give the window, or the model's defaults.
        settings_fields.setdefault("min_notice_hours", 0)
        settings_fields.setdefault("booking_horizon_days", MAX_BOOKING_HORIZON_DAYS)
        user = User.objects.create_user(
            email=email, password="correct horse battery", first_name=first, last_name=last, email_verified=True
        )
        return Therapist.objects.create(user=user, client_booster=booster, **settings_fields)

    return make


@pytest.fixture
def make_client(db):
    from domain.models import Client, ClientLink, User

    counter = iter(range(100, 999))

    def make(first="Erik", last="Eriksson", birth="19850312", email=None, therapist=None, source="own", login=True,
             language="sv"):
        serial = f"{next(counter):03d}"
        email = email or f"{first.lower()}.{last.lower()}.{serial}@example.se".encode("ascii", "ignore").decode()
        user = (
            User.objects.create_user(
                email=email, password="correct horse battery", first_name=first, last_name=last, email_verified=True
            )
            if login
            else None
        )
        client = Client.objects.create(
            user=user, personnummer=pnr(birth, serial), first_name=first, last_name=last, email=email, language=language
        )
        if therapist is not None:
            ClientLink.objects.create(therapist=therapist, client=client, source=source)
        return client

    return make


@pytest.fixture
def anna(make_therapist):
    return make_therapist()


@pytest.fixture
def bo(make_therapist):
    return make_therapist(email="bo@example.se", first="Bo", last="Berg", booster=False)


@pytest.fixture
def erik(make_client, anna):
    return make_client(therapist=anna)


@pytest.fixture
def nora(make_client):
    return make_client(first="Nora", last="Nilsson", birth="19920704")


def process_account_requests() -> list[str]:
    """The worker's half of every sign-up and reset waiting, oldest first: what the task
    `process_account_request` runs (the tests call it directly, in the test's transaction)."""
    from domain.models import AccountRequest
    from domain.services import account_request_process

    return [account_request_process(request_id=pk) for pk in AccountRequest.objects.order_by("pk").values_list("pk", flat=True)]


def mailed_link(kind: str, to: str | None = None) -> str:
    """The link (path and query, without the site) in the newest outbox mail of `kind`."""
    from domain.models import OutboundEmail

    mails = OutboundEmail.objects.filter(kind=kind)
    if to is not None:
        mails = mails.filter(to=to)
    body = mails.latest("pk").body
    url = next(line for line in body.splitlines() if line.startswith(settings.SITE_URL))
    return url[len(settings.SITE_URL):]


def api_for(user) -> Api:
    from domain.services import token_create

    return Api(token_create(user=user))


@pytest.fixture
def anna_api(anna):
    return api_for(anna.user)


@pytest.fixture
def bo_api(bo):
    return api_for(bo.user)


@pytest.fixture
def erik_api(erik):
    return api_for(erik.user)


@pytest.fixture
def nora_api(nora):
    return api_for(nora.user)


@pytest.fixture
def anon_api(db):
    return Api()


@pytest.fixture
def now():
    """Time frozen at Monday 2027-01-11 08:00 in Stockholm (winter time, +01:00)."""
    import time_machine

    with time_machine.travel(at("2027-01-11 08:00"), tick=False) as traveller:
        yield traveller


os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Browser tests (pytest-playwright driving Debian's Chromium; RECIPES.md) -------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed: `apt-get install chromium` (CI and `make test` as root do it)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Swedish by default (R23), in the therapists' zone, a laptop-sized window.
    return {**browser_context_args, "locale": "sv-SE", "timezone_id": "Europe/Stockholm",
            "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def login_as(live_server, context):
    """Log a persona in to the browser context by giving it a real session cookie."""

    def login(user):
        http = HttpClient()
        http.force_login(user)
        context.add_cookies([{
            "name": settings.SESSION_COOKIE_NAME,
            "value": http.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": live_server.url,
        }])

    return login


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# A real SMTP server for the tests (aiosmtpd on loopback), and the production worker ---------


class Inbox:
    """What the SMTP server received: one parsed message per envelope."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self):
        return [
            email.message_from_bytes(e.original_content or e.content, policy=email.policy.default) for e in self.envelopes
        ]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_smtp_server(port: int, inbox: Inbox | None = None):
    """An SMTP server on 127.0.0.1:port delivering into `inbox`; answers (controller, inbox)."""
    from aiosmtpd.controller import Controller

    inbox = inbox or Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="smtp.test")
    controller.start()
    return controller, inbox


def use_smtp(settings, port: int, retry_delay: int = 30) -> None:
    """Send Django's mail to 127.0.0.1:port, as production does with EMAIL_HOST set."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    settings.EMAIL_RETRY_DELAY = retry_delay


def run_worker() -> None:
    """One batch of the production worker. It installs its own signal handlers for a graceful
    shutdown; the test runner's are put back afterwards."""
    import signal

    from django.core.management import call_command

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay")
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@pytest.fixture
def smtp(settings):
    """A running SMTP server that Django sends to; yields its inbox."""
    port = free_port()
    use_smtp(settings, port)
    controller, inbox = start_smtp_server(port)
    yield inbox
    controller.stop()


def http_json(port: int, method: str, path: str, token: str | None = None, body=None,
              timeout: float = 30) -> tuple[int, object]:
    """One request to a server of the tests' own on loopback (a real gunicorn, a load
    balancer): (status, JSON body or None); status 0 when the connection broke."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, None
    except (OSError, http.client.HTTPException):
        return 0, None
    finally:
        conn.close()


class BookingRace:
    """Clients (one thread per token) booking `slots` back to back through `book(token, slot)
    -> (status, body)`, each taking the next slot nobody has tried, until none is left or
    `stop()`: what the fault and cluster tests kill a server in the middle of. `confirmed` maps
    each booking a client was told of (201) to its slot; `outcomes` holds every status."""

    def __init__(self, book, slots, tokens):
        self.book, self.free, self.tokens = book, list(slots), tokens
        self.confirmed: dict[int, int] = {}
        self.outcomes: list[int] = []
        self.lock, self.stopped = threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(t,)) for t in tokens]
        for thread in self.threads:
            thread.start()

    def _client(self, token) -> None:
        while not self.stopped.is_set():
            with self.lock:
                if not self.free:
                    return
                slot = self.free.pop()
            status, body = self.book(token, slot)
            with self.lock:
                self.outcomes.append(status)
                if status == 201:
                    self.confirmed[body["id"]] = slot

    def stop(self) -> None:
        self.stopped.set()

    def join(self, seconds: float) -> bool:
        """Wait for every client; whether all have finished."""
        for thread in self.threads:
            thread.join(seconds)
        return not any(thread.is_alive() for thread in self.threads)
