"""CI runs the suite twice; this proves each run used the database it claims to."""

import os

from django.db import connection


def test_it_runs_on_the_database_that_database_url_names(db):
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected
