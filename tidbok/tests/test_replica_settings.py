"""DATABASE_REPLICA_URL, REPLICA_MAX_LAG_SECONDS and REPLICA_STICKY_SECONDS are read strictly,
and without a replica URL the settings are what they were: one database, no router, no
middleware of the replica's. Each case imports the production settings in a fresh process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SHOW = """
import json, tidbok.settings as s
print(json.dumps({
    "databases": {alias: {k: db.get(k) for k in ("ENGINE", "HOST", "PORT", "NAME", "OPTIONS", "TEST")}
                  for alias, db in s.DATABASES.items()},
    "routers": getattr(s, "DATABASE_ROUTERS", []),
    "middleware": [m for m in s.MIDDLEWARE if "replica" in m],
    "reads": s.REPLICA_READS, "lag": s.REPLICA_MAX_LAG_SECONDS, "sticky": s.REPLICA_STICKY_SECONDS,
}))
"""
PRIMARY = "postgres://tidbok@10.0.0.1:5432/tidbok"


def import_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DEBUG", "DATABASE_URL", "DATABASE_REPLICA_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY")
             and not k.startswith(("TIDBOK_", "DB_", "REPLICA_"))}
    clean.update({"SECRET_KEY": "k" * 50, "TIDBOK_DATA_DIR": str(tmp_path / "data"), **env})
    return subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize(
    "env, says",
    [
        ({"DATABASE_REPLICA_URL": "postgres://u@10.0.0.2/tidbok"}, "DATABASE_REPLICA_URL needs PostgreSQL"),
        ({"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": "sqlite:///replica.sqlite3"},
         "DATABASE_REPLICA_URL needs PostgreSQL"),
        ({"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": "postgress://u@10.0.0.2/tidbok"},
         "DATABASE_REPLICA_URL must be an address such as postgres://"),
        ({"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": "postgres://u@10.0.0.2"},
         "DATABASE_REPLICA_URL must name the database"),
        ({"REPLICA_MAX_LAG_SECONDS": "five"}, "REPLICA_MAX_LAG_SECONDS must be a whole number (it is 'five')"),
        ({"REPLICA_MAX_LAG_SECONDS": "-1"}, "REPLICA_MAX_LAG_SECONDS must be at least 0"),
        ({"REPLICA_STICKY_SECONDS": "0"}, "REPLICA_STICKY_SECONDS must be at least 1"),
        ({"REPLICA_STICKY_SECONDS": "3"}, "REPLICA_STICKY_SECONDS (3) must be at least REPLICA_MAX_LAG_SECONDS (5) + 2"),
        # A process trusts its last lag check for 2 s, in which the lag may grow past the limit.
        ({"REPLICA_STICKY_SECONDS": "6"}, "REPLICA_STICKY_SECONDS (6) must be at least REPLICA_MAX_LAG_SECONDS (5) + 2"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(tmp_path, env, says):
    result = import_settings(tmp_path, **env)

    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    assert says in last


def test_without_a_replica_nothing_changes(tmp_path):
    result = import_settings(tmp_path, DATABASE_URL=PRIMARY)

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert list(shown["databases"]) == ["default"]
    assert shown["routers"] == [] and shown["middleware"] == [] and shown["reads"] is False


def test_the_replica_is_a_second_database_with_the_primarys_options(tmp_path):
    result = import_settings(tmp_path, DATABASE_URL=PRIMARY, DB_LOCK_TIMEOUT_MS="250",
                             DATABASE_REPLICA_URL="postgres://reader@10.0.0.2:5433/tidbok?sslmode=require",
                             REPLICA_MAX_LAG_SECONDS="3", REPLICA_STICKY_SECONDS="8")

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    replica, primary = shown["databases"]["replica"], shown["databases"]["default"]
    assert (replica["ENGINE"], replica["HOST"], replica["PORT"], replica["NAME"]) == (
        primary["ENGINE"], "10.0.0.2", 5433, "tidbok")
    assert replica["OPTIONS"] == {
        **{k: v for k, v in primary["OPTIONS"].items() if k != "sslmode"},
        "sslmode": "require", "connect_timeout": 2, "options": "-c lock_timeout=250",
    }
    assert replica["TEST"] == {"MIRROR": "default"}
    assert shown["routers"] == ["tidbok.replica.ReplicaRouter"]
    assert shown["middleware"] == ["tidbok.replica.primary_after_writes"]
    assert (shown["reads"], shown["lag"], shown["sticky"]) == (True, 3, 8)


SHOW_CACHE = "import json, tidbok.settings as s; print(json.dumps(s.CACHES['default'] if hasattr(s, 'CACHES') else None))"


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/0", "redis://127.0.0.1:port/0", "redis://", "redis://[::1/0"])
def test_a_cache_url_that_is_not_a_redis_address_stops_the_start(tmp_path, url):
    result = import_settings(tmp_path, CACHE_URL=url)

    assert result.returncode != 0
    assert f"CACHE_URL must be a Redis address such as redis://127.0.0.1:6379/0 (it is {url!r})" in result.stderr


def test_a_cache_url_makes_redis_the_shared_cache(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "CACHE_URL")}
    clean.update({"SECRET_KEY": "k" * 50, "TIDBOK_DATA_DIR": str(tmp_path / "data")})
    unset = subprocess.run([sys.executable, "-c", SHOW_CACHE], cwd=ROOT, env=clean, capture_output=True, text=True,
                           timeout=60)
    shared = subprocess.run([sys.executable, "-c", SHOW_CACHE], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**clean, "CACHE_URL": "redis://cache.internal:6379/2"})

    assert json.loads(unset.stdout) is None  # Django's default: one cache per process
    assert json.loads(shared.stdout)["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert json.loads(shared.stdout)["LOCATION"] == "redis://cache.internal:6379/2"
