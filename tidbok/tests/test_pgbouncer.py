"""Tidbok behind a real PgBouncer in transaction mode (DATABASE_POOLER=pgbouncer; deploy/,
docs/deploy.md): the settings send no startup `options` (PgBouncer 1.18 refuses them) and
prepare nothing, and `lock_timeout` comes from deploy/pgbouncer.ini's connect_query instead,
so a request waiting for a held row still answers 503 `database_busy` once DB_LOCK_TIMEOUT_MS
has passed, as without the pooler (tidbok/tests/test_lock_timeout.py)."""

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from bench.run import Server
from conftest import days_ahead, postgres_only
from deploy.cluster import pgbouncer_in_front, tool
from domain.models import Booking
from domain.services import slot_create, token_create
from domain.tests.test_faults import test_db_url
from tidbok.tests.test_lock_timeout import row_locked
from tidbok.tests.test_settings_env import import_settings

ROOT = Path(__file__).resolve().parent.parent.parent
TIMEOUT = settings.DB_LOCK_TIMEOUT_MS / 1000
needs_pgbouncer = pytest.mark.skipif(not tool("pgbouncer"), reason="PgBouncer is not installed: apt-get install pgbouncer")


def test_behind_pgbouncer_nothing_is_prepared_and_no_startup_options_are_sent(tmp_path):
    shown = "import tidbok.settings as s; d = s.DATABASES['default']; print(d['OPTIONS'], d['DISABLE_SERVER_SIDE_CURSORS'])"
    done = subprocess.run(
        [sys.executable, "-c", shown], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "SECRET_KEY": "k" * 50, "TIDBOK_DATA_DIR": str(tmp_path),
             "DATABASE_URL": "postgres://u@127.0.0.1:6432/tidbok", "DATABASE_POOLER": "pgbouncer"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'server_side_binding': False, 'prepare_threshold': None} True"


def test_a_misspelt_pooler_stops_the_start(tmp_path):
    done = import_settings(tmp_path, DATABASE_URL="postgres://u@127.0.0.1/tidbok", DATABASE_POOLER="pgbouncr")
    assert done.returncode != 0
    assert "DATABASE_POOLER must be one of none, pgbouncer (it is 'pgbouncr')" in done.stderr


@pytest.fixture
def pooler():
    front = pgbouncer_in_front(test_db_url(), lock_timeout_ms=settings.DB_LOCK_TIMEOUT_MS)
    yield front
    front.stop()


def post(port: int, path: str, token: str, body: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT + 30)
    try:
        conn.request("POST", path, body=json.dumps(body),
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@postgres_only
@needs_pgbouncer
@pytest.mark.django_db(transaction=True)
def test_through_pgbouncer_every_server_connection_has_the_lock_timeout(pooler):
    # More connections than one: each server connection PgBouncer opens runs the connect_query.
    conns = [psycopg.connect(pooler.url, prepare_threshold=None) for _ in range(3)]
    try:
        for conn in conns:
            conn.execute("BEGIN")  # holds its server connection, so the next one gets another
            assert conn.execute("SELECT setting FROM pg_settings WHERE name = 'lock_timeout'").fetchone() == (
                str(settings.DB_LOCK_TIMEOUT_MS),)
        assert len({conn.execute("SELECT pg_backend_pid()").fetchone() for conn in conns}) == 3
    finally:
        for conn in conns:
            conn.close()


@postgres_only
@needs_pgbouncer
@pytest.mark.django_db(transaction=True)
def test_the_server_behind_pgbouncer_books_and_answers_503_when_a_held_slot_outlasts_the_lock_timeout(
    pooler, anna, make_client, tmp_path, monkeypatch
):
    from domain.models import Slot

    monkeypatch.setenv("DATABASE_POOLER", "pgbouncer")
    server = Server(pooler.url, workers=2, logdir=tmp_path)
    server.start()
    try:
        slots = [slot_create(therapist=anna, actor=anna.user, start=days_ahead(7, f"{9 + i:02d}:00")).pk for i in range(7)]
        tokens = [token_create(user=make_client(first=f"Pool{i}", therapist=anna).user) for i in range(7)]
        # The same statements many times over on few server connections: with prepared
        # statements on, the fifth would be prepared on one connection and run on another.
        for slot, token in zip(slots[1:], tokens[1:], strict=True):
            status, body = post(server.port, f"/api/v1/slots/{slot}/book", token, {"mode": "video"})
            assert status == 201, body

        with row_locked(Slot, slots[0]):
            started = time.monotonic()
            status, body = post(server.port, f"/api/v1/slots/{slots[0]}/book", tokens[0], {"mode": "video"})
            waited = time.monotonic() - started
        assert (status, body["code"]) == (503, "database_busy")
        assert TIMEOUT * 0.9 <= waited < TIMEOUT + 10, waited
        assert not Booking.objects.filter(slot_id=slots[0]).exists()
        assert post(server.port, f"/api/v1/slots/{slots[0]}/book", tokens[0], {"mode": "video"})[0] == 201
    finally:
        server.stop()
    assert Booking.objects.count() == 7


CONNECT = "import django; django.setup(); from django.db import connection; connection.ensure_connection()"


def connect_as_pooled(url: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CONNECT], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tidbok.settings", "SECRET_KEY": "k" * 50,
             "TIDBOK_DATA_DIR": str(tmp_path), "DATABASE_URL": url, "DATABASE_POOLER": "pgbouncer",
             "DB_LOCK_TIMEOUT_MS": str(settings.DB_LOCK_TIMEOUT_MS)},
    )


@postgres_only
@needs_pgbouncer
@pytest.mark.django_db
def test_a_pooled_connection_without_the_lock_timeout_is_said_loudly(pooler, tmp_path):
    # DATABASE_URL past the pooler (or a pooler without connect_query): no lock_timeout at all.
    skipped = connect_as_pooled(test_db_url(), tmp_path)
    through = connect_as_pooled(pooler.url, tmp_path)

    assert skipped.returncode == 0, skipped.stderr
    assert (f"the server connection's lock_timeout is 0 ms, not DB_LOCK_TIMEOUT_MS ({settings.DB_LOCK_TIMEOUT_MS} ms)"
            in skipped.stderr)
    assert through.returncode == 0, through.stderr
    assert "lock_timeout" not in through.stderr
