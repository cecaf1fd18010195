"""Which database errors are an outage (503, `tidbok.middleware.database_unavailable_code`) and
which are a bug (a 500 with its traceback): a missing table must never pass for an outage."""

import pytest
from django.db import DatabaseError, OperationalError, connection, transaction
from django.test import Client

from conftest import postgres_only
from tidbok.middleware import database_unavailable_code

pytestmark = pytest.mark.django_db


def raised(sql: str) -> DatabaseError:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    return caught.value


def test_a_query_on_a_missing_table_is_a_bug_not_an_outage():
    error = raised("SELECT * FROM no_such_table_here")
    assert database_unavailable_code(error) is None


def test_a_page_whose_query_is_broken_answers_500_not_503(monkeypatch):
    from domain import selectors

    def broken(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_here")

    monkeypatch.setattr(selectors, "therapist_listing", broken)
    monkeypatch.setattr(selectors, "therapist_listing", broken)
    client = Client(raise_request_exception=False)
    assert client.get("/api/v1/therapists").status_code == 500
    assert client.get("/hitta-terapeut/").status_code == 500


@postgres_only
@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_or_serialisation_failure_is_busy_not_a_bug(sqlstate):
    """PostgreSQL rolled the transaction back whole (deadlock_detected, serialization_failure):
    503 `database_busy` with Retry-After, as a lock timeout is. The error is PostgreSQL's own,
    raised with that state, as psycopg and Django wrap it."""
    error = raised(f"DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '{sqlstate}'; END $$")
    assert isinstance(error, OperationalError)
    assert database_unavailable_code(error) == "database_busy"


def test_a_lost_connection_is_an_outage():
    assert database_unavailable_code(OperationalError("server closed the connection unexpectedly")) == "database_unavailable"
