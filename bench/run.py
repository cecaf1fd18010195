"""`make bench`: load the data (bench/load.py), start the production server (gunicorn, the same
settings as `manage.py serve`, DEBUG off) and drive it from this process over loopback, one
endpoint at a time for a fixed time. Prints one table, checks the database afterwards, writes
bench/results.json and the numbers' section of docs/performance.md.

    python -m bench.run                # the full bench (10,000 therapists, 2,000,000 slots, ...)
    python -m bench.run --smoke        # tiny data, short phases: fails on errors, not timings

Exit status: 1 when a request failed (5xx, a broken connection, an unexpected status), a slot
holds two live bookings, two slots overlap or a booking is half-made; timings never fail it
(they are reported, with the targets they meet).
"""

import argparse
import http.client
import json
import os
import platform
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import psycopg

from .load import (
    BIG,
    BOOSTER_EVERY,
    SMALL,
    SMOKE,
    SMOKE_SMALL,
    Sizes,
    db_name,
    drop_database,
    listing_rebuild,
    load,
    token_for,
)

ROOT = Path(__file__).resolve().parent.parent
STOCKHOLM = ZoneInfo("Europe/Stockholm")
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tidbok_bench"
RACE_CLIENTS, RACE_SLOTS = 64, 1000

TARGETS = {
    "calendar_p95_ms": 25.0,
    "calendar_p50_over_floor": 2.5,
    "open_slots_p50_over_floor": 4.0,
    "listing_p95_ms": 50.0,
    "listing_all_over_tenth": 1.3,  # R9 at scale: a page with every therapist listed vs a tenth
    "bookings_per_second": 300.0,
    "big_over_small_calendar": 1.3,
    "series_p95_ms": 100.0,
}


# The server -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_workers() -> int:
    # What `manage.py serve` chooses: 2 × cores + 1 (at most 9).
    return min(2 * (os.cpu_count() or 1) + 1, 9)


class Server:
    """gunicorn on loopback against one database, as in production: DEBUG off, a fresh
    SECRET_KEY, the sync workers and the access log of `manage.py serve`."""

    def __init__(self, db_url: str, workers: int, logdir: Path, root: Path = ROOT, env: dict | None = None,
                 direct_url: str | None = None):
        self.port = free_port()
        self.db_url, self.workers, self.logdir = db_url, workers, logdir
        self.root = root  # the tree whose code it serves (bench/ab.py serves another one too)
        self.extra_env = env or {}
        # The database itself, where the server reaches it through a pooler (the CPU readings).
        self.direct_url = direct_url or db_url
        self.proc = None

    def env(self) -> dict:
        return {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": f"http://127.0.0.1:{self.port}",
            "TIDBOK_DATA_DIR": str(self.logdir / "data"),
            "LOG_LEVEL": "WARNING",
            # The race and the fault tests let a few clients book many slots of one therapist:
            # they measure the booking engine, not the hoarding limit (its own tests do that).
            "MAX_OPEN_BOOKINGS_PER_THERAPIST": "1000000",
            **self.extra_env,
        }

    def start(self) -> None:
        # The database's name; of a SQLite URL, which holds a file's path, the file's name.
        log = open(self.logdir / f"gunicorn-{Path(db_name(self.db_url)).name}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "tidbok.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--access-logfile", str(self.logdir / "access.log"),
             "--graceful-timeout", "10"],
            cwd=self.root, env=self.env(), stdout=log, stderr=log, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.proc.returncode}; see {log.name}")
            try:
                if get_status(self.port, "/api/v1/health") == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("gunicorn did not answer within 60 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def get_status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


# CPU accounting: what the server spent, whatever else the machine was doing ----------------
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class ServerCpu:
    """CPU seconds used by gunicorn's workers and their PostgreSQL backends between two
    readings: the cost of the requests themselves, which other work on a shared machine
    slows down but does not add to."""

    def __init__(self, server: "Server"):
        self.server = server
        self.conn = psycopg.connect(server.direct_url, autocommit=True)
        self.name = db_name(server.direct_url)

    def backends(self) -> set[int]:
        return {r[0] for r in self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.name]
        ).fetchall()}

    def reading(self) -> dict[int, float]:
        """CPU seconds per process; the database's backends under negative keys, so that
        `since` can tell the database's share (what the primary pays: docs/capacity.md)."""
        app = [self.server.proc.pid, *children(self.server.proc.pid)]
        return {pid: cpu_seconds(pid) for pid in app} | {-pid: cpu_seconds(pid) for pid in self.backends()}

    def split_since(self, before: dict[int, float]) -> tuple[float, float]:
        """(app seconds, database seconds) spent since `before`."""
        after = self.reading()
        spent = {key: max(after[key] - before.get(key, 0.0), 0.0) for key in after}
        return (sum(v for k, v in spent.items() if k > 0), sum(v for k, v in spent.items() if k < 0))


