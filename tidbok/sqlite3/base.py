"""Django's SQLite backend that makes its database file's folder when it first connects, so
that importing the settings creates nothing on disk (the data folder appears where it is
written to: here, and in collectstatic and `scripts/run`)."""

from pathlib import Path

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        name = str(conn_params.get("database", ""))
        if name and not self.creation.is_in_memory_db(name) and not name.startswith("file:"):
            try:
                Path(name).parent.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass  # SQLite's own error ("unable to open database file") says it better
        return super().get_new_connection(conn_params)
