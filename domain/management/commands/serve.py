"""Run Tidbok: gunicorn (static files through whitenoise) and the task worker together,
stopping both on Ctrl-C or SIGTERM, and stopping both if either dies."""

import logging
import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

from domain.services import booking_reminders_queue, daily_jobs
from domain.services.throttle import rate_counters_sweep
from domain.tasks import requeue_stale_emails

SWEEP_EVERY_SECONDS = 60
# R41's retention and the pruning of growing tables (`domain.services.erasure.daily_jobs`):
# once a day, the first time a minute after the start.
DAILY_EVERY_SECONDS = 24 * 3600
DAILY_FIRST_AFTER_SECONDS = 60
DAILY_RETRY_SECONDS = 3600


class Schedule:
    """When the loop's jobs are due, on a monotonic clock (a test gives its own)."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.next_sweep = clock()
        self.next_daily = clock() + DAILY_FIRST_AFTER_SECONDS

    def tick(self, sweep, daily) -> None:
        """Run what is due: `sweep` every SWEEP_EVERY_SECONDS, `daily` once a day (a failure
        is logged and tried again in an hour: a busy or restarting database must not stop
        the site)."""
        log = logging.getLogger(__name__)
        if self.clock() >= self.next_sweep:
            try:
                sweep()
            except Exception:
                log.exception("the periodic sweep failed; the next one retries")
            self.next_sweep = self.clock() + SWEEP_EVERY_SECONDS
        if self.clock() >= self.next_daily:
            try:
                log.info("the daily jobs: %s", daily())
            except Exception:
                log.exception("the daily jobs failed; retrying in an hour")
                self.next_daily = self.clock() + DAILY_RETRY_SECONDS
            else:
                self.next_daily = self.clock() + DAILY_EVERY_SECONDS


def sweep() -> None:
    requeue_stale_emails()
    booking_reminders_queue()
    rate_counters_sweep()


class Command(BaseCommand):
    help = "Start the web server and the task worker together (what `make run` ends with)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 0)) or None)

    def handle(self, host, port, workers, **options):
        workers = workers or min(2 * (os.cpu_count() or 1) + 1, 9)
        web = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "tidbok.wsgi",
                "--bind", f"{host}:{port}",
                "--workers", str(workers),
                "--access-logfile", "-",
                "--graceful-timeout", "10",
            ]
        )
        worker = subprocess.Popen([sys.executable, "manage.py", "db_worker", "--interval", "1", "--no-reload"])
        children = [web, worker]
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Tidbok is running at http://{host}:{port}/  (API docs: /api/v1/docs). Ctrl-C stops it.")

        schedule = Schedule()
        try:
            while not stopping and all(child.poll() is None for child in children):
                schedule.tick(sweep, daily_jobs)
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            self.stderr.write("A part of Tidbok stopped unexpectedly; stopped the rest.")
            sys.exit(1)
