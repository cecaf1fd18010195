"""`manage.py serve`, as `make run` starts it: on a fresh SQLite database in a temporary
folder (migrated and with its static files collected, as `scripts/run` does), with the
production settings from environment variables. It answers a page; its task worker sends a
mail the app queued (a sign-up's verification) to a local SMTP server; its scheduler re-queues
a mail a dead worker left `sending`, which the worker then sends. Then its database goes away
(the file's path made unopenable): the site still answers (503 where it needs the database),
the scheduler goes on, the worker, which stops on a database error, is started again, and
once the database is back a new sign-up's mail arrives. SIGTERM stops it and every process it
started. Each wait is bounded; the only sleeps are the pauses of polling loops."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from conftest import free_port, start_smtp_server

ROOT = Path(__file__).resolve().parent.parent.parent
# The server runs on SQLite whatever the suite's database: once is enough.
pytestmark = pytest.mark.skipif(settings.IS_POSTGRES, reason="runs on SQLite in its own folder")

PREPARE = """
from datetime import timedelta
from django.core.management import call_command
from django.utils import timezone
from domain.models import OutboundEmail
call_command("migrate", "--noinput", verbosity=0)
call_command("collectstatic", "--noinput", verbosity=0)
OutboundEmail.objects.create(kind="test", to="stale@example.se", subject="Left sending by a dead worker",
                             body="Hej", status="sending", attempts=1,
                             claimed_at=timezone.now() - timedelta(hours=1))
"""


def wait_for(what: str, check, seconds: float, server: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise AssertionError(f"serve exited ({server.returncode}) while waiting for {what}")
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {seconds} s")


def ask(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=json.dumps(body) if body else None,
                     headers={**({"Content-Type": "application/json"} if body else {}), **(headers or {})})
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        conn.close()


def descendants(pid: int) -> dict[int, str]:
    """Every living process below `pid`, with its command line."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if state != "Z":
                parents[int(entry.name)] = int(ppid)
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                try:
                    found[child] = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    continue
                frontier.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_serve_answers_sends_mail_through_its_worker_and_scheduler_and_stops_with_all_its_children(tmp_path):
    port, smtp_port = free_port(), free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_", "DJANGO_", "TIDBOK_", "EMAIL_", "OIDC_", "VIDEO_", "DEBUG", "SITE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tidbok.settings", SECRET_KEY="serve-test-" + "k" * 40, DEBUG="false",
        TIDBOK_DATA_DIR=str(data), DATABASE_URL=f"sqlite:///{data / 'tidbok.sqlite3'}",
        SITE_URL=f"http://127.0.0.1:{port}", EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp_port), EMAIL_TIMEOUT="5",
        LOG_LEVEL="INFO",
    )
    prepared = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", PREPARE], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=180)
    assert prepared.returncode == 0, prepared.stderr
    controller, inbox = start_smtp_server(smtp_port)
    log = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port), "--workers", "2"], cwd=ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    children = {}
    try:
        wait_for("login page", lambda: ask(port, "GET", "/logga-in/") == 200, 90, server)
        children = descendants(server.pid)
        commands = " | ".join(children.values())
        assert sum("gunicorn" in c for c in children.values()) == 3, commands  # the master and its two workers
        assert sum("db_worker" in c for c in children.values()) == 1, commands
        assert sum("manage.py scheduler" in c for c in children.values()) == 1, commands

        assert ask(port, "POST", "/api/v1/auth/signup", {
            "role": "client", "email": "ny@example.se", "password": "ett långt lösenord 2027",
            "first_name": "Nora", "last_name": "Nilsson",
        }) == 202

        def delivered():
            recipients = [r for e in inbox.envelopes for r in e.rcpt_tos]
            return "ny@example.se" in recipients and "stale@example.se" in recipients and recipients

        recipients = wait_for("mails at the SMTP server", delivered, 60, server)
        assert sorted(recipients) == ["ny@example.se", "stale@example.se"]  # each once
        stale = next(m for m in inbox.messages if m["To"] == "stale@example.se")
        assert stale["Subject"] == "Left sending by a dead worker"

        # The database goes away: nothing can open its path.
        worker = next(pid for pid, c in children.items() if "db_worker" in c)
        scheduler = next(pid for pid, c in children.items() if "manage.py scheduler" in c)
        database, away = data / "tidbok.sqlite3", tmp_path / "away"
        away.mkdir()
        files = sorted(data.glob("tidbok.sqlite3*"))
        for path in files:
            path.rename(away / path.name)
        database.mkdir()
        try:
            assert ask(port, "GET", "/api/v1/therapists") == 503
            assert ask(port, "GET", "/hitta-terapeut/") == 503
            # A logged-in visitor's session is read by the middleware before any view runs.
            assert ask(port, "GET", "/hitta-terapeut/", headers={"Cookie": "sessionid=" + "x" * 32}) == 503
            assert ask(port, "GET", "/api/v1/therapist/calendar", headers={"Authorization": "Bearer " + "x" * 40}) == 503
            assert ask(port, "GET", "/api/v1/health") == 200
            wait_for("the worker started again", lambda: any(
                "db_worker" in c and pid != worker for pid, c in descendants(server.pid).items()), 60, server)
        finally:
            database.rmdir()
            for path in files:
                (away / path.name).rename(path)
        assert alive(scheduler)  # it logged its failures and went on
        assert server.poll() is None

        assert ask(port, "POST", "/api/v1/auth/signup", {
            "role": "client", "email": "efter@example.se", "password": "ett långt lösenord 2027",
            "first_name": "Efter", "last_name": "Avbrottet",
        }) == 202
        wait_for("the mail after the outage", lambda: "efter@example.se" in [
            r for e in inbox.envelopes for r in e.rcpt_tos], 60, server)

        children = descendants(server.pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        still = [f"{pid} {cmd}" for pid, cmd in children.items() if alive(pid)]
        assert not still, still
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        controller.stop()
        log.close()
