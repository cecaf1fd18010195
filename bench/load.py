"""Fill a PostgreSQL database for `make bench` with COPY (psycopg 3), with a progress bar.

The database is created if missing and migrated with the project's own migrations; the data is
then written straight into the tables. A `bench_meta` table remembers the sizes loaded, so a
second run with the same sizes skips the load (the data is reusable between runs).

Shape of the data (deterministic, seeded):
- therapists: user ids 1..T; every 10th has Client Booster (so the listing shows T/10 of them);
  each has `slots_per_therapist` slots spread evenly over a year (half past, half future), at
  most one per day, 45 minutes, 20 % of them for existing clients only.
- clients: user ids T+1..T+C, each with a login, a unique personnummer and e-mail.
- bookings: every 4th slot, for a random client; 5 % of them cancelled. Each (therapist,
  client) pair of a booking is on the therapist's list (ClientLink).
- API tokens: the token of user id u is `bench-<u>`; only its SHA-256 is stored, as usual.
"""

import hashlib
import io
import json
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SLOT_MINUTES = 45
BOOSTER_EVERY = 10


@dataclass(frozen=True)
class Sizes:
    therapists: int
    clients: int
    slots: int
    bookings: int

    @property
    def slots_per_therapist(self) -> int:
        return self.slots // self.therapists


BIG = Sizes(therapists=10_000, clients=200_000, slots=2_000_000, bookings=500_000)
SMALL = Sizes(therapists=100, clients=2_000, slots=20_000, bookings=5_000)
SMOKE = Sizes(therapists=40, clients=400, slots=4_000, bookings=1_000)
SMOKE_SMALL = Sizes(therapists=10, clients=100, slots=1_000, bookings=250)


def token_for(user_id: int) -> str:
    return f"bench-{user_id}"


def token_hash(user_id: int) -> str:
    return hashlib.sha256(token_for(user_id).encode()).hexdigest()


def personnummer(n: int) -> str:
    """A valid, unique 12-digit personnummer for client number n (birth dates from 1940 on)."""
    day = datetime(1940, 1, 1) + timedelta(days=n % 20_000)
    serial = f"{(n // 20_000) % 1000:03d}"
    body = day.strftime("%y%m%d") + serial
    return f"{day:%Y%m%d}-{serial}{luhn_digit(body)}"


def luhn_digit(digits: str) -> int:
    total = 0
    for i, ch in enumerate(digits):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int, quiet: bool = False):
        self.label, self.total, self.done, self.quiet = label, max(total, 1), 0, quiet
        self.started = time.monotonic()
        self.shown = 0.0

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if not self.quiet and (now - self.shown > 0.2 or self.done >= self.total):
            self.shown = now
            width = 30
            filled = int(width * self.done / self.total)
            rate = self.done / max(now - self.started, 1e-9)
            sys.stderr.write(
                f"\r  {self.label:<12} [{'#' * filled}{'.' * (width - filled)}] "
                f"{self.done:>10,}/{self.total:,}  {rate:,.0f}/s "
            )
            if self.done >= self.total:
                sys.stderr.write(f" {now - self.started:.1f}s\n")
            sys.stderr.flush()


def admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def ensure_database(url: str) -> None:
    name = db_name(url)
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    name = db_name(url)
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(url: str, env: dict) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT, env={**env, "DATABASE_URL": url}, check=True,
    )


def listing_rebuild(url: str, env: dict) -> None:
    """Every therapist's listing row computed by the project itself (`manage.py listing_rebuild`)."""
    subprocess.run(
        [sys.executable, "manage.py", "listing_rebuild", "--verbosity", "0"],
        cwd=ROOT, env={**env, "DATABASE_URL": url}, check=True, stdout=subprocess.DEVNULL,
    )


def loaded_sizes(conn) -> dict | None:
    conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
    row = conn.execute("SELECT value FROM bench_meta WHERE key = 'sizes'").fetchone()
    return row[0] if row else None


def loaded_base(url: str) -> datetime:
    """The moment the loaded year is centred on, for the tools that measure a database
    `make bench` has loaded already; a clear exit when it has not."""
    with psycopg.connect(url) as conn:
        meta = loaded_sizes(conn)
    if not meta:
        raise SystemExit(f"{db_name(url)} is not loaded: run `make bench` once")
    return datetime.fromisoformat(meta["base"])


ZERO_BY_TYPE = {
    "boolean": "false", "integer": "0", "bigint": "0", "smallint": "0", "numeric": "0", "double precision": "0",
    "text": "''", "character varying": "''", "jsonb": "'[]'::jsonb", "json": "'[]'::json",
    "timestamp with time zone": "now()", "date": "current_date", "uuid": "gen_random_uuid()",
}


