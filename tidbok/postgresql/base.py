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

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
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
