"""Public reads from a PostgreSQL read replica (issue 15; docs/architecture.md, "Read replica").

With DATABASE_REPLICA_URL set, the reads anyone may make without being anyone in particular
— the listing and "Hitta terapeut", matching, a therapist's profile and her open times — go
to the replica, and only those: a view opts in with `@public_read`, and inside it only the
models of `REPLICA_MODELS` are read there. Sessions, users, tokens, tasks, every write and every
other read stay on the primary ("default"), as does anything inside a transaction.

Three things keep a reader from ever noticing the replica:
- *Health*: before a scope first reads from it, the replica's lag is checked (one query,
  remembered per process for a few seconds). A replica that cannot be reached, or lags more
  than REPLICA_MAX_LAG_SECONDS, is skipped for a few seconds; the reads go to the primary.
- *Retry*: a public read has no side effects, so a view that fails on the replica with a
  database error is run again on the primary, once. The caller never gets a 5xx because
  of the replica.
- *Deadline*: a statement on the replica that has no answer after QUERY_SECONDS has its
  connection cut (`_Watchdog`), which fails it, and the retry takes over. libpq bounds only the
  connecting (connect_timeout); a replica that hangs once connected (a stalled disk, a stopped
  process, a network gone quiet) would otherwise hold the request until gunicorn kills it.
- *Read-your-writes*: whoever wrote (an unsafe method answered below 400) reads from the
  primary for REPLICA_STICKY_SECONDS: a signed cookie for browsers and clients that keep
  cookies, and a mark in Django's cache under her user id for bearer tokens. So a client who
  just booked never sees the time still open, nor her booking missing.
"""

import logging
import os
import socket
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.db.backends.signals import connection_created

REPLICA = "replica"
PRIMARY = "default"

# What a public read may take from the replica: the calendar's public facts and the
# visibility rules' rows (R7–R9). Users, sessions, tokens and all else are read from the primary
# even inside a scope (a page's `request.user` is loaded there first).
# `domain.listing`: the stored listing places (R9 at country scale), where that model exists.
REPLICA_MODELS = frozenset({
    "domain.therapist", "domain.slot", "domain.booking", "domain.bookingseries", "domain.clientlink",
    "domain.timeoff", "domain.busytime", "domain.waitlistentry", "domain.listing",
})

# A healthy replica is checked again after this many seconds (REPLICA_STICKY_SECONDS covers
# them); one found down or lagging is skipped for this many (per process: each worker finds
# out for itself, at one query each).
CHECK_EVERY_SECONDS = settings.REPLICA_HEALTH_SECONDS
SKIP_FOR_SECONDS = 5
# A statement on the replica unanswered after this many seconds (give or take the watchdog's
# half-second round) is cut off and the read goes to the primary: a public read takes
# milliseconds, and gunicorn would kill the worker at 30.
QUERY_SECONDS = 5

COOKIE = "tidbok_primary_until"
COOKIE_SALT = "tidbok.replica.primary_until"

# The lag in seconds: 0 on a server that is not replaying (a primary, or a replica promoted
# since), and 0 on a replica that streams from its primary and has replayed all it received.
# The latter matters: on an idle primary nothing new is written, so the last replayed
# transaction's time grows old although the replica lags nothing. Without a streaming WAL
# receiver (cut off from the primary: its receive position stays where it was, equal to the
# replay position, however much the primary writes meanwhile; or replaying from an archive)
# the last replay's age counts. A role without pg_read_all_stats sees a receiver's row but not
# its status: a running receiver then counts as streaming. The connection's own clock reads
# both ends' times.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
         AND EXISTS (SELECT FROM pg_stat_wal_receiver WHERE COALESCE(status, 'streaming') = 'streaming') THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
