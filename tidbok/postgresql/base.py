"""Django's PostgreSQL backend with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of every request on
a persistent connection: on the calendar that was as long a wait as its own queries
(docs/performance.md). A server that goes away — restarted, shut down, the backend killed —
closes the socket or sends its last message (FATAL: terminating connection) first, either of
which makes the idle connection's socket readable. So an idle socket with nothing to read is
taken as healthy, and only one with something to read gets Django's real check, which finds
the connection dead and replaces it: the service recovers from a PostgreSQL restart by itself
(domain/tests/test_faults.py) as before. A connection that dies without a word (a cut
network) fails its next query instead: that request answers 503 and Django closes the
connection at its end."""

import logging
import select

from django.conf import settings
from django.db.backends.postgresql import base

log = logging.getLogger("tidbok.db")
_pooled_lock_timeout_checked = False


class DatabaseWrapper(base.DatabaseWrapper):
    def init_connection_state(self):
        super().init_connection_state()
        global _pooled_lock_timeout_checked
        if settings.DATABASE_POOLER == "pgbouncer" and self.alias == "default" and not _pooled_lock_timeout_checked:
            _pooled_lock_timeout_checked = True
            self._check_pooled_lock_timeout()

    def _check_pooled_lock_timeout(self) -> None:
        """Behind PgBouncer Tidbok cannot send lock_timeout (settings.py): the pooler's
        connect_query sets it (deploy/pgbouncer.ini). A pooler without it, a DATABASE_URL that
        skips the pooler, or a connect_query out of step with DB_LOCK_TIMEOUT_MS would leave a
        request behind a held row waiting another time than the one promised, or for ever; said
        once per process, at its first connection."""
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT setting FROM pg_settings WHERE name = 'lock_timeout'")
            found = int(cursor.fetchone()[0])
        if found != settings.DB_LOCK_TIMEOUT_MS:
            log.error("DATABASE_POOLER=pgbouncer, but the server connection's lock_timeout is %s ms, not "
                      "DB_LOCK_TIMEOUT_MS (%s ms): set it in PgBouncer's connect_query (deploy/pgbouncer.ini)",
                      found, settings.DB_LOCK_TIMEOUT_MS)

    def close_if_health_check_failed(self):
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if not self.connection.closed and not self._socket_readable():
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _socket_readable(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return True  # no usable socket: let the real check decide
        return bool(readable)