def default_new_columns(conn, table: str, columns: list[str]) -> list[str]:
    """A column added by a later migration that this loader does not know yet gets a
    zero-like default for the COPY (Django keeps defaults in Python, not in the table), so the
    bench survives additive migrations. Answers the columns it defaulted, to drop after."""
    missing = conn.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL
             AND identity_generation IS NULL AND NOT (column_name = ANY(%s))""",
        [table, columns],
    ).fetchall()
    done = []
    for name, data_type in missing:
        zero = ZERO_BY_TYPE.get(data_type)
        if zero is None:
            raise SystemExit(f"bench/load.py: {table}.{name} ({data_type}) is new and has no default; add it")
        conn.execute(f'ALTER TABLE {table} ALTER COLUMN "{name}" SET DEFAULT {zero}')
        done.append(name)
    return done


def copy_rows(conn, table: str, columns: list[str], rows, progress: Progress, chunk: int = 20_000) -> None:
    """COPY rows (tuples of str/int/None) into table, in text format, chunk by chunk."""
    defaulted = default_new_columns(conn, table, columns)
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with conn.cursor() as cur, cur.copy(sql) as copy:
        buf = io.StringIO()
        n = 0
        for row in rows:
            buf.write("\t".join("\\N" if v is None else str(v) for v in row))
            buf.write("\n")
            n += 1
            if n == chunk:
                copy.write(buf.getvalue())
                progress.add(n)
                buf, n = io.StringIO(), 0
        if n:
            copy.write(buf.getvalue())
            progress.add(n)
    for name in defaulted:
        conn.execute(f'ALTER TABLE {table} ALTER COLUMN "{name}" DROP DEFAULT')


TRUNCATE = """
TRUNCATE domain_outboundemail, domain_auditentry, domain_booking, domain_slot, domain_clientlink,
         domain_apitoken, domain_client, domain_therapist, domain_ratecounter, domain_accountrequest,
         django_tasks_database_dbtaskresult, domain_user CASCADE