END
"""

log = logging.getLogger("tidbok.replica")


@dataclass
class _Scope:
    primary_only: bool
    used_replica: bool = False


_scope: ContextVar[_Scope | None] = ContextVar("tidbok_public_read", default=None)


@dataclass
class _Health:
    usable: bool
    until: float  # time.monotonic()


_health: dict[str, _Health] = {}


def replica_lag_seconds(alias: str = REPLICA) -> float:
    """How many seconds the server behind `alias` lags its primary (`LAG_SQL`); raises
    DatabaseError when it cannot be asked."""
    with connections[alias].cursor() as cursor:
        cursor.execute(LAG_SQL)
        return float(cursor.fetchone()[0])


def replica_usable(alias: str = REPLICA) -> bool:
    """Whether reads may go to `alias` now: reachable and within REPLICA_MAX_LAG_SECONDS,
    as last checked by this process at most CHECK_EVERY_SECONDS (or, after a failure,
    SKIP_FOR_SECONDS) ago. A change is logged once, not on every request."""
    now = time.monotonic()
    known = _health.get(alias)
    if known is not None and now < known.until:
        return known.usable
    try:
        lag = replica_lag_seconds(alias)
    except DatabaseError as e:
        _close_quietly(alias)
        return _remember(alias, False, f"cannot be reached ({type(e).__name__}: {str(e).strip()})", known)
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        return _remember(alias, False, f"lags {lag:.1f} s (REPLICA_MAX_LAG_SECONDS {settings.REPLICA_MAX_LAG_SECONDS})",
                         known)
    return _remember(alias, True, "", known)


def replica_skip(alias: str, reason: str) -> None:
    """Read from the primary for SKIP_FOR_SECONDS: `alias` failed a query."""
    _close_quietly(alias)
    _remember(alias, False, reason, _health.get(alias))


def replica_health_forget() -> None:
    """Ask again at the next read (tests; a process that knows the replica changed)."""
    _health.clear()


def _remember(alias: str, usable: bool, reason: str, known: _Health | None) -> bool:
    if not usable and (known is None or known.usable):
        log.warning("the read replica %r %s: public reads go to the primary", alias, reason)
    elif usable and known is not None and not known.usable:
        log.warning("the read replica %r is back: public reads go to it again", alias)
    _health[alias] = _Health(usable, time.monotonic() + (CHECK_EVERY_SECONDS if usable else SKIP_FOR_SECONDS))
    return usable


def _close_quietly(alias: str) -> None:
    try:
        connections[alias].close()
    except DatabaseError:
        pass


class _Watchdog:
    """Cuts the connection of a replica statement that outlived its deadline: one thread per
    process (started on first use, again after a fork), so a statement costs a dict entry, not
    a timer. Shutting the socket down wakes the waiting psycopg with an error at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting: dict[object, tuple[float, object]] = {}
        self._thread: threading.Thread | None = None

    def __call__(self, execute, sql, params, many, context):
        raw = context["connection"].connection
        token = object()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="tidbok-replica-watchdog", daemon=True)
                self._thread.start()
            self._waiting[token] = (time.monotonic() + QUERY_SECONDS, raw)
        try:
            return execute(sql, params, many, context)
        finally:
            with self._lock:
                self._waiting.pop(token, None)

    def _run(self):
        while True:
            time.sleep(0.5)
            now = time.monotonic()
            # Under the lock: the statement's thread cannot meanwhile finish, close the
            # connection and have its socket's number taken by another.
            with self._lock:
                late = [token for token, (deadline, _raw) in self._waiting.items() if deadline <= now]
                for token in late:
                    _shut_down(self._waiting.pop(token)[1])
            for _ in late:
                log.warning("a statement on the read replica had no answer within %s s: connection cut", QUERY_SECONDS)


def _shut_down(raw) -> None:
    try:
        sock = socket.socket(fileno=os.dup(raw.pgconn.socket))
    except Exception:  # noqa: BLE001 - closed meanwhile: nothing left to cut
        return
    with sock:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


_watchdog = _Watchdog()


def _watch_replica(sender, connection, **kwargs):
    """Every statement on the replica alias runs under the watchdog (`QUERY_SECONDS`)."""
    if connection.alias == REPLICA and _watchdog not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watchdog)


