"""tidbok.postgresql: the health check of a persistent connection without a round trip, and
the recovery from a backend that went away between two requests."""

import time

import psycopg
import pytest
from django.conf import settings
from django.core import signals
from django.db import connection, connections

from conftest import postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def new_request():
    """What Django does between two requests on a persistent connection."""
    signals.request_started.send(sender=None)


@pytest.fixture
def persistent(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.close()
    connection.ensure_connection()
    calls = []
    real = connection.is_usable

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(connection, "is_usable", counted)
    yield calls
    connection.close()


def kill(backend_pid: int) -> None:
    url = settings.DATABASES["default"]
    with psycopg.connect(host=url["HOST"], port=url["PORT"] or 5432, user=url["USER"], dbname=url["NAME"],
                         password=url["PASSWORD"] or None, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend_pid])


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_the_backend_is_ours():
    assert type(connections["default"]).__module__ == "tidbok.postgresql.base"


def test_a_healthy_connection_is_kept_without_a_select_1(persistent):
    pid = backend_pid()
    for _ in range(3):
        new_request()
        assert backend_pid() == pid
    assert persistent == []


def test_a_connection_whose_backend_was_killed_is_replaced_before_the_first_query(persistent):
    pid = backend_pid()
    kill(pid)
    time.sleep(0.2)  # the FATAL message reaches the socket

    new_request()
    assert backend_pid() != pid  # no error: the dead connection was replaced first
    assert persistent == [1]