"""


def load(url: str, sizes: Sizes, env: dict, quiet: bool = False, seed: int = 5) -> dict:
    """Create, migrate and fill the database unless it already holds these sizes.
    Answers {"skipped": bool, "seconds": float, "base": ISO time the year is centred on}."""
    ensure_database(url)
    migrate(url, env)
    with psycopg.connect(url, autocommit=True) as conn:
        meta = loaded_sizes(conn)
        if meta and meta.get("sizes") == asdict(sizes):
            return {"skipped": True, "seconds": 0.0, "base": meta["base"]}
    started = time.monotonic()
    rng = random.Random(seed)
    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    T, C = sizes.therapists, sizes.clients
    per = sizes.slots_per_therapist
    stamp = base.isoformat()
    # Every user shares one unusable password: the bench logs in with API tokens.
    password = "!bench-no-password"

    with psycopg.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")  # foreign keys checked per COPY, not at commit
        conn.execute("DELETE FROM bench_meta")
        conn.execute(TRUNCATE)
        # The exclusion constraint is the costliest index to keep up row by row: drop it for
        # the load and build it once afterwards (the build itself proves there is no overlap).
        conn.execute("ALTER TABLE domain_slot DROP CONSTRAINT IF EXISTS slot_no_overlap")

        users = (
            (u, password, None, "false", f"Terapeut{u}" if u <= T else f"Klient{u}",
             f"Bench{u % 997}", "false", "true", stamp, f"user{u}@bench.tidbok.se", "sv", "true")
            for u in range(1, T + C + 1)
        )
        copy_rows(conn, "domain_user", ["id", "password", "last_login", "is_superuser", "first_name", "last_name",
                                        "is_staff", "is_active", "date_joined", "email", "language", "email_verified"],
                  users, Progress("users", T + C, quiet))

        therapists = (
            (t, "Europe/Stockholm", SLOT_MINUTES, 1000, "true", "true", "all", f"Mottagningsgatan {t}",
             "Ring på porttelefonen.", "true" if t % BOOSTER_EVERY == 0 else "false", stamp, t, "[]",
             f"feed-{t}", 24, "Stockholm", '["sv"]', "", "Leg. psykolog", 0, 730, "|language:sv|")
            for t in range(1, T + 1)
        )
        # R35: the widest booking window (no notice, 730 days: domain.models' MAX_BOOKING_HORIZON_DAYS),
        # so clients see and book every future slot of the year around `base`, as before the rule.
        copy_rows(conn, "domain_therapist",
                  ["id", "timezone", "default_duration_minutes", "default_price", "default_video", "default_onsite",
                   "default_audience", "reception_address", "personal_info", "client_booster", "created_at", "user_id",
                   "areas", "calendar_feed_token", "cancellation_cutoff_hours", "city", "languages", "presentation",
                   "title", "min_notice_hours", "booking_horizon_days", "search_tags"],
                  therapists, Progress("therapists", T, quiet))

        clients = (
            (c, personnummer(c), f"Klient{T + c}", f"Bench{(T + c) % 997}", f"klient{T + c}",
             f"user{T + c}@bench.tidbok.se", "", "sv", stamp, T + c)
            for c in range(1, C + 1)
        )
        copy_rows(conn, "domain_client", ["id", "personnummer", "first_name", "last_name", "search_name", "email",
                                          "phone", "language", "created_at", "user_id"],
                  clients, Progress("clients", C, quiet))

        tokens = ((u, token_hash(u), stamp, None, u) for u in range(1, T + C + 1))
        copy_rows(conn, "domain_apitoken", ["id", "key_hash", "created_at", "last_used_at", "user_id"],
                  tokens, Progress("api tokens", T + C, quiet))

        # Slots: therapist t's k-th slot lies on day k*365/per of the year around `base`, at an
        # hour that varies by therapist and slot, so no two of hers share a day.
        first_day = base - timedelta(days=182)
        booked_every = max(sizes.slots // max(sizes.bookings, 1), 1)
        bookings = []
        links = set()

        def slots():
            sid = 0
            for t in range(1, T + 1):
                for k in range(per):
                    sid += 1
                    day = first_day + timedelta(days=k * 365 // per)
                    start = day + timedelta(hours=7 + (t + k) % 9)
                    end = start + timedelta(minutes=SLOT_MINUTES)
                    video, onsite = ("true", "true") if k % 3 == 0 else (("true", "false") if k % 3 == 1 else
                                                                         ("false", "true"))
                    audience = "existing" if k % 5 == 4 else "all"
                    if sid % booked_every == 0 and len(bookings) < sizes.bookings:
                        client = rng.randint(1, C)
                        mode = "video" if video == "true" else "onsite"
                        status = "cancelled" if rng.random() < 0.05 else "confirmed"
                        bookings.append((sid, t, client, start.isoformat(), end.isoformat(), mode, status))
                        links.add((t, client))
                    yield (sid, start.isoformat(), end.isoformat(), 1000, video, onsite, audience, stamp, stamp, t)

        copy_rows(conn, "domain_slot", ["id", "start_at", "end_at", "price", "video", "onsite", "audience",
                                        "created_at", "updated_at", "therapist_id"],
                  slots(), Progress("slots", T * per, quiet))

        def booking_rows():
            for bid, (sid, t, client, start, end, mode, status) in enumerate(bookings, 1):
                cancelled_at = stamp if status == "cancelled" else None
                yield (bid, start, end, 1000, mode, status, stamp, cancelled_at, 0, f"vt{bid}-{rng.getrandbits(64):x}",
                       f"vr{bid}-{rng.getrandbits(64):x}", None, t, client, sid, t, None, f"tv{bid}-{rng.getrandbits(64):x}")

        copy_rows(conn, "domain_booking",
                  ["id", "start_at", "end_at", "price", "mode", "status", "created_at", "cancelled_at", "sequence",
                   "video_token", "video_room", "cancelled_by_id", "created_by_id", "client_id", "slot_id",
                   "therapist_id", "reminder_queued_at", "therapist_video_token"],
                  booking_rows(), Progress("bookings", len(bookings), quiet))

        copy_rows(conn, "domain_clientlink", ["id", "source", "created_at", "client_id", "therapist_id"],
                  ((i, "platform", stamp, c, t) for i, (t, c) in enumerate(sorted(links), 1)),
                  Progress("client list", len(links), quiet))

        step = Progress("constraints", 1, quiet)
        conn.execute("""ALTER TABLE domain_slot ADD CONSTRAINT slot_no_overlap
            EXCLUDE USING gist (therapist_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&)""")
        for table in ("domain_user", "domain_therapist", "domain_client", "domain_apitoken", "domain_slot",
                      "domain_booking", "domain_clientlink"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        step.add(1)
        conn.commit()

    # R9: the listing's rows (`Listing`), which the services keep and a COPY does not.
    listing_rebuild(url, env)

    with psycopg.connect(url, autocommit=True) as conn:
        step = Progress("analyze", 1, quiet)
        conn.execute("VACUUM ANALYZE")
        step.add(1)
        seconds = time.monotonic() - started
        conn.execute(
            "INSERT INTO bench_meta (key, value) VALUES ('sizes', %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [json.dumps({"sizes": asdict(sizes), "base": base.isoformat(), "load_seconds": round(seconds, 1)})],
        )
    return {"skipped": False, "seconds": seconds, "base": base.isoformat()}
