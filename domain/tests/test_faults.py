"""Faults under load, with the real processes (`make faults`; also part of `make test` on
PostgreSQL). Each is bounded in time.

1. The web server is SIGKILLed (master and workers) while clients book: every booking a
   client was told of (201) is in the database, and no booking is half-made (each has its
   confirmation mail in the outbox, the mail's send task and its audit entry).
2. The mail server stops for a while during bookings: once it is back, every confirmation
   and every note to the therapist (R30) arrives, exactly once.
3. PostgreSQL restarts during bookings: the server recovers by itself (no restart of ours)
   and no committed booking is lost. This one runs a throw-away PostgreSQL cluster of its own
   on a free port (never the shared server), as the `postgres` OS user.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from bench.run import Server
from conftest import BookingRace, Inbox, days_ahead, free_port, http_json, postgres_only, start_smtp_server
from domain.models import AuditEntry, Booking, OutboundEmail
from domain.services import slot_create, token_create

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def test_db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


test_db_url.__test__ = False  # a helper, not a test


def post(port: int, path: str, token: str, body: dict, timeout: float = 10) -> tuple[int, dict | None]:
    """(status, JSON body); status 0 when the connection broke."""
    return http_json(port, "POST", path, token or None, body, timeout)


def future_slots(therapist, n):
    """n back-to-back slots from a week ahead of the real clock (the server runs in other
    processes, so time cannot be frozen)."""
    from datetime import timedelta

    first = days_ahead(7, "07:00")
    return [slot_create(therapist=therapist, actor=therapist.user, start=first + timedelta(minutes=50 * i)).pk
            for i in range(n)]


# 1. SIGKILL ---------------------------------------------------------------------------------
def test_a_server_killed_during_bookings_loses_no_confirmed_booking_and_leaves_none_half_made(
    anna, make_client, tmp_path
):
    slot_ids = future_slots(anna, 300)
    tokens = [token_create(user=make_client(first=f"Klient{i}", therapist=anna).user) for i in range(8)]
    server = Server(test_db_url(), workers=2, logdir=tmp_path)
    server.start()
    race = BookingRace(lambda token, slot: post(server.port, f"/api/v1/slots/{slot}/book", token, {"mode": "video"}),
                       slot_ids, tokens)
    try:
        deadline = time.monotonic() + 30
        while len(race.confirmed) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(server.proc.pid, signal.SIGKILL)  # master and workers, mid-request
        server.proc.wait(timeout=10)
        time.sleep(0.5)
    finally:
        race.stop()
        race.join(30)
        if server.proc.poll() is None:
            os.killpg(server.proc.pid, signal.SIGKILL)
    confirmed, outcomes = race.confirmed, race.outcomes

    assert len(confirmed) >= 20, outcomes
    assert all(status in (201, 0) for status in outcomes), sorted(set(outcomes))
    assert 0 in outcomes or len(confirmed) < len(slot_ids)  # the kill did cut the load short
    # Every booking a client was told of is there, confirmed, in the slot she was told of.
    told = Booking.objects.filter(pk__in=confirmed, status=Booking.Status.CONFIRMED)
    assert {b.pk: b.slot_id for b in told} == confirmed
    # And nothing in the database is half-made: each booking has its mail, task and audit entry.
    from django_tasks_db.models import DBTaskResult

    for booking in Booking.objects.all():
        mail = OutboundEmail.objects.get(booking=booking, kind="booking_confirmed")
        assert DBTaskResult.objects.filter(args_kwargs__args=[mail.pk]).count() == 1
        assert AuditEntry.objects.filter(action="booking.created", target_id=booking.pk).count() == 1
    assert Booking.objects.filter(status=Booking.Status.CONFIRMED).count() >= len(confirmed)

    # The server starts again on the same data and goes on booking.
    again = Server(test_db_url(), workers=1, logdir=tmp_path)
    again.start()
    try:
        slot = Booking.objects.values_list("slot_id", flat=True)
        left = next(s for s in slot_ids if s not in set(slot))
        assert post(again.port, f"/api/v1/slots/{left}/book", tokens[0], {"mode": "video"})[0] == 201
    finally:
        again.stop()


# 2. The mail server stops ---------------------------------------------------------------------
def booking_uids(inbox: Inbox) -> list[str]:
    uids = []
    for message in inbox.messages:
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                text = part.get_content()
                text = text.decode() if isinstance(text, bytes) else text
                uids += [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("UID:")]
    return uids


def test_a_mail_server_down_for_a_while_delays_each_confirmation_and_sends_it_exactly_once(
    anna, make_client, tmp_path, settings
):
    from api.tests.helpers import self_booked

    settings.MAX_OPEN_BOOKINGS_PER_THERAPIST = 100  # three clients book twenty of Anna's slots
    from domain.models import Slot

    port = free_port()
    smtp, inbox = start_smtp_server(port)
    env = {
        **os.environ, "DATABASE_URL": test_db_url(), "SECRET_KEY": "faults", "DEBUG": "false",
        "TIDBOK_DATA_DIR": str(tmp_path), "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port), "EMAIL_TIMEOUT": "2",
        "EMAIL_RETRY_DELAY": "1", "EMAIL_RETRY_MAX_DELAY": "2", "DJANGO_SETTINGS_MODULE": "tidbok.settings",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"],
        cwd=ROOT, env=env, stdout=open(tmp_path / "worker.log", "wb"), stderr=subprocess.STDOUT,
    )
    clients = [make_client(first=f"Post{i}", therapist=anna) for i in range(3)]
    slots = iter(Slot.objects.filter(pk__in=future_slots(anna, 30)).order_by("start_at"))
    bookings = []
    try:
        # Each booking mails two: the client's confirmation and her therapist's note (R30).
        for i in range(10):
            bookings.append(self_booked(next(slots), clients[i % 3]))
        wait_for(lambda: len(inbox.messages) >= 20, 20)

        smtp.stop()  # down: the next mails fail and are retried
        for i in range(10):
            bookings.append(self_booked(next(slots), clients[i % 3]))
        wait_for(lambda: OutboundEmail.objects.filter(attempts__gte=2, status="pending").count() >= 5, 20)
        assert len(inbox.messages) == 20
        assert OutboundEmail.objects.filter(status="sent").count() == 20

        smtp, _ = start_smtp_server(port, inbox)  # back, on the same port
        for i in range(5):
            bookings.append(self_booked(next(slots), clients[i % 3]))
        wait_for(lambda: OutboundEmail.objects.filter(status="sent").count() == 50, 40)
        # Then until the worker has run every task it was given, the retries queued while the
        # server was down included: none is left that could send a mail again, so the inbox
        # below is final (a fixed sleep would miss a retry queued for later than it).
        wait_for(queue_drained, 40)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
        smtp.stop()

    uids = booking_uids(inbox)
    # Each booking's event once to its client and once to its therapist, none more.
    assert sorted(uids) == sorted(f"booking-{b.pk}@tidbok" for b in bookings for _ in ("client", "therapist"))
    assert sorted(tuple(e.rcpt_tos) for e in inbox.envelopes) == sorted(
        [(b.client.email,) for b in bookings] + [(anna.user.email,)] * len(bookings))
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}


def queue_drained() -> bool:
    """No task waits or runs: each has finished, successfully or not."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return not DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).exists()


def wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s")
        time.sleep(0.1)


# 3. PostgreSQL restarts ---------------------------------------------------------------------

def pg_bin(name: str) -> str | None:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else shutil.which(name)


def as_postgres(*cmd, **kwargs):
    prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    return subprocess.run([*prefix, *cmd], check=True, capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture
def own_postgres():
    """A throw-away PostgreSQL cluster on a free port: initdb into a temporary folder, start,
    yield its data folder, stop and remove. The shared server on 5432 is never touched."""
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: PostgreSQL refuses to run as root")
    port = free_port()
    base = Path(tempfile.mkdtemp(prefix="tidbok-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    as_postgres(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    as_postgres(pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start")
    try:
        yield {"pg_ctl": pg_ctl, "data": data, "options": options, "log": base / "log", "port": port}
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", pg_ctl, "-D", str(data), "-m", "immediate", "stop"]
                       if os.geteuid() == 0 else [pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.django_db(transaction=False)
def test_after_a_postgresql_restart_the_server_recovers_by_itself_and_loses_nothing(own_postgres, tmp_path):
    pg_port = own_postgres["port"]
    url = f"postgres://postgres@127.0.0.1:{pg_port}/tidbok"
    with psycopg.connect(f"postgres://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE tidbok")
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "faults", "TIDBOK_DATA_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120)
    server = Server(url, workers=2, logdir=tmp_path)
    server.start()
    try:
        port = server.port
        create = ("from domain.services import account_create; account_create(role='therapist', "
                  "email='t@example.se', password='a long pass phrase 1', first_name='Tea', last_name='Terapeut')")
        subprocess.run([sys.executable, "manage.py", "shell", "-c", create], cwd=ROOT, env=env, check=True, timeout=60)
        status, body = post(port, "/api/v1/auth/token", "", {"email": "t@example.se", "password": "a long pass phrase 1"})
        assert status == 200, body
        token = body["token"]
        from conftest import pnr

        number = pnr("19800101")
        status, client = post(port, "/api/v1/therapist/clients", token, {
            "first_name": "Kim", "last_name": "Klient", "personnummer": number, "email": "k@example.se"})
        assert status == 201, client

        confirmed, outcomes, after_restart = {}, [], []
        restarted = threading.Event()
        stop = threading.Event()

        def book_loop(n):
            i = 0
            while not stop.is_set():
                i += 1
                # Thread n's own month of days ahead, 28 days of 12 hourly slots.
                start = (days_ahead(7 + 30 * n + i % 28, "07:00") + timedelta(hours=(i // 28) % 12)).isoformat()
                status, slot = post(port, "/api/v1/therapist/slots", token, {"start": start})
                if status != 201:
                    outcomes.append(status)
                    time.sleep(0.05)
                    continue
                status, booking = post(port, f"/api/v1/therapist/slots/{slot['id']}/booking", token,
                                       {"client_id": client["id"], "mode": "video"})
                outcomes.append(status)
                if status == 201:
                    confirmed[booking["id"]] = slot["id"]
                    if restarted.is_set():
                        after_restart.append(booking["id"])

        threads = [threading.Thread(target=book_loop, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        try:
            wait_for(lambda: len(confirmed) >= 10, 30)
            before = len(confirmed)
            as_postgres(own_postgres["pg_ctl"], "-D", str(own_postgres["data"]), "-o", own_postgres["options"],
                        "-l", str(own_postgres["log"]), "-m", "fast", "-w", "restart")
            restarted.set()
            wait_for(lambda: len(after_restart) >= 10, 30)  # recovered, without touching gunicorn
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        assert server.proc.poll() is None, "the server died"
        assert before >= 10
        # During the restart a request may fail (503, or a broken connection); never a 500.
        assert set(outcomes) <= {201, 503, 0}, sorted(set(outcomes))
    finally:
        server.stop()

    with psycopg.connect(url) as conn:
        rows = dict(conn.execute(
            "SELECT id, slot_id FROM domain_booking WHERE status = 'confirmed' AND id = ANY(%s)", [list(confirmed)]
        ).fetchall())
        half_made = conn.execute(
            """SELECT count(*) FROM domain_booking b WHERE NOT EXISTS
               (SELECT 1 FROM domain_outboundemail e WHERE e.booking_id = b.id)"""
        ).fetchone()[0]
    assert rows == confirmed  # nothing committed is lost
    assert half_made == 0
    # The server's own logs (gunicorn's access lines and errors) hold no personnummer either.
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*.log"))
    assert "POST /api/v1/therapist/clients" in logs
    digits = number.replace("-", "")
    assert number not in logs and digits not in logs and digits[2:] not in logs
