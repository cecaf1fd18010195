"""The cluster of docs/deploy.md, proven on one machine with the real parts (deploy/cluster.py:
a PostgreSQL primary and its streaming replica, PgBouncer in transaction mode, Redis, two
gunicorns behind HAProxy, two task workers, the scheduler) and a real SMTP server (conftest's
aiosmtpd).
One cluster for the module; each test breaks a part of it and looks at what clients saw and
what the databases and the mail server hold.

1. Bookings raced through the load balancer: one winner per slot, the rest 409; both app
   servers served.
2. An app server SIGKILLed mid-race: no 5xx but for the requests it had in flight, no lost or
   half-made booking.
3. A task worker SIGKILLed mid-send: every mail arrives exactly once (by Message-ID).
4. Replay paused on the replica, so it lags: a client who just booked reads her own booking;
   an anonymous reader is sent to the primary once the lag passes REPLICA_MAX_LAG_SECONDS.
5. The replica stopped: the listing still answers.

Bounded: every wait has a deadline; the module takes one to two minutes on two cores. PostgreSQL
only (it would run again, the same, in the SQLite run of `make test`), and only where the
PostgreSQL server binaries, PgBouncer and HAProxy are installed (CI installs them)."""

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from conftest import BookingRace, Inbox, free_port, http_json, postgres_only, start_smtp_server
from deploy.cluster import ROOT, Cluster, missing_packages

pytestmark = [
    postgres_only,
    pytest.mark.skipif(bool(missing_packages()), reason=f"needs the Debian packages {' '.join(missing_packages())}"),
]
STALE_CLAIM_SECONDS = 4
MAX_LAG_SECONDS = 8


class SlowInbox(Inbox):
    """An SMTP server that takes its time (`delay`, seconds) over the messages to some
    addresses (`slow_for`) before it answers 250, as a busy one does. A message whose sender
    hung up meanwhile was never acknowledged, so it is not delivered (an MTA keeps only what
    it answered 250 to)."""

    def __init__(self):
        super().__init__()
        self.delay, self.slow_for = 0.0, set()
        self.in_data: list[int] = []  # the sending side's port of each DATA being slowed

    async def handle_DATA(self, server, session, envelope):
        if self.delay and self.slow_for & set(envelope.rcpt_tos):
            self.in_data.append(session.peer[1])
            await asyncio.sleep(self.delay)
            if server.transport is None or server.transport.is_closing():
                return "421 Lost the connection"
        return await super().handle_DATA(server, session, envelope)


SEED = """
import json
from datetime import timedelta
from conftest import days_ahead, pnr
from domain.models import MAX_BOOKING_HORIZON_DAYS, Client, ClientLink, Therapist, User
from domain.services import slot_create, token_create

user = User.objects.create_user(email="anna@example.se", password="correct horse battery", first_name="Anna",
                                last_name="Andersson", email_verified=True)
anna = Therapist.objects.create(user=user, client_booster=True, min_notice_hours=0,
                                booking_horizon_days=MAX_BOOKING_HORIZON_DAYS)
tokens = []
for i in range(16):
    email = f"klient{i}@example.se"
    person = User.objects.create_user(email=email, password="correct horse battery", first_name=f"Klient{i}",
                                      last_name="Klientsson", email_verified=True)
    client = Client.objects.create(user=person, personnummer=pnr("19850312", f"{100 + i:03d}"), first_name=f"Klient{i}",
                                   last_name="Klientsson", email=email, language="sv")
    ClientLink.objects.create(therapist=anna, client=client, source="own")
    tokens.append(token_create(user=person))
first = days_ahead(7, "07:00")
slots = [slot_create(therapist=anna, actor=anna.user, start=first + timedelta(minutes=50 * i)).pk for i in range(200)]
print(json.dumps({"therapist": anna.pk, "tokens": tokens, "slots": slots}))
"""


