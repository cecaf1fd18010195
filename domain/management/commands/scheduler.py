"""Run the periodic jobs (`domain.periodic`) until SIGTERM or Ctrl-C; `manage.py serve` starts
it beside the web server and the task worker."""

import time

from django.core.management.base import BaseCommand

from domain.management.stopping import Stopping
from domain.periodic import Scheduler

# How often the loop looks at the clock and at a stop signal.
POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = "Run the periodic jobs (re-queue of stale mails, reminders, the daily retention) until stopped."

    def handle(self, **options):
        stopping = Stopping()
        scheduler = Scheduler()
        self.stdout.write("The scheduler is running.")
        self.stdout.flush()
        while not stopping:
            scheduler.tick()
            time.sleep(POLL_SECONDS)
