"""Run Tidbok: gunicorn (static files through whitenoise), the task worker and the scheduler of
the periodic jobs (`manage.py scheduler`, `domain.periodic`) together, stopping all three on
Ctrl-C or SIGTERM, and all of them if one dies. This process only watches its children: it
touches no database, so no outage can stop it (domain/tests/test_serve.py)."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from tidbok.env import envint

MANAGE = str(settings.BASE_DIR / "manage.py")


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
        worker = subprocess.Popen([sys.executable, MANAGE, "db_worker", "--interval", "1", "--no-reload"],
                                  cwd=settings.BASE_DIR)
        scheduler = subprocess.Popen([sys.executable, MANAGE, "scheduler"], cwd=settings.BASE_DIR)
        children = [web, worker, scheduler]
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Tidbok is running at http://{host}:{port}/  (API docs: /api/v1/docs). Ctrl-C stops it.")
        self.stdout.flush()

        try:
            while not stopping and all(child.poll() is None for child in children):
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
                    child.wait()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            self.stderr.write("A part of Tidbok stopped unexpectedly; stopped the rest.")
            sys.exit(1)
