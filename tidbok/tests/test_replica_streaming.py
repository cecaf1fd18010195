"""The replica's lag, measured on a real streaming replica (tidbok/replica.py `LAG_SQL`): a
throw-away primary and a `pg_basebackup -R` standby of it, each on a free port (never the
shared server). Replay is paused with `pg_wal_replay_pause()` to make real lag. The last test
runs the production server against the two: what a writer and a stranger read."""

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connections

from bench.run import Server
from conftest import free_port, postgres_only
from domain.tests.test_faults import ROOT, as_postgres, pg_bin, post, wait_for
from tidbok.replica import replica_health_forget, replica_lag_seconds, replica_usable

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, databases=["default", "replica"])]


def start(pg_ctl: str, data: Path, base: Path, port: int) -> None:
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    as_postgres(pg_ctl, "-D", str(data), "-o", options, "-l", str(data.parent / f"{data.name}.log"), "-w", "start")


@pytest.fixture
def streaming_pair():
    """(primary port, standby port) of a primary and its streaming standby; both stopped after."""
    initdb, pg_ctl, basebackup = pg_bin("initdb"), pg_bin("pg_ctl"), pg_bin("pg_basebackup")
    if not (initdb and pg_ctl and basebackup):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are not installed")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: PostgreSQL refuses to run as root")
    base = Path(tempfile.mkdtemp(prefix="tidbok-replica-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    primary, standby = base / "primary", base / "standby"
    primary_port, standby_port = free_port(), free_port()
    started = []
    try:
        # --auth=trust also trusts replication connections from this machine (pg_hba.conf).
        as_postgres(initdb, "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        start(pg_ctl, primary, base, primary_port)
        started.append(primary)
        as_postgres(basebackup, "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres", "-D", str(standby),
                    "-R", "-X", "stream", "-c", "fast")
        start(pg_ctl, standby, base, standby_port)
        started.append(standby)
        yield primary_port, standby_port
    finally:
        for data in reversed(started):
            as_postgres(pg_ctl, "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


def sql(port: int, statement: str):
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True,
                         connect_timeout=5) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchone() if cursor.description else None


def replayed_all(primary: int, standby: int) -> bool:
    written = sql(primary, "SELECT pg_current_wal_lsn()")[0]
    return sql(standby, f"SELECT pg_last_wal_replay_lsn() >= '{written}'::pg_lsn")[0]


@pytest.fixture
def replica_at(monkeypatch, settings):
    """Point the "replica" alias at a port of this machine (its database `postgres`)."""
    settings.REPLICA_READS = True
    alias = connections["replica"]

    def point(port: int):
        alias.close()
        monkeypatch.setitem(alias.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(alias.settings_dict, "PORT", str(port))
        monkeypatch.setitem(alias.settings_dict, "NAME", "postgres")
        monkeypatch.setitem(alias.settings_dict, "USER", "postgres")
        replica_health_forget()
        return alias

    yield point
    alias.close()
    replica_health_forget()


def test_a_standby_lags_while_its_replay_is_paused_and_not_when_it_is_idle(streaming_pair, replica_at, settings):
    primary, standby = streaming_pair
    replica_at(standby)
    assert sql(standby, "SELECT pg_is_in_recovery()")[0]

    # Idle: the last replayed transaction grows old, but the standby has all there is.
    sql(primary, "CREATE TABLE seen (n int); INSERT INTO seen VALUES (1)")
    wait_for(lambda: replayed_all(primary, standby), 30)
    time.sleep(1.2)
    assert sql(standby, "SELECT now() - pg_last_xact_replay_timestamp() > interval '1 second'")[0]
    assert replica_lag_seconds("replica") == 0
    settings.REPLICA_MAX_LAG_SECONDS = 0
    assert replica_usable("replica")

    # Paused: the standby receives the primary's writes but does not apply them.
    sql(standby, "SELECT pg_wal_replay_pause()")
    sql(primary, "INSERT INTO seen VALUES (2)")
    wait_for(lambda: sql(standby, "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()")[0], 30)
    time.sleep(1.2)
    assert sql(standby, "SELECT count(*) FROM seen")[0] == 1  # stale: what a reader there would see
    assert replica_lag_seconds("replica") >= 1
    replica_health_forget()
    assert not replica_usable("replica")
    settings.REPLICA_MAX_LAG_SECONDS = 60
    replica_health_forget()
    assert replica_usable("replica")  # within a generous limit, stale reads are accepted

    # Resumed: caught up, no lag.
    sql(standby, "SELECT pg_wal_replay_resume()")
    wait_for(lambda: replayed_all(primary, standby), 30)
    assert replica_lag_seconds("replica") == 0
    assert sql(standby, "SELECT count(*) FROM seen")[0] == 2


def test_a_promoted_standby_lags_nothing(streaming_pair, replica_at):
    """After a failover the old standby is a primary: not in recovery, lag 0."""
    _, standby = streaming_pair
    replica_at(standby)
    sql(standby, "SELECT pg_promote()")

    assert not sql(standby, "SELECT pg_is_in_recovery()")[0]
    assert replica_lag_seconds("replica") == 0


# The whole path: the production server, its primary and a real streaming standby ----------

SEED = """
import json
from conftest import days_ahead, pnr
from domain.models import Client, ClientLink, Therapist, User
from domain.services import slot_create, token_create
make = lambda email, first: User.objects.create_user(email=email, password="correct horse battery",
                                                    first_name=first, last_name="Test", email_verified=True)
anna = Therapist.objects.create(user=make("anna@example.se", "Anna"), client_booster=True)
erik_user = make("erik@example.se", "Erik")
erik = Client.objects.create(user=erik_user, personnummer=pnr("19850312"), first_name="Erik", last_name="Test",
                             email="erik@example.se")
ClientLink.objects.create(therapist=anna, client=erik, source="own")
slot = slot_create(therapist=anna, actor=anna.user, start=days_ahead(5, "10:00"))
print(json.dumps({"therapist": anna.pk, "slot": slot.pk, "mode": slot.modes[0], "token": token_create(user=erik_user)}))
"""


class ReplicaServer(Server):
    """The production server (tidbok.settings) with a replica and the given limits."""

    def __init__(self, db_url: str, replica_url: str, logdir: Path, max_lag: int):
        super().__init__(db_url, workers=1, logdir=logdir)
        self.replica_url, self.max_lag = replica_url, max_lag

    def env(self) -> dict:
        return {**super().env(), "DJANGO_SETTINGS_MODULE": "tidbok.settings", "DATABASE_REPLICA_URL": self.replica_url,
                "REPLICA_MAX_LAG_SECONDS": str(self.max_lag), "REPLICA_STICKY_SECONDS": "7200"}


def manage(db_url: str, *args: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tidbok.settings", "DATABASE_URL": db_url,
           "SECRET_KEY": "k" * 50, "LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_REPLICA_URL", None)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True, timeout=300).stdout


def open_slots(port: int, therapist: int, token: str | None = None) -> list[int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", f"/api/v1/therapists/{therapist}/slots",
                     headers={"Authorization": f"Bearer {token}"} if token else {})
        response = conn.getresponse()
        assert response.status == 200
        return [s["id"] for s in json.loads(response.read())]
    finally:
        conn.close()


def test_through_the_server_others_read_the_replica_and_the_writer_her_own_write(streaming_pair, tmp_path):
    primary, standby = streaming_pair
    sql(primary, "CREATE DATABASE tidbok")
    primary_url = f"postgres://postgres@127.0.0.1:{primary}/tidbok"
    standby_url = f"postgres://postgres@127.0.0.1:{standby}/tidbok"
    manage(primary_url, "migrate", "--no-input")
    seed = json.loads(manage(primary_url, "shell", "-c", SEED).strip().splitlines()[-1])
    wait_for(lambda: replayed_all(primary, standby), 30)
    stale_ok = ReplicaServer(primary_url, standby_url, tmp_path, max_lag=3600)
    strict = ReplicaServer(primary_url, standby_url, tmp_path, max_lag=0)
    try:
        stale_ok.start()
        strict.start()
        assert open_slots(stale_ok.port, seed["therapist"]) == [seed["slot"]]

        sql(standby, "SELECT pg_wal_replay_pause()")
        status, _ = post(stale_ok.port, f"/api/v1/slots/{seed['slot']}/book", seed["token"], {"mode": seed["mode"]})
        assert status == 201
        wait_for(lambda: sql(standby, "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()")[0], 30)

        # Erik booked: he reads from the primary, his time is gone. A stranger reads the
        # standby, still behind: the time is open there (stale within the generous limit).
        assert open_slots(stale_ok.port, seed["therapist"], seed["token"]) == []
        assert open_slots(stale_ok.port, seed["therapist"]) == [seed["slot"]]
        # With no lag allowed the lagging standby is skipped: the stranger reads the primary.
        assert open_slots(strict.port, seed["therapist"]) == []

        sql(standby, "SELECT pg_wal_replay_resume()")
        wait_for(lambda: replayed_all(primary, standby), 30)
        wait_for(lambda: open_slots(stale_ok.port, seed["therapist"]) == [], 30)  # caught up
    finally:
        stale_ok.stop()
        strict.stop()


def test_a_standby_cut_off_from_its_primary_lags_although_it_replayed_all_it_received(streaming_pair, replica_at):
    primary, standby = streaming_pair
    replica_at(standby)
    sql(primary, "CREATE TABLE seen (n int); INSERT INTO seen VALUES (1)")
    wait_for(lambda: replayed_all(primary, standby), 30)

    # The standby loses its primary (a password changed, a firewall, a failover elsewhere): its
    # WAL receiver stops, and what it received it has replayed, so the positions are equal.
    sql(standby, f"ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port={free_port()} user=postgres'")
    sql(standby, "SELECT pg_reload_conf()")
    wait_for(lambda: sql(standby, "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'")[0] == 0, 30)
    sql(primary, "INSERT INTO seen VALUES (2)")
    time.sleep(1.2)

    assert sql(standby, "SELECT count(*) FROM seen")[0] == 1  # stale, and for as long as the cut lasts
    assert sql(standby, "SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()")[0]
    assert replica_lag_seconds("replica") >= 1