@pytest.fixture(scope="module")
def inbox():
    port = free_port()
    controller, box = start_smtp_server(port, SlowInbox())
    box.port = port
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def cluster(inbox):
    env = {
        "EMAIL_STALE_CLAIM_SECONDS": str(STALE_CLAIM_SECONDS),
        "REPLICA_MAX_LAG_SECONDS": str(MAX_LAG_SECONDS),
        "REPLICA_STICKY_SECONDS": "30",
        "MAX_OPEN_BOOKINGS_PER_THERAPIST": "1000000",  # few clients book many slots here
        "LOG_LEVEL": "WARNING",
    }
    started = Cluster(smtp_port=inbox.port, env=env, collectstatic=False).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def seed(cluster):
    env = {**cluster.env(), "DATABASE_URL": cluster.primary.url(), "DATABASE_POOLER": "none"}
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", SEED], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout.strip().splitlines()[-1])
    data["free"] = list(data["slots"])
    return data


def take(seed, n: int) -> list[int]:
    taken, seed["free"] = seed["free"][:n], seed["free"][n:]
    return taken


def call(cluster, method: str, path: str, token: str | None = None, body=None) -> tuple[int, object]:
    """(status, JSON body) through the load balancer; status 0 when the connection broke."""
    return http_json(cluster.lb_port, method, path, token, body)


def book(cluster, token: str, slot: int) -> tuple[int, object]:
    return call(cluster, "POST", f"/api/v1/slots/{slot}/book", token, {"mode": "video"})


def listed(body) -> list[int]:
    """The therapists' ids in a listing answer: a list, or a page of one (`items`)."""
    return [t["id"] for t in (body["items"] if isinstance(body, dict) else body)]


def next_available(listing, therapist: int) -> datetime | None:
    entries = listing["items"] if isinstance(listing, dict) else listing
    value = next(t for t in entries if t["id"] == therapist)["next_available"]
    return datetime.fromisoformat(value) if value else None


def open_ids(slots) -> list[int]:
    return [s["id"] for s in slots]


def primary(cluster, query: str, params=()):
    return cluster.primary.sql(query, params)


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(0.1)


def bookings_served(cluster) -> list[int]:
    """How many booking requests each app server's access log shows."""
    return [cluster.processes.log(f"app{i + 1}").read_text(errors="replace").count("/book HTTP")
            for i in range(cluster.app_count)]


