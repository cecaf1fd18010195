"""Run Tidbok: gunicorn (static files through whitenoise), the task worker and the scheduler of
the periodic jobs (`manage.py scheduler`, `domain.periodic`) together, stopping all three on
Ctrl-C or SIGTERM.

This process only watches its children and touches no database, so no outage can stop it.
The web server is the site: if it dies, the rest is stopped and `serve` exits 1 (for a
supervisor to restart). The worker and the scheduler are restarted when they stop (the
worker of django-tasks-db exits when its database goes away), after a delay that grows while
they keep stopping, so a database outage leaves the site answering and the mail flowing again
once the database is back (domain/tests/test_serve.py)."""

import logging
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from domain.management.stopping import Stopping
from tidbok.env import envint

MANAGE = str(settings.BASE_DIR / "manage.py")
# Seconds before a helper that stopped is started again: doubling from the first while it
# keeps stopping, back to the first once it has run for RESTART_RESET_SECONDS.
RESTART_FIRST_DELAY = 1
RESTART_MAX_DELAY = 30
RESTART_RESET_SECONDS = 60
POLL_SECONDS = 0.5

log = logging.getLogger(__name__)


class Helper:
    """The worker or the scheduler: a child that is started again when it stops."""

    def __init__(self, name: str, args: list[str]):
        self.name, self.args = name, args
        self.delay = RESTART_FIRST_DELAY
        self.restart_at: float | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, cwd=settings.BASE_DIR)
        self.started = time.monotonic()
        self.restart_at = None

    def watch(self) -> None:
        now = time.monotonic()
        if self.restart_at is None and self.proc.poll() is not None:
            if now - self.started >= RESTART_RESET_SECONDS:
                self.delay = RESTART_FIRST_DELAY
            log.warning("the %s stopped (exit code %s); starting it again in %s s", self.name, self.proc.returncode,
                        self.delay)
            self.restart_at = now + self.delay
            self.delay = min(self.delay * 2, RESTART_MAX_DELAY)
        elif self.restart_at is not None and now >= self.restart_at:
            self.start()


class Command(BaseCommand):
    help = "Start the web server, the task worker and the scheduler together (what `make run` ends with)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=envint("PORT", "8000", minimum=1, maximum=65535))
        parser.add_argument("--workers", type=int, default=envint("WEB_CONCURRENCY", "0", minimum=0) or None)

    def handle(self, host, port, workers, **options):
        workers = workers or min(2 * (os.cpu_count() or 1) + 1, 9)
        web = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "tidbok.wsgi",
                "--bind", f"{host}:{port}",
                "--workers", str(workers),
                "--access-logfile", "-",
                "--graceful-timeout", "10",
            ],
            cwd=settings.BASE_DIR,
        )
        helpers = [
            Helper("task worker", [sys.executable, MANAGE, "db_worker", "--interval", "1", "--no-reload"]),
            Helper("scheduler", [sys.executable, MANAGE, "scheduler"]),
        ]
        stopping = Stopping()
        self.stdout.write(f"Tidbok is running at http://{host}:{port}/  (API docs: /api/v1/docs). Ctrl-C stops it.")
        self.stdout.flush()

        try:
            while not stopping and web.poll() is None:
                for helper in helpers:
                    helper.watch()
                time.sleep(POLL_SECONDS)
        finally:
            children = [web, *(helper.proc for helper in helpers)]
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        if not stopping:
            self.stderr.write("The web server stopped unexpectedly; stopped the rest.")
            sys.exit(1)
