"""The settings read the environment strictly (tidbok/env.py): a value that is set but cannot
be read stops the start with ImproperlyConfigured naming the variable, instead of quietly
becoming a default ("flase" used to mean false). Each case imports the production settings
in a fresh process, as a server's start would. And importing them creates no folder: the data
folder appears where something is written to it (tidbok/sqlite3, collectstatic, scripts/run)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SHOW = ("import tidbok.settings as s; print(s.DEBUG, s.STAFF_REQUIRE_2FA, s.RETENTION_YEARS, s.SITE_URL, "
        "s.DB_LOCK_TIMEOUT_MS, s.DATABASES['default']['ENGINE'])")


def import_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DEBUG", "DATABASE_URL", "SITE_URL", "LOG_LEVEL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY")
             and not k.startswith(("TIDBOK_", "EMAIL_", "OIDC_", "VIDEO_", "DB_"))}
    clean.update({"SECRET_KEY": "k" * 50, "TIDBOK_DATA_DIR": str(tmp_path / "data"), **env})
    return subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("DEBUG", "flase", "DEBUG must be one of 1, true, yes, on, 0, false, no, off (it is 'flase')"),
        ("STAFF_REQUIRE_2FA", "ja", "STAFF_REQUIRE_2FA must be one of"),
        ("EMAIL_USE_TLS", "tru", "EMAIL_USE_TLS must be one of"),
        ("LOGIN_MAX_FAILURES", "five", "LOGIN_MAX_FAILURES must be a whole number (it is 'five')"),
        ("EMAIL_PORT", "25x", "EMAIL_PORT must be a whole number"),  # even without EMAIL_HOST
        ("EMAIL_PORT", "70000", "EMAIL_PORT must be at most 65535"),
        ("RETENTION_YEARS", "0", "RETENTION_YEARS must be at least 1 (it is 0)"),
        ("DB_LOCK_TIMEOUT_MS", "-1", "DB_LOCK_TIMEOUT_MS must be at least 0"),
        ("SITE_URL", "tidbok.se", "SITE_URL must be an address such as https://example.se/ (it is 'tidbok.se')"),
        ("SITE_URL", "https://tidbok.se:44x/", "SITE_URL must be an address"),
        ("DATABASE_URL", "postgress://u@127.0.0.1/tidbok", "DATABASE_URL must be a database address"),
        ("DATABASE_URL", "postgres://u@127.0.0.1", "DATABASE_URL must name the database"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (it is 'loud')"),
        ("EMAIL_HOST_PASSWORD_FILE", "/no/such/file", "EMAIL_HOST_PASSWORD_FILE names a file that cannot be read"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(tmp_path, name, value, says):
    result = import_settings(tmp_path, **{name: value})

    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    assert says in last


def test_good_values_are_read_and_an_empty_one_is_the_default(tmp_path):
    result = import_settings(tmp_path, DEBUG="Off", STAFF_REQUIRE_2FA="", RETENTION_YEARS=" 12 ",
                             SITE_URL="https://tidbok.example.se/", DB_LOCK_TIMEOUT_MS="250")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "12", "https://tidbok.example.se", "250", "tidbok.sqlite3"]


def test_importing_the_settings_creates_no_folder_and_the_database_makes_its_own(tmp_path):
    result = import_settings(tmp_path)

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "data").exists()

    # The SQLite backend makes its file's folder when it first connects.
    path = tmp_path / "data" / "deeper" / "tidbok.sqlite3"
    connected = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.db import connection; connection.ensure_connection()"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "SECRET_KEY": "k" * 50, "DJANGO_SETTINGS_MODULE": "tidbok.settings",
             "TIDBOK_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{path}"},
    )
    assert connected.returncode == 0, connected.stderr
    assert path.is_file()
