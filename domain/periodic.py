"""Periodic work, in one scheduler: `manage.py scheduler`, which `manage.py serve` runs beside
the web server and the task worker.

Every minute: mails left `sending` by a worker that died go back to the queue
(`tasks.requeue_stale_emails`; more often when EMAIL_STALE_CLAIM_SECONDS is shorter), the
reminders of tomorrow's visits are written (`booking_reminders_queue`), spent rate counters
go, the listing's rows that time has moved are computed again (R9,
`listing.listing_refresh_due`). Every 10 minutes: the therapists' external busy calendars are
fetched (R38, `busy.busy_fetch_due`). Once a day, the first time a minute after the start:
R41's retention and the pruning of growing tables (`erasure.daily_jobs`).

Each job is guarded on its own: a job that fails (the database restarting, out of reach, a
lock held too long) is logged and tried again later (`Job.retry_after`), and the others still
run. After every run the database connections are closed, as at the end of a request, so a
connection that an outage broke is never used again: once the database is back, the next run
connects anew and succeeds (domain/tests/test_periodic.py, with the database really down)."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)

MINUTE = 60
DAY = 24 * 3600


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], object]
    every: float
    first_after: float = 0
    retry_after: float | None = None  # after a failure; None: `every`


def requeue_stale_emails() -> int:
    from .tasks import requeue_stale_emails

    return requeue_stale_emails()


def reminders() -> int:
    from .services import booking_reminders_queue

    return booking_reminders_queue()


def rate_counters() -> int:
    from .services.throttle import rate_counters_sweep

    return rate_counters_sweep()


def listing() -> int:
    from .services.listing import listing_refresh_due

    return listing_refresh_due()


def busy_calendars() -> dict:
    from .services.busy import busy_fetch_due

    return busy_fetch_due()


def daily() -> dict:
    from .services import daily_jobs

    return daily_jobs()


JOBS = (
    # Every minute, or more often when a claim goes stale sooner (EMAIL_STALE_CLAIM_SECONDS):
    # so a mail whose worker died is sent again within about twice that.
    Job("requeue_stale_emails", requeue_stale_emails, every=min(MINUTE, settings.EMAIL_STALE_CLAIM_SECONDS)),
    Job("reminders", reminders, every=MINUTE),
    Job("rate_counters", rate_counters, every=MINUTE),
    Job("listing", listing, every=MINUTE),
    Job("busy_calendars", busy_calendars, every=10 * MINUTE),
    Job("daily", daily, every=DAY, first_after=MINUTE, retry_after=3600),
)


def _close_connections() -> None:
    try:
        connections.close_all()
    except Exception:  # closing a broken connection must not stop the loop either
        log.exception("could not close the database connections")


class Scheduler:
    """When each job is due, on a monotonic clock (a test gives its own)."""

    def __init__(self, jobs=JOBS, clock: Callable[[], float] = time.monotonic):
        self.jobs, self.clock = tuple(jobs), clock
        start = clock()
        self.due = {job.name: start + job.first_after for job in self.jobs}

    def tick(self) -> dict[str, str]:
        """Run every job that is due; never raises. Answers what each run did ("ok" or
        "failed"), for the tests and the log."""
        done = {}
        for job in self.jobs:
            if self.clock() < self.due[job.name]:
                continue
            try:
                result = job.run()
            except Exception:
                wait = job.every if job.retry_after is None else job.retry_after
                log.exception("periodic job %s failed; trying again in %d s", job.name, wait)
                done[job.name] = "failed"
            else:
                wait = job.every
                log.log(logging.INFO if result else logging.DEBUG, "periodic job %s: %s", job.name, result)
                done[job.name] = "ok"
            finally:
                _close_connections()
            self.due[job.name] = self.clock() + wait
        return done
