"""R39: the access log. Every read of a client's personal data by someone other than herself
writes one `AccessRecord` per (request, client, what) through `record_reads`, the one writer;
the surfaces (pages, API, admin, the calendar feed) call it and stay thin.

The write is on the path of the hottest read (the therapist's calendar), so it is one
hand-written multi-row INSERT (as `domain.rows` does for the reads): no SELECT before it, no
queryset to compile, one round trip for a week of 40 bookings. The log can only grow:
PostgreSQL's trigger (`AccessRecord.Meta.triggers`) refuses UPDATE and DELETE, and only the
retention job prunes, through `access_log_prune`."""

from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime

import pgtrigger
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from ..models import AccessRecord, Client, User

try:  # Django's client-side cursor for psycopg 3 (the default without server-side binding)
    from django.db.backends.postgresql.base import Cursor as PostgresClientCursor
except (ImportError, ImproperlyConfigured):  # no psycopg: SQLite only
    PostgresClientCursor = None

Role, Surface, What = AccessRecord.Role, AccessRecord.Surface, AccessRecord.What

_TRIGGER = "domain.AccessRecord:access_record_append_only"
_COLUMNS = ("at", "actor_id", "role", "client_id", "what", "surface")


def _insert_sql(rows: int, relaxed: bool) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in _COLUMNS)
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * rows)
    table = quote(AccessRecord._meta.db_table)
    if not relaxed:
        return f"INSERT INTO {table} ({columns}) VALUES {values}"
    # The same rows, with this statement's own transaction committed without waiting for the
    # WAL flush (`synchronous_commit` off, transaction-local: it ends with the statement).
    return (
        f"INSERT INTO {table} ({columns}) SELECT * FROM (VALUES {values}) AS v ({columns}) "
        "WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL"
    )


# SQLite's default limit is 32766 bound variables per statement; PostgreSQL's 65535. A chunk
# of 5000 rows (30000 values) fits both, and no page or answer reads more clients than that.
_CHUNK = 5000


def record_reads(
    *, actor: User, clients: Iterable[Client | int], what: str, surface: str, at: datetime | None = None
) -> int:
    """Log that `actor` read the personal data of `clients` (instances or ids) as `what`,
    through `surface`: one row per client, duplicates dropped, in one INSERT. The role is
    the one she read in: staff in the admin, a therapist everywhere else (only a therapist
    reaches those surfaces). A client reading herself is not logged: an instance whose
    account is the actor's is left out (ids are taken as they are, so a surface that could
    show a user her own client record passes instances). Returns the number of rows."""
    ids = _client_ids(actor, clients, what, surface)
    if not ids:
        return 0
    role = Role.STAFF if surface == Surface.ADMIN else Role.THERAPIST
    stamp = connection.ops.adapt_datetimefield_value(at or timezone.now())
    ids_list = list(ids)
    # On PostgreSQL, outside a transaction (every read's case), the record's commit does not
    # wait for the disk: waiting tripled the calendar's latency (docs/performance.md). A
    # server crash may lose the last fraction of a second of records, never half of one;
    # inside a transaction (a booking's) the setting would relax that transaction too, so
    # there the statement is the plain one.
    relaxed = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for start in range(0, len(ids_list), _CHUNK):
            chunk = ids_list[start : start + _CHUNK]
            params = []
            for client_id in chunk:
                params += [stamp, actor.pk, role, client_id, what, surface]
            cursor.execute(_insert_sql(len(chunk), relaxed), params)
    return len(ids_list)


def _client_ids(actor: User, clients: Iterable[Client | int], what: str, surface: str) -> dict[int, None]:
    if what not in What.values or surface not in Surface.values:
        raise ValueError(f"unknown access kind {what!r} / surface {surface!r}")
    ids: dict[int, None] = {}
    for client in clients:
        if isinstance(client, Client):
            if client.pk is None or (client.user_id is not None and client.user_id == actor.pk):
                continue
            ids[client.pk] = None
        elif client is not None:
            ids[int(client)] = None
    return ids


# Where a request collects the reads to record once its answer is sent (`record_reads_when_sent`).
PENDING = "_tidbok_access_reads"


def record_reads_when_sent(request, *, actor: User, clients: Iterable[Client | int], what: str, surface: str) -> None:
    """`record_reads` for a page or an API answer, written when the answer has been handed over:
    `tidbok.middleware.access_log` writes the collected reads from the response's `close()`,
    which the WSGI server calls after the last byte went out — so the reader does not wait for
    the INSERT (the therapist's calendar is the hottest read; docs/performance.md). The
    clients and the moment are taken now. Without that middleware (a request built by hand)
    the records are written at once."""
    pending = request.__dict__.get(PENDING)
    ids = list(_client_ids(actor, clients, what, surface))
    if not ids:
        return
    read = {"actor": actor, "clients": ids, "what": what, "surface": surface, "at": timezone.now()}
    if pending is None:
        record_reads(**read)
    else:
        pending.append(read)


def record_pending_reads(pending: list[dict]) -> None:
    for read in pending:
        record_reads(**read)


def access_log_carry(*, from_client_id: int, to_client_id: int) -> int:
    """When a therapist's record is joined to a person's account (`client_merge`), the reads
    of that record become hers to see: they are copied under her client id (the log is never
    updated; the old rows stay under an id no client has any more). One INSERT … SELECT."""
    quote = connection.ops.quote_name
    table = quote(AccessRecord._meta.db_table)
    columns = ", ".join(quote(c) for c in _COLUMNS)
    selected = ", ".join("%s" if c == "client_id" else quote(c) for c in _COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {selected} FROM {table} WHERE {quote('client_id')} = %s",
            [to_client_id, from_client_id],
        )
        return cursor.rowcount


def access_log_prune(*, before: datetime) -> int:
    """The retention job's (`erase_expired`): delete the records older than `before`. The
    only deletion the log allows: PostgreSQL's trigger refuses every other, and this one runs
    inside pgtrigger's `ignore` for that trigger alone, in its own transaction, so nothing
    else in the connection is ever let through. Returns the number of rows deleted."""
    if timezone.is_naive(before):
        raise ValueError("before: give an aware datetime")
    with transaction.atomic(), _client_side_binding(), pgtrigger.ignore(_TRIGGER):
        deleted, _by_model = AccessRecord.objects.filter(at__lt=before).delete()
    return deleted


@contextmanager
def _client_side_binding():
    """pgtrigger's `ignore` prefixes each statement with `SELECT set_config(…);`: two commands
    in one, which PostgreSQL refuses in a prepared statement, and the settings bind on the
    server (`DATABASE_SERVER_SIDE_BINDING`, docs/performance.md). For the prune's few
    statements this connection's cursors bind on the client, as Django's default does."""
    connection.ensure_connection()
    raw = connection.connection
    factory = getattr(raw, "cursor_factory", None)
    if connection.vendor != "postgresql" or factory is None or factory is PostgresClientCursor:
        yield
        return
    raw.cursor_factory = PostgresClientCursor
    try:
        yield
    finally:
        raw.cursor_factory = factory
