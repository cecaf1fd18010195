"""The periodic jobs' scheduler (`domain.periodic`, run by `manage.py scheduler` under `serve`)
survives a database outage: with the database really unreachable (PostgreSQL: the scheduler's
connection killed and the server's address a closed port; SQLite: a path that cannot be
opened) every run fails, is logged, and the loop goes on; once the database is back, the
jobs run again and do their work (a stale mail re-queued, a reminder written, the daily
jobs). The clock is the test's own, so no test waits for a minute to pass."""

import logging
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from conftest import at, free_port
from domain.models import Booking, OutboundEmail
from domain.periodic import JOBS, MINUTE, Job, Scheduler
from domain.services import booking_create_by_therapist, slot_create

MINUTELY = {"requeue_stale_emails", "reminders", "rate_counters", "listing"}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_job_is_guarded_on_its_own_and_retried_on_its_own_schedule(caplog):
    runs = []

    def broken():
        runs.append("broken")
        raise RuntimeError("boom")

    clock = Clock()
    scheduler = Scheduler([Job("broken", broken, every=60, retry_after=10), Job("fine", lambda: runs.append("fine"),
                                                                               every=60, first_after=5)], clock=clock)

    assert scheduler.tick() == {"broken": "failed"}
    assert "periodic job broken failed; trying again in 10 s" in caplog.text
    clock.now += 5
    assert scheduler.tick() == {"fine": "ok"}  # the failure stopped nothing else
    clock.now += 5
    assert scheduler.tick() == {"broken": "failed"}  # its retry, not a minute later
    clock.now += 60
    assert scheduler.tick() == {"broken": "failed", "fine": "ok"}
    assert runs == ["broken", "fine", "broken", "broken", "fine"]


def database_down(tmp_path):
    """Make the default database really unreachable; answers a function that brings it back."""
    saved = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        # The scheduler's open connection dies as in a server restart...
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        s = connection.settings_dict
        with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                             password=s["PASSWORD"] or None, dbname=s["NAME"], autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        # ...and the server stays away: nothing listens at its address.
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    else:
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("")
        connection.close()
        connection.settings_dict["NAME"] = str(blocker / "tidbok.sqlite3")

    def back():
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)

    return back


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_survives_a_database_outage_and_runs_the_jobs_once_it_is_back(anna, erik, now, tmp_path, caplog):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 10:00"))
    booking = booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)
    # A mail whose worker died while sending it, an hour ago.
    stale = OutboundEmail.objects.filter(booking=booking).first()
    OutboundEmail.objects.filter(pk=stale.pk).update(status=OutboundEmail.Status.SENDING,
                                                     claimed_at=at("2027-01-11 07:00"), attempts=1)
    now.move_to(at("2027-01-11 10:30"))  # the visit is now within a day: its reminder is due
    clock = Clock()
    # R38's ten-minute fetch of busy calendars is left out here (its timing would cross this
    # test's minutes; test_the_busy_calendars_are_fetched_every_ten_minutes covers it).
    scheduler = Scheduler([job for job in JOBS if job.name != "busy_calendars"], clock=clock)
    caplog.set_level(logging.INFO, logger="domain.periodic")

    back = database_down(tmp_path)
    try:
        assert scheduler.tick() == dict.fromkeys(MINUTELY, "failed")
        clock.now += MINUTE + 1
        assert scheduler.tick() == dict.fromkeys(MINUTELY | {"daily"}, "failed")  # and the loop goes on
        clock.now += MINUTE
        assert scheduler.tick() == dict.fromkeys(MINUTELY, "failed")
    finally:
        back()
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 3 * len(MINUTELY) + 1 and all(r.exc_info for r in failures)
    assert "periodic job daily failed; trying again in 3600 s" in caplog.text

    clock.now += MINUTE
    caplog.clear()
    assert scheduler.tick() == dict.fromkeys(MINUTELY, "ok")
    # Their work was still to do (nothing happened while the database was away), and is done.
    assert "periodic job requeue_stale_emails: 1" in caplog.text
    assert "periodic job reminders: 1" in caplog.text
    assert OutboundEmail.objects.get(pk=stale.pk).status == OutboundEmail.Status.PENDING  # queued again
    assert OutboundEmail.objects.filter(kind="booking_reminder", booking=booking).count() == 1
    assert Booking.objects.get(pk=booking.pk).reminder_queued_at is not None

    clock.now += 3600 - 2 * MINUTE - 1  # the daily jobs' retry: an hour after their failure
    assert scheduler.tick() == dict.fromkeys(MINUTELY, "ok")
    clock.now += 1
    assert scheduler.tick() == {"daily": "ok"}
    assert "periodic job daily: {'erased':" in caplog.text


def test_the_daily_jobs_first_run_a_minute_after_the_start_then_once_a_day():
    daily = next(job for job in JOBS if job.name == "daily")
    assert (daily.first_after, daily.every, daily.retry_after) == (MINUTE, timedelta(days=1).total_seconds(), 3600)
    assert {job.name for job in JOBS if job.every == MINUTE} == MINUTELY


def test_the_busy_calendars_are_fetched_every_ten_minutes():
    job = next(job for job in JOBS if job.name == "busy_calendars")
    assert (job.first_after, job.every, job.retry_after) == (0, 10 * MINUTE, None)


def test_stale_mails_are_looked_for_as_often_as_a_claim_can_go_stale_and_at_least_every_minute():
    job = next(job for job in JOBS if job.name == "requeue_stale_emails")
    assert job.every == min(MINUTE, settings.EMAIL_STALE_CLAIM_SECONDS) == MINUTE  # the default: 600 s