# The load ---------------------------------------------------------------------------------
class Recorder:
    def __init__(self):
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.failures: list[str] = []
        self.lock = threading.Lock()

    def add(self, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1


def request(conn: http.client.HTTPConnection, method: str, path: str, headers: dict, body: bytes | None = None):
    """One request on a kept connection (gunicorn's sync workers close it after each answer;
    http.client then opens a new one). Answers (status, body bytes)."""
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except (http.client.HTTPException, OSError):
        conn.close()
        raise


def measured(cpu: "ServerCpu", result_and_work):
    """Run a phase and add the server's CPU milliseconds per request to its result."""
    before = cpu.reading()
    result, extra = result_and_work()
    app, database = cpu.split_since(before)
    result["server_cpu_ms_per_request"] = round((app + database) * 1000 / max(result["requests"], 1), 2)
    result["database_cpu_ms_per_request"] = round(database * 1000 / max(result["requests"], 1), 2)
    return result, extra


def drive(port: int, make_request, seconds: float, concurrency: int, expected=(200,), rec: "Recorder | None" = None,
          seed: int = 0) -> dict:
    """`concurrency` threads, each sending make_request(rng) -> (method, path, headers, body)
    back to back for `seconds`; latency from the first byte sent to the last byte read.
    Latencies go into `rec` when given (to add up several turns)."""
    rec = rec if rec is not None else Recorder()
    stop_at = time.monotonic() + seconds

    def worker(n):
        rng = random.Random(seed * 1000 + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            method, path, headers, body = make_request(rng)
            t0 = time.perf_counter()
            try:
                status, _ = request(conn, method, path, headers, body)
            except (http.client.HTTPException, OSError) as e:
                rec.add(time.perf_counter() - t0, 0)
                rec.failures.append(f"{path}: {type(e).__name__}")
                continue
            rec.add(time.perf_counter() - t0, status)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return summarise(rec, time.monotonic() - started, expected)


def alternate(sides: list[tuple[int, object, "ServerCpu"]], seconds: float, concurrency: int,
              rounds: int = 4) -> list[dict]:
    """Drive several servers in turns, `seconds / rounds` at a time, `seconds` each in all, so
    that each is measured under the same conditions of the machine (a comparison of two
    phases run minutes apart measured the machine's drift as much as the databases). Answers
    one summary per side, with its server CPU per request."""
    recs = [Recorder() for _ in sides]
    elapsed, app, database = [0.0] * len(sides), [0.0] * len(sides), [0.0] * len(sides)
    for turn in range(rounds):
        for i, (port, make, cpu) in enumerate(sides):
            before, started = cpu.reading(), time.monotonic()
            drive(port, make, seconds / rounds, concurrency, rec=recs[i], seed=turn)
            elapsed[i] += time.monotonic() - started
            spent_app, spent_database = cpu.split_since(before)
            app[i] += spent_app
            database[i] += spent_database
    out = []
    for rec, took, app_seconds, database_seconds in zip(recs, elapsed, app, database, strict=True):
        result = summarise(rec, took, (200,))
        requests = max(result["requests"], 1)
        result["server_cpu_ms_per_request"] = round((app_seconds + database_seconds) * 1000 / requests, 2)
        result["database_cpu_ms_per_request"] = round(database_seconds * 1000 / requests, 2)
        out.append(result)
    return out


def through_pgbouncer(url: str, sizes: Sizes, base: datetime, direct: Server, direct_cpu: "ServerCpu",
                      duration: float, concurrency: int) -> tuple[dict, dict]:
    """The calendar and the booking race on the same database, direct and through PgBouncer in
    transaction mode (deploy/pgbouncer.ini, as in docs/deploy.md), so that their ratio comes
    from one run: the calendar in turns, the two races back to back on fresh slots. Answers
    (endpoint results, bookings confirmed); nothing when PgBouncer is not installed."""
    from deploy.cluster import ClusterError, pgbouncer_in_front

    try:
        bouncer = pgbouncer_in_front(url)
    except ClusterError as e:
        print(f"  (skipped: {e})", file=sys.stderr)
        return {}, {}
    pooled = Server(bouncer.url, direct.workers, direct.logdir, env={"DATABASE_POOLER": "pgbouncer"}, direct_url=url)
    out, confirmed = {}, {}
    try:
        pooled.start()
        pooled_cpu = ServerCpu(pooled)
        drive(pooled.port, calendar_request(sizes, base), min(1.0, duration), concurrency)
        out["calendar_direct"], out["calendar_pgbouncer"] = alternate(
            [(direct.port, calendar_request(sizes, base), direct_cpu),
             (pooled.port, calendar_request(sizes, base), pooled_cpu)],
            duration, concurrency,
        )
        for key, server, cpu in (("booking_direct", direct, direct_cpu), ("booking_pgbouncer", pooled, pooled_cpu)):
            slot_ids, client_users = race_setup(url, sizes, base)
            out[key], won = measured(cpu, lambda port=server.port, ids=slot_ids, users=client_users: race(
                port, ids, users, limit=max(duration * 3, 10.0)))
            confirmed |= won
    finally:
        pooled.stop()
        bouncer.stop()
    return out, confirmed


def pooling_ratios(e: dict) -> dict | None:
    """Through PgBouncer against direct, from the same run: the calendar's p50 and p95 and the
    booking race's bookings per second (above 1: PgBouncer slower, or faster at booking)."""
    if "calendar_pgbouncer" not in e:
        return None
    return {
        "calendar_p50": round(e["calendar_pgbouncer"]["p50_ms"] / e["calendar_direct"]["p50_ms"], 2),
        "calendar_p95": round(e["calendar_pgbouncer"]["p95_ms"] / e["calendar_direct"]["p95_ms"], 2),
        "bookings_per_second": round(e["booking_pgbouncer"]["bookings_per_second"]
                                     / max(e["booking_direct"]["bookings_per_second"], 0.1), 2),
    }


def pooling_sentence(results: dict) -> str:
    r = results.get("pgbouncer_over_direct")
    if not r:
        return "Through PgBouncer: not measured (PgBouncer is not installed)."
    return (f"Through PgBouncer against direct, in the same run: calendar p50 {r['calendar_p50']:.2f}×, "
            f"p95 {r['calendar_p95']:.2f}×; bookings/s {r['bookings_per_second']:.2f}×.")


def pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[i]


def summarise(rec: Recorder, elapsed: float, expected) -> dict:
    lat = sorted(rec.latencies)
    errors = sum(n for status, n in rec.statuses.items() if status not in expected)
    return {
        "requests": len(lat),
        "seconds": round(elapsed, 2),
        "rps": round(len(lat) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(pct(lat, 50) * 1000, 2),
        "p95_ms": round(pct(lat, 95) * 1000, 2),
        "p99_ms": round(pct(lat, 99) * 1000, 2),
        "errors": errors,
        "server_errors": sum(n for status, n in rec.statuses.items() if status >= 500 or status == 0),
        "statuses": {str(k): v for k, v in sorted(rec.statuses.items())},
        "failures": rec.failures[:10],
    }


def bearer(user_id: int) -> dict:
    return {"Authorization": f"Bearer {token_for(user_id)}"}


def week_query(base: datetime, rng: random.Random) -> str:
    """A random Monday-to-Monday week of the loaded year, in Stockholm time."""
    first = (base - timedelta(days=175)).astimezone(STOCKHOLM).date()
    day = first + timedelta(days=rng.randrange(0, 350))
    monday = day - timedelta(days=day.weekday())
    start = datetime(monday.year, monday.month, monday.day, tzinfo=STOCKHOLM)
    end = start + timedelta(days=7)
    return f"start={quote(start.isoformat())}&end={quote(end.isoformat())}"


def calendar_request(sizes: Sizes, base: datetime):
    def make(rng):
        therapist = rng.randint(1, sizes.therapists)
        return "GET", f"/api/v1/therapist/calendar?{week_query(base, rng)}", bearer(therapist), None

    return make


def me_request(sizes: Sizes, base: datetime):
    """GET /me as a random therapist: a login and nothing else (bench/inproc.py, bench/ratio.py)."""
    calendar = calendar_request(sizes, base)

    def make(rng):
        _, _, headers, body = calendar(rng)
        return "GET", "/api/v1/me", headers, body

    return make


def open_slots_request(sizes: Sizes):
    boosted = list(range(BOOSTER_EVERY, sizes.therapists + 1, BOOSTER_EVERY))

    def make(rng):
        therapist = rng.choice(boosted)
        client_user = sizes.therapists + rng.randint(1, sizes.clients)
        return "GET", f"/api/v1/therapists/{therapist}/slots", bearer(client_user), None

    return make


def listing_path(cursor: str = "") -> str:
    return "/api/v1/therapists" + (f"?cursor={quote(cursor, safe='')}" if cursor else "")


def listing_request(cursor: str = ""):
    path = listing_path(cursor)

    def make(rng):
        return "GET", path, {}, None

    return make


def listing_cursor(port: int, page: int) -> str:
    """The cursor of the listing's `page`-th page (1: the first, which needs none), found by
    following `X-Next-Cursor` from the first page."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    cursor = ""
    try:
        for _ in range(page - 1):
            conn.request("GET", listing_path(cursor))
            response = conn.getresponse()
            response.read()
            cursor = response.getheader("X-Next-Cursor") or ""
            if response.status != 200 or not cursor:
                raise SystemExit(f"bench: the listing has no page {page} ({response.status})")
    finally:
        conn.close()
    return cursor


def listed_every(url: str, env: dict, every: int) -> None:
    """Client Booster on for every `every`-th therapist (1: all of them), then the listing's
    rows computed anew by the project (`manage.py listing_rebuild`): the listing at that size."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE domain_therapist SET client_booster = (id %% %s = 0)", [every])
    listing_rebuild(url, env)


LISTING_ROUNDS = 2


def listing_at_two_sizes(port: int, url: str, env: dict, sizes: Sizes, seconds: float, concurrency: int,
                         cpu: "ServerCpu") -> dict:
    """R9 at scale: the first and the middle page of the listing with a tenth of the
    therapists listed (the data as loaded) and with all of them, in turns (`alternate`'s
    reason: the same machine for both sizes), the data restored afterwards. Answers the four
    summaries by endpoint key."""
    keys = {BOOSTER_EVERY: ("listing", "listing_middle"), 1: ("listing_all", "listing_all_middle")}
    recs = {key: Recorder() for pair in keys.values() for key in pair}
    elapsed, app, database, cursors = dict.fromkeys(recs, 0.0), dict.fromkeys(recs, 0.0), dict.fromkeys(recs, 0.0), {}
    try:
        for turn in range(LISTING_ROUNDS):
            for every, (first, middle) in keys.items():
                listed_every(url, env, every)
                pages = sizes.therapists // every // 50
                cursors.setdefault(middle, listing_cursor(port, max(pages // 2, 1)))
                for key, cursor in ((first, ""), (middle, cursors[middle])):
                    drive(port, listing_request(cursor), min(1.0, seconds), concurrency)  # warm the rows
                    before, started = cpu.reading(), time.monotonic()
                    drive(port, listing_request(cursor), seconds / LISTING_ROUNDS, concurrency, rec=recs[key],
                          seed=turn)
                    elapsed[key] += time.monotonic() - started
                    spent_app, spent_database = cpu.split_since(before)
                    app[key] += spent_app
                    database[key] += spent_database
    finally:
        listed_every(url, env, BOOSTER_EVERY)
    out = {}
    for key, rec in recs.items():
        out[key] = summarise(rec, elapsed[key], (200,))
        requests = max(out[key]["requests"], 1)
        out[key]["server_cpu_ms_per_request"] = round((app[key] + database[key]) * 1000 / requests, 2)
        out[key]["database_cpu_ms_per_request"] = round(database[key] * 1000 / requests, 2)
    return out


def health_request(rng):
    return "GET", "/api/v1/health", {}, None


def mark_tokens_used(url: str) -> None:
    """Every bench token counts as used a moment ago, the steady state of people who use
    Tidbok: a token's last use is written at most once an hour (TOKEN_STAMP_EVERY), so only a
    token's first request in an hour pays that UPDATE. Without this, the random pick of one of
    10,000 therapists would make almost every measured request such a first one."""
    with psycopg.connect(url, autocommit=True) as conn:
        # Only the stamps that could come due during a run: rewriting 210,000 rows every run
        # left millions of dead row versions in the token's index, and the token check slowed.
        marked = conn.execute(
            "UPDATE domain_apitoken SET last_used_at = now() "
            "WHERE last_used_at IS NULL OR last_used_at < now() - interval '30 minutes'"
        ).rowcount
        if marked:
            conn.execute("VACUUM (ANALYZE) domain_apitoken")


# Booking under contention -----------------------------------------------------------------
def race_setup(url: str, sizes: Sizes, base: datetime) -> tuple[list[int], list[int]]:
    """RACE_SLOTS new open slots (for all, both kinds) of boosted therapists from two days ahead
    on, an hour apart, at the first hours each therapist has free (inside her booking window
    whatever earlier runs and the series phase left further ahead: a race for times nobody may
    book measures only refusals), and RACE_CLIENTS clients to race for them. Answers (slot ids,
    client user ids)."""
    boosted = list(range(BOOSTER_EVERY, sizes.therapists + 1, BOOSTER_EVERY))
    therapists = boosted[: max(1, min(len(boosted), 50))]
    per = -(-RACE_SLOTS // len(therapists))
    start0 = (datetime.now(base.tzinfo) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    ids = []
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for t in therapists:
            made, k = 0, 0
            while made < per and len(ids) < RACE_SLOTS:
                start = start0 + timedelta(hours=k)
                k += 1
                # A time she already has (the exclusion constraint) is passed over.
                cur.execute(
                    """INSERT INTO domain_slot (start_at, end_at, price, video, onsite, audience, created_at,
                       updated_at, therapist_id) VALUES (%s, %s, 1000, true, true, 'all', now(), now(), %s)
                       ON CONFLICT DO NOTHING RETURNING id""",
                    [start, start + timedelta(minutes=45), t],
                )
                row = cur.fetchone()
                if row:
                    ids.append(row[0])
                    made += 1
    rng = random.Random(int(time.time()))
    clients = [sizes.therapists + c for c in rng.sample(range(1, sizes.clients + 1), RACE_CLIENTS)]
    return ids, clients


def race(port: int, slot_ids: list[int], client_users: list[int], limit: float) -> dict:
    """RACE_CLIENTS threads, each a client booking random slots she has not seen taken, until
    every slot is known taken (or `limit` seconds pass). 409 slot_taken is the expected loss."""
    rec = Recorder()
    open_slots = set(slot_ids)
    lock = threading.Lock()
    confirmed: dict[int, int] = {}  # booking id -> slot id, as the clients were told (201)
    barrier = threading.Barrier(len(client_users))
    stop_at = [0.0]
    last_booked = [0.0]

    def worker(n, user_id):
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {**bearer(user_id), "Content-Type": "application/json"}
        barrier.wait()
        while time.monotonic() < stop_at[0]:
            with lock:
                if not open_slots:
                    break
                slot = rng.choice(tuple(open_slots)) if len(open_slots) < 64 else rng.sample(sorted(open_slots), 1)[0]
            t0 = time.perf_counter()
            try:
                status, body = request(conn, "POST", f"/api/v1/slots/{slot}/book", headers, b'{"mode": "video"}')
            except (http.client.HTTPException, OSError) as e:
                rec.add(time.perf_counter() - t0, 0)
                rec.failures.append(f"book {slot}: {type(e).__name__}")
                continue
            rec.add(time.perf_counter() - t0, status)
            if status == 201:
                with lock:
                    confirmed[json.loads(body)["id"]] = slot
                    open_slots.discard(slot)
                    last_booked[0] = time.monotonic()
            elif status == 409 and json.loads(body).get("code") == "slot_taken":
                with lock:
                    open_slots.discard(slot)
            else:
                rec.failures.append(f"book {slot}: {status} {body[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=worker, args=(n, u)) for n, u in enumerate(client_users)]
    started = time.monotonic()
    stop_at[0] = started + limit  # before any thread can pass the barrier
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    result = summarise(rec, elapsed, expected=(201, 409))
    booked_in = (last_booked[0] - started) if confirmed else elapsed
    result.update(
        bookings=len(confirmed),
        slots=len(slot_ids),
        bookings_per_second=round(len(confirmed) / booked_in, 1) if booked_in > 0 else 0.0,
        left_open=len(open_slots),
    )
    return result, confirmed


SERIES_WEEKS = 10


def series_setup(url: str) -> tuple[list[tuple[int, int]], datetime]:
    """R32: (therapist, a client on her list) pairs of therapists in Stockholm, and the Monday
    (00:00 UTC) after every slot the database holds, from which each series gets a time of its own."""
    with psycopg.connect(url) as conn:
        pairs = conn.execute(
            """SELECT DISTINCT ON (l.therapist_id) l.therapist_id, l.client_id FROM domain_clientlink l
               JOIN domain_therapist t ON t.id = l.therapist_id WHERE t.timezone = 'Europe/Stockholm'
               ORDER BY l.therapist_id, l.client_id"""
        ).fetchall()
        latest = conn.execute("SELECT max(end_at) FROM domain_slot").fetchone()[0]
    day = (latest + timedelta(days=2)).date()
    monday = day + timedelta(days=7 - day.weekday())
    return pairs, datetime(monday.year, monday.month, monday.day, tzinfo=ZoneInfo("UTC"))


def series_request(pairs: list[tuple[int, int]], start0: datetime):
    """POST /therapist/series, 10 weeks, each request at a time no other takes: the n-th goes to
    pair n mod P, on weekday k mod 5 at 06:00 + (k // 5) mod 12 hours UTC (07–18 in Stockholm,
    never in a clock change), in its own block of 10 weeks (k = n div P)."""
    counter = iter(range(10**9))
    lock = threading.Lock()

    def make(rng):
        with lock:
            n = next(counter)
        therapist, client = pairs[n % len(pairs)]
        k = n // len(pairs)
        start = start0 + timedelta(weeks=SERIES_WEEKS * (k // 60), days=k % 5, hours=6 + (k // 5) % 12)
        body = json.dumps({"client_id": client, "start": start.isoformat(), "mode": "video", "weeks": SERIES_WEEKS})
        return "POST", "/api/v1/therapist/series", {**bearer(therapist), "Content-Type": "application/json"}, body.encode()

    return make


# Checks in the database afterwards ----------------------------------------------------------
def database_checks(url: str, confirmed: dict[int, int]) -> dict:
    with psycopg.connect(url) as conn:
        doubles = conn.execute(
            """SELECT count(*) FROM (SELECT slot_id FROM domain_booking WHERE status = 'confirmed'
               GROUP BY slot_id HAVING count(*) > 1) d"""
        ).fetchone()[0]
        # A slot overlaps an earlier one of hers iff it starts before the latest end so far.
        overlaps = conn.execute(
            """SELECT count(*) FROM (
                 SELECT start_at, max(end_at) OVER (PARTITION BY therapist_id ORDER BY start_at, id
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS latest_end
                 FROM domain_slot) s WHERE latest_end > start_at"""
        ).fetchone()[0]
        ids = list(confirmed)
        found = conn.execute(
            "SELECT count(*) FROM domain_booking WHERE id = ANY(%s) AND status = 'confirmed' AND slot_id = ANY(%s)",
            [ids, list(confirmed.values())],
        ).fetchone()[0]
        # Half-made: a booking the client was told of without its confirmation mail and the
        # mail's send task, or without its audit entry.
        half_made = conn.execute(
            """SELECT count(*) FROM domain_booking b WHERE b.id = ANY(%s) AND (
                 NOT EXISTS (SELECT 1 FROM domain_outboundemail e WHERE e.booking_id = b.id AND e.kind = 'booking_confirmed')
                 OR NOT EXISTS (SELECT 1 FROM domain_auditentry a WHERE a.target_type = 'booking' AND a.target_id = b.id
                                AND a.action = 'booking.created')
                 OR NOT EXISTS (SELECT 1 FROM django_tasks_database_dbtaskresult r, domain_outboundemail e
                                WHERE e.booking_id = b.id AND r.args_kwargs -> 'args' ->> 0 = e.id::text))""",
            [ids],
        ).fetchone()[0]
    return {
        "double_bookings": doubles,
        "overlapping_slots": overlaps,
        "confirmed_seen_by_clients": len(ids),
        "confirmed_found_in_database": found,
        "half_made_bookings": half_made,
    }


# Reporting --------------------------------------------------------------------------------
def machine() -> dict:
    def read(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return ""

    cpu = next((line.split(":", 1)[1].strip() for line in read(["lscpu"]).splitlines()
                if line.startswith("Model name")), platform.processor())
    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    return {
        "nproc": int(read(["nproc"]) or os.cpu_count() or 0),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "load_average_before": os.getloadavg(),
    }


ROWS = [
    ("calendar", "(a) therapist's week calendar"),
    ("open_slots", "(b) open slots, as a client"),
    ("listing", "(c) listing, first page, 1,000 listed"),
    ("listing_middle", "(c) listing, middle page, 1,000 listed"),
    ("listing_all", "(c) listing, first page, 10,000 listed"),
    ("listing_all_middle", "(c) listing, middle page, 10,000 listed"),
    ("booking", "(d) booking, 64 clients racing"),
    ("series", "(f) series booking (10 weeks)"),
    ("floor", "(e) GET /health (floor)"),
    ("calendar_small", "(a) on the small database"),
    ("calendar_direct", "(g) calendar, direct (in turns with the next)"),
    ("calendar_pgbouncer", "(g) calendar, through PgBouncer"),
    ("booking_direct", "(h) booking race, direct (then the next)"),
    ("booking_pgbouncer", "(h) booking race, through PgBouncer"),
]


LISTING_ROWS = [(key, label.removeprefix("(c) ")) for key, label in ROWS if key.startswith("listing")]


def table(results: dict) -> str:
    floor = results["endpoints"]["floor"]["p50_ms"]
    lines = [
        "| endpoint | requests/s | p50 ms | p95 ms | p99 ms | errors | p50 / floor | server CPU ms/request "
        "(of it PostgreSQL) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in ROWS:
        r = results["endpoints"].get(key)
        if not r:
            continue
        rps = f"{r['rps']:,.0f}"
        if key == "booking":
            rps += f" ({r['bookings_per_second']:,.0f} bookings/s)"
        lines.append(
            f"| {label} | {rps} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['errors']} | {r['p50_ms'] / floor:.1f}× | {r.get('server_cpu_ms_per_request', float('nan')):.2f}"
            + (f" ({r['database_cpu_ms_per_request']:.2f})" if "database_cpu_ms_per_request" in r else "") + " |"
        )
    return "\n".join(lines)


def verdicts(results: dict) -> list[tuple[str, bool, str]]:
    e = results["endpoints"]
    c = results["checks"]
    cal, floor, booking = e["calendar"], e["floor"], e["booking"]
    slots = e["open_slots"]
    ratio = results["big_over_small_calendar_p50"]
    return [
        ("calendar p95 ≤ 25 ms", cal["p95_ms"] <= TARGETS["calendar_p95_ms"], f"{cal['p95_ms']:.1f} ms"),
        ("calendar p50 ≤ 2.5 × floor", cal["p50_ms"] / floor["p50_ms"] <= TARGETS["calendar_p50_over_floor"],
         f"{cal['p50_ms'] / floor['p50_ms']:.2f} ×"),
        ("open slots p50 ≤ 4 × floor", slots["p50_ms"] / floor["p50_ms"] <= TARGETS["open_slots_p50_over_floor"],
         f"{slots['p50_ms'] / floor['p50_ms']:.2f} ×"),
        *[(f"{label} p95 ≤ 50 ms", e[key]["p95_ms"] <= TARGETS["listing_p95_ms"], f"{e[key]['p95_ms']:.1f} ms")
          for key, label in LISTING_ROWS if key in e],
        *[(f"listing {page} page, all/tenth listed ≤ 1.3", ratio <= TARGETS["listing_all_over_tenth"], f"{ratio:.2f}")
          for page, ratio in results.get("listing_all_over_tenth_p50", {}).items()],
        ("booking ≥ 300 bookings/s", booking["bookings_per_second"] >= TARGETS["bookings_per_second"],
         f"{booking['bookings_per_second']:.0f}/s"),
        ("series booking (10 weeks) p95 ≤ 100 ms", e["series"]["p95_ms"] <= TARGETS["series_p95_ms"],
         f"{e['series']['p95_ms']:.1f} ms"),
        ("zero double bookings", c["double_bookings"] == 0, str(c["double_bookings"])),
        ("zero overlapping slots", c["overlapping_slots"] == 0, str(c["overlapping_slots"])),
        ("zero 5xx while booking", booking["server_errors"] == 0, str(booking["server_errors"])),
        ("big/small calendar ≤ 1.3", ratio <= TARGETS["big_over_small_calendar"], f"{ratio:.2f}"),
    ]


def write_performance_doc(path: Path, results: dict) -> None:
    """Replace the generated part of docs/performance.md (between the markers), keeping the
    hand-written text around it."""
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    m = results["machine"]
    sizes = results["sizes"]
    lines = [
        begin,
        f"Run of {results['finished_at']} (`make bench`, {results['duration_per_phase_s']} s per endpoint, "
        f"{results['concurrency']} connections for (a)–(c) and (e), {RACE_CLIENTS} for (d); "
        f"gunicorn with {results['workers']} sync workers).",
        "",
        f"Machine: `nproc` {m['nproc']}, {m['memory_gib']} GiB memory, {m['cpu']}, {results['postgres']}, "
        f"Python {m['python']}; load average (1, 5, 15 min) before the run "
        f"{', '.join(f'{x:.2f}' for x in m['load_average_before'])}, after "
        f"{', '.join(f'{x:.2f}' for x in m.get('load_average_after', ()))}.",
        "",
        f"Data: {sizes['therapists']:,} therapists ({sizes['therapists'] // BOOSTER_EVERY:,} listed), "
        f"{sizes['clients']:,} clients, {sizes['slots']:,} slots over a year, {sizes['bookings']:,} bookings; "
        f"small database {results['small_sizes']['slots']:,} slots.",
        "",
        table(results),
        "",
        f"Big/small calendar p50: {results['big_over_small_calendar_p50']:.2f}. "
        f"Database afterwards: {results['checks']['double_bookings']} double bookings, "
        f"{results['checks']['overlapping_slots']} overlapping slots, "
        f"{results['checks']['confirmed_found_in_database']}/{results['checks']['confirmed_seen_by_clients']} "
        f"confirmed bookings found, {results['checks']['half_made_bookings']} half-made.",
        "",
        pooling_sentence(results),
        "",
        "| target | met | measured |",
        "|---|---|---|",
        *[f"| {name} | {'yes' if ok else '**no**'} | {value} |" for name, ok, value in verdicts(results)],
        end,
    ]
    text = path.read_text() if path.exists() else f"# Performance\n\n{begin}\n{end}\n"
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    path.write_text(head + "\n".join(lines) + tail)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny data, 2 s phases; for CI")
    parser.add_argument("--url", default=None, help="the database to load and measure (BENCH_DATABASE_URL, or "
                        "tidbok_bench; with --smoke tidbok_bench_smoke, so a smoke never reloads the full data)")
    parser.add_argument("--small-url", default=None)
    parser.add_argument("--duration", type=float, default=None, help="seconds per endpoint (20; smoke 2)")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2,
                        help="connections for the read endpoints (one per core)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--results", default=None, help="where to write results.json")
    parser.add_argument("--doc", default=None, help="docs/performance.md to update (full runs only)")
    parser.add_argument("--reload", action="store_true", help="reload the data even if it is there")
    args = parser.parse_args(argv)

    if args.url is None:
        args.url = DEFAULT_URL + "_smoke" if args.smoke else os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    big, small = (SMOKE, SMOKE_SMALL) if args.smoke else (BIG, SMALL)
    duration = args.duration or (2.0 if args.smoke else 20.0)
    small_url = args.small_url or f"{args.url}_small"
    workdir = Path(tempfile.mkdtemp(prefix="tidbok-bench-"))
    env = {**os.environ, "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-migrate"), "TIDBOK_DATA_DIR": str(workdir / "data")}
    results_path = Path(args.results) if args.results else (workdir / "results.json" if args.smoke
                                                             else ROOT / "bench" / "results.json")
    doc_path = Path(args.doc) if args.doc else (None if args.smoke else ROOT / "docs" / "performance.md")

    print(f"Loading {db_name(args.url)} and {db_name(small_url)} (skipped when already loaded) ...", file=sys.stderr)
    if args.reload:
        drop_database(args.url)
        drop_database(small_url)
    info = load(args.url, big, env, quiet=args.smoke)
    info_small = load(small_url, small, env, quiet=args.smoke)
    base = datetime.fromisoformat(info["base"])
    base_small = datetime.fromisoformat(info_small["base"])

    results = {
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "sizes": big.__dict__ | {},
        "small_sizes": small.__dict__ | {},
        "load_seconds": round(info["seconds"], 1),
        "load_skipped": info["skipped"],
        "duration_per_phase_s": duration,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "endpoints": {},
    }
    with psycopg.connect(args.url) as conn:
        results["postgres"] = conn.execute("SHOW server_version").fetchone()[0].split()[0]
        results["postgres"] = f"PostgreSQL {results['postgres']}"
    mark_tokens_used(args.url)
    mark_tokens_used(small_url)

    server = Server(args.url, args.workers, workdir)
    small_server = Server(small_url, args.workers, workdir)
    server.start()
    try:
        small_server.start()
        port = server.port
        # Warm every worker's connection and code paths before measuring.
        drive(port, health_request, min(1.0, duration), args.concurrency)
        drive(port, calendar_request(big, base), min(1.0, duration), args.concurrency)
        drive(small_server.port, calendar_request(small, base_small), min(1.0, duration), args.concurrency)
        cpu, cpu_small = ServerCpu(server), ServerCpu(small_server)
        print("  floor ...", file=sys.stderr)
        results["endpoints"]["floor"], _ = measured(cpu, lambda: (drive(port, health_request, duration,
                                                                        args.concurrency), None))
        # The calendar on the big and the small database in turns: the same machine for both.
        print("  calendar, on the big and the small database in turns ...", file=sys.stderr)
        results["endpoints"]["calendar"], results["endpoints"]["calendar_small"] = alternate(
            [(port, calendar_request(big, base), cpu),
             (small_server.port, calendar_request(small, base_small), cpu_small)],
            duration, args.concurrency,
        )
        small_server.stop()
        print("  open_slots ...", file=sys.stderr)
        results["endpoints"]["open_slots"], _ = measured(cpu, lambda: (drive(port, open_slots_request(big), duration,
                                                                              args.concurrency), None))
        print("  listing, a tenth and all of the therapists listed, in turns ...", file=sys.stderr)
        results["endpoints"].update(listing_at_two_sizes(port, args.url, env, big, duration, args.concurrency, cpu))
        print("  booking race ...", file=sys.stderr)
        slot_ids, client_users = race_setup(args.url, big, base)
        booking, confirmed = measured(cpu, lambda: race(port, slot_ids, client_users, limit=max(duration * 3, 10.0)))
        results["endpoints"]["booking"] = booking
        # R32: a therapist books a client for 10 weeks (slots made and booked, one mail), after
        # everything else in the calendar, one connection per core as the reads.
        print("  series booking ...", file=sys.stderr)
        pairs, start0 = series_setup(args.url)
        results["endpoints"]["series"], _ = measured(cpu, lambda: (drive(
            port, series_request(pairs, start0), duration, args.concurrency, expected=(201,)), None))
        print("  calendar and booking, direct and through PgBouncer ...", file=sys.stderr)
        pooled, won = through_pgbouncer(args.url, big, base, server, cpu, duration, args.concurrency)
        results["endpoints"] |= pooled
        confirmed |= won
    finally:
        small_server.stop()
        server.stop()
    results["checks"] = database_checks(args.url, confirmed)

    e = results["endpoints"]
    results["big_over_small_calendar_p50"] = round(e["calendar"]["p50_ms"] / e["calendar_small"]["p50_ms"], 2)
    results["big_over_small_calendar_p95"] = round(e["calendar"]["p95_ms"] / e["calendar_small"]["p95_ms"], 2)
    results["pgbouncer_over_direct"] = pooling_ratios(e)
    for q in ("p50", "p95"):
        results[f"listing_all_over_tenth_{q}"] = {
            page: round(e[all_key][f"{q}_ms"] / e[tenth_key][f"{q}_ms"], 2)
            for page, tenth_key, all_key in (("first", "listing", "listing_all"),
                                             ("middle", "listing_middle", "listing_all_middle"))
        }
    results["finished_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
    results["machine"]["load_average_after"] = os.getloadavg()
    results["targets"] = {name: {"met": ok, "measured": value} for name, ok, value in verdicts(results)}

    print()
    print(table(results))
    print()
    c = results["checks"]
    print(f"big/small calendar p50 {results['big_over_small_calendar_p50']:.2f}; double bookings "
          f"{c['double_bookings']}; overlapping slots {c['overlapping_slots']}; confirmed "
          f"{c['confirmed_found_in_database']}/{c['confirmed_seen_by_clients']} in the database; "
          f"half-made {c['half_made_bookings']}")
    print(pooling_sentence(results))
    for name, ok, value in verdicts(results):
        print(f"  {'MET   ' if ok else 'MISSED'} {name}: {value}")

    results_path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nResults: {results_path}")
    if doc_path:
        write_performance_doc(doc_path, results)
        print(f"Updated: {doc_path}")

    failures = [f for r in e.values() for f in r["failures"]]
    broken = (
        sum(r["errors"] for r in e.values())
        or c["double_bookings"] or c["overlapping_slots"] or c["half_made_bookings"]
        or c["confirmed_found_in_database"] != c["confirmed_seen_by_clients"]
        or any(e[key]["bookings"] == 0 or e[key]["failures"]  # a refusal other than slot_taken
               for key in ("booking", "booking_direct", "booking_pgbouncer") if key in e)
    )
    if broken:
        print("FAILED: " + "; ".join(failures[:10]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