connection_created.connect(_watch_replica)


class ReplicaRouter:
    """DATABASE_ROUTERS: public reads inside a scope to the replica, all else to the primary.

    Every answer names the alias (never None): Django's fallback would send a write of an
    object read from the replica back to the replica."""

    def db_for_read(self, model, **hints):
        scope = _scope.get()
        if (
            scope is None
            or scope.primary_only
            or model._meta.label_lower not in REPLICA_MODELS
            or connections[PRIMARY].in_atomic_block  # a transaction reads what it locked and wrote
            or not replica_usable()
        ):
            return PRIMARY
        scope.used_replica = True
        return REPLICA

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return obj1._state.db in (PRIMARY, REPLICA) and obj2._state.db in (PRIMARY, REPLICA)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


@contextmanager
def public_reads(*, primary_only: bool = False):
    """A scope in which the router may send reads of `REPLICA_MODELS` to the replica."""
    scope = _Scope(primary_only=primary_only or not settings.REPLICA_READS)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def public_read(view):
    """A view whose reads may come from the replica: it writes nothing, so when the replica
    fails it mid-way it is simply run again on the primary. Someone who wrote a moment ago
    (`primary_marked`) reads from the primary. Without a replica this is the view itself."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.REPLICA_READS:
            return view(request, *args, **kwargs)
        with public_reads(primary_only=primary_marked(request)) as scope:
            try:
                return view(request, *args, **kwargs)
            except (OperationalError, InterfaceError) as e:
                if not scope.used_replica:
                    raise
                log.warning("a public read failed on the read replica (%s: %s); read again from the primary",
                            type(e).__name__, str(e).strip())
                replica_skip(REPLICA, f"failed a query ({type(e).__name__})")
        with public_reads(primary_only=True):
            return view(request, *args, **kwargs)

    return wrapped


def _mark_key(user_id) -> str:
    return f"tidbok:primary-until:{user_id}"


def _cache_errors() -> tuple[type[Exception], ...]:
    """What a shared cache (CACHE_URL's Redis) raises when it is down or slow."""
    try:
        from redis.exceptions import RedisError
    except ImportError:
        return (OSError,)
    return (OSError, RedisError)


def _writer(request):
    """The logged-in user of a request, by bearer token (the API's `request.auth`) or session."""
    user = getattr(request, "auth", None)
    if getattr(user, "is_authenticated", False):
        return user
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def primary_marked(request) -> bool:
    """Whether this caller wrote within the last REPLICA_STICKY_SECONDS (`primary_after_writes`)."""
    if request.get_signed_cookie(COOKIE, default=None, salt=COOKIE_SALT, max_age=settings.REPLICA_STICKY_SECONDS):
        return True
    user = _writer(request)
    if user is None:
        return False
    try:
        return (cache.get(_mark_key(user.pk)) or 0) > time.time()
    except _cache_errors():
        return True  # the cache cannot say: the primary is never wrong


def primary_after_writes(get_response):
    """Read-your-writes: an unsafe request answered below 400 (a booking, a cancellation, a
    new slot, a log-in) marks its caller, who then reads from the primary for
    REPLICA_STICKY_SECONDS. Writes happen only on unsafe methods (Django's CSRF and the API's
    contract). The cookie needs nothing shared between servers; the cache mark covers bearer
    tokens, across servers only when CACHES is one cache for all (docs/architecture.md)."""

    def middleware(request):
        response = get_response(request)
        if settings.REPLICA_READS and request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and response.status_code < 400:
            seconds = settings.REPLICA_STICKY_SECONDS
            response.set_signed_cookie(
                COOKIE, "1", salt=COOKIE_SALT, max_age=seconds, httponly=True, samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
            user = _writer(request)
            if user is not None:
                try:
                    cache.set(_mark_key(user.pk), time.time() + seconds, timeout=seconds)
                except _cache_errors():
                    log.warning("read-your-writes mark not kept: the cache (CACHE_URL) did not answer")
        return response

    return middleware