def run_clients(work, tokens) -> None:
    threads = [threading.Thread(target=work, args=(token,)) for token in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a client did not finish within 60 s"


def test_bookings_raced_through_the_load_balancer_have_one_winner_per_slot(cluster, seed):
    slots = take(seed, 5)
    served_before = bookings_served(cluster)
    outcomes: dict[int, list[tuple[int, object]]] = {slot: [] for slot in slots}
    lock = threading.Lock()

    def client(token):
        for slot in random.Random(token).sample(slots, len(slots)):
            status, body = book(cluster, token, slot)
            with lock:
                outcomes[slot].append((status, body))

    run_clients(client, seed["tokens"][:12])

    for slot, answers in outcomes.items():
        statuses = Counter(status for status, _ in answers)
        assert statuses == {201: 1, 409: 11}, (slot, answers)
        assert {body["code"] for status, body in answers if status == 409} == {"slot_taken"}
        winner = next(body for status, body in answers if status == 201)
        assert primary(cluster, "SELECT slot_id, status FROM domain_booking WHERE id = %s", [winner["id"]]) == [
            (slot, "confirmed")]
    served = [after - before for before, after in zip(served_before, bookings_served(cluster), strict=True)]
    assert sum(served) == 60 and all(n > 0 for n in served), served


def test_an_app_server_killed_mid_race_loses_no_booking_and_fails_only_its_requests_in_flight(cluster, seed):
    slots = take(seed, 60)
    tokens = seed["tokens"][:8]
    race = BookingRace(lambda token, slot: book(cluster, token, slot), slots, tokens)
    try:
        wait_for(lambda: len(race.confirmed) >= 15, 60, "15 bookings before the kill")
        cluster.kill("app1")  # master and workers, mid-request
    finally:
        finished = race.join(90)
    assert finished
    confirmed, outcomes = race.confirmed, race.outcomes

    statuses = Counter(outcomes)
    cut = sum(n for status, n in statuses.items() if status != 201)
    # Only what app1 had in flight may fail (HAProxy's 502, or a broken connection): at most
    # one request per client. New connections to the dead server are retried on the other.
    assert set(statuses) <= {201, 502, 0}, statuses
    assert cut <= len(tokens), statuses
    assert statuses[201] >= len(slots) - len(tokens)
    # Every booking a client was told of is there, confirmed, in her slot, with its mails.
    rows = dict(primary(cluster, "SELECT id, slot_id FROM domain_booking WHERE status = 'confirmed' AND id = ANY(%s)",
                        [list(confirmed)]))
    assert rows == confirmed
    assert primary(cluster, """SELECT count(*) FROM domain_booking b WHERE NOT EXISTS (SELECT 1 FROM domain_outboundemail e
                               WHERE e.booking_id = b.id AND e.kind = 'booking_confirmed')""") == [(0,)]
    # The slots and the bookings agree: one live booking per slot, with the slot's therapist and time.
    assert primary(cluster, """SELECT count(*) FROM domain_booking b JOIN domain_slot s ON s.id = b.slot_id
                               WHERE b.therapist_id <> s.therapist_id OR b.start_at <> s.start_at
                                  OR b.end_at <> s.end_at""") == [(0,)]
    assert primary(cluster, """SELECT slot_id FROM domain_booking WHERE status = 'confirmed'
                               GROUP BY slot_id HAVING count(*) > 1""") == []
    cluster.start_app(0)


def worker_sending_from(cluster, port: int) -> str | None:
    """The worker whose process holds the TCP connection from local port `port`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            inodes.add(fields[9])
    for i in range(cluster.worker_count):
        pid = cluster.processes.running[f"worker{i + 1}"].pid
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}").removeprefix("socket:[").rstrip("]") in inodes:
                        return f"worker{i + 1}"
    return None


def all_mail_sent(cluster) -> bool:
    return primary(cluster, "SELECT count(*) FROM domain_outboundemail WHERE status <> 'sent'") == [(0,)]


def test_a_worker_killed_mid_send_leaves_every_mail_sent_exactly_once(cluster, seed, inbox):
    # The mails to two clients are slow to be accepted, so that a worker is killed mid-send.
    tokens = seed["tokens"][14:16]
    inbox.delay, inbox.slow_for = 1.5, {"klient14@example.se", "klient15@example.se"}
    try:
        for token, slot in zip(tokens * 2, take(seed, 4), strict=True):
            assert book(cluster, token, slot)[0] == 201
        wait_for(lambda: inbox.in_data, 60, "a slow mail being sent")
        killed = worker_sending_from(cluster, inbox.in_data[0])
        assert killed, "no worker holds the SMTP connection"
        cluster.kill(killed)
        # Its claim goes stale and is queued again; the other worker sends it (and the rest).
        wait_for(lambda: all_mail_sent(cluster), 120, "every mail sent after the kill")
    finally:
        inbox.delay = 0
    resent = primary(cluster, "SELECT count(*) FROM domain_outboundemail WHERE attempts > 1")[0][0]
    assert resent >= 1

    # Every mail of the whole module, at the real SMTP server, by Message-ID: each outbox row once.
    ids = Counter(m["Message-ID"] for m in inbox.messages)
    assert max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]
    outbox = primary(cluster, "SELECT id, created_at FROM domain_outboundemail")
    assert {f"outbox-{pk}." for pk, _ in outbox} == {i.split(".")[0].lstrip("<") + "." for i in ids}
    cluster.start_worker(int(killed.removeprefix("worker")) - 1)


def replica_reads(cluster) -> int:
    return cluster.replica.sql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'tidbok'")[0][0]


def routes_reads(cluster) -> bool:
    """Whether the app servers' settings have a database router (the replica's)."""
    shown = "from django.conf import settings; import django; django.setup(); print(bool(settings.DATABASE_ROUTERS))"
    done = subprocess.run([sys.executable, "-c", shown], cwd=ROOT, env=cluster.env(), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip() == "True"


def test_a_lagging_replica_never_hides_her_own_booking_and_is_skipped_past_the_max_lag(cluster, seed):
    therapist, token = seed["therapist"], seed["tokens"][12]
    cluster.wait_replica_caught_up()
    routed = routes_reads(cluster)
    if routed:
        # The public reads come from the replica while it keeps up.
        before = replica_reads(cluster)
        for _ in range(5):
            assert call(cluster, "GET", "/api/v1/therapists")[0] == 200
        wait_for(lambda: replica_reads(cluster) > before, 10, "listing reads on the replica")

    # A fresh commit replayed just before the pause: the replica's lag (the age of its last
    # replayed commit, once it has fallen behind) starts near 0, below REPLICA_MAX_LAG_SECONDS,
    # so her reads right after booking would find the replica usable but behind.
    primary(cluster, "SELECT txid_current()")
    cluster.wait_replica_caught_up()
    cluster.replica.sql("SELECT pg_wal_replay_pause()")
    paused = time.monotonic()
    try:
        slot = min(seed["free"])  # her therapist's soonest open slot
        seed["free"].remove(slot)
        status, booking = book(cluster, token, slot)
        assert status == 201, booking
        booked_at = datetime.fromisoformat(booking["start"])
        # At once, through every gunicorn worker of both app servers (round robin): her
        # bookings, the therapist's open slots (what her profile shows) and the listing's
        # next time show it.
        for _ in range(4):
            status, mine = call(cluster, "GET", "/api/v1/client/bookings", token)
            assert status == 200 and booking["id"] in [b["id"] for b in mine]
            status, open_slots = call(cluster, "GET", f"/api/v1/therapists/{therapist}/slots", token)
            assert status == 200 and slot not in open_ids(open_slots) and min(seed["free"]) in open_ids(open_slots)
            status, listing = call(cluster, "GET", "/api/v1/therapists", token)
            assert status == 200 and therapist in listed(listing)
            assert next_available(listing, therapist) != booked_at
        # Someone else reads the replica's stale answer while its lag is below
        # REPLICA_MAX_LAG_SECONDS (the lag is at most the time since the pause: checked only
        # while that is clearly shorter), and the primary once the lag has passed it.
        stale = slot in open_ids(call(cluster, "GET", f"/api/v1/therapists/{therapist}/slots")[1])
        if routed and time.monotonic() - paused < MAX_LAG_SECONDS - 2:
            assert stale, "an anonymous reader was not given the replica while it lagged little"
        wait_for(lambda: slot not in open_ids(call(cluster, "GET", f"/api/v1/therapists/{therapist}/slots")[1]),
                 MAX_LAG_SECONDS + 20, "an anonymous reader seeing the booked slot gone")
        assert next_available(call(cluster, "GET", "/api/v1/therapists")[1], therapist) != booked_at
    finally:
        cluster.replica.sql("SELECT pg_wal_replay_resume()")


def test_with_the_replica_stopped_the_listing_still_answers(cluster, seed):
    cluster.replica.stop("immediate")
    for token in (None, seed["tokens"][13]):
        for _ in range(4):
            status, listing = call(cluster, "GET", "/api/v1/therapists", token)
            assert status == 200 and seed["therapist"] in listed(listing)
            status, _slots = call(cluster, "GET", f"/api/v1/therapists/{seed['therapist']}/slots", token)
            assert status == 200
    with pytest.raises(psycopg.OperationalError):
        cluster.replica.sql("SELECT 1")
