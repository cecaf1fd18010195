"""R41's retention (`manage.py erase_expired`) and the daily pruning of growing tables
(`tables_prune`), both run once a day by the scheduler (`domain/periodic.py`, under `manage.py serve`).

Time: bookings are made in January 2017 and the clock then moves to 2027 and beyond."""

from dataclasses import replace
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from api.tests.helpers import booked, slot_for
from conftest import at, run_worker
from domain import periodic, services
from domain.models import AccessRecord, AccountRequest, AuditEntry, Booking, Client, ClientLink, OutboundEmail, RateCounter, User
from domain.services.access_log import record_reads
from domain.services.erasure import retention_cutoff, tables_prune
from domain.services.throttle import Rate, rate_hit


def old_visit(therapist, client, when="2017-01-12 09:00"):
    """A booking made and held in 2017 (time travels there and back)."""
    with time_machine.travel(at(when) - timedelta(days=1), tick=False):
        return booked(slot_for(therapist, when), client)


@pytest.mark.django_db
def test_a_client_whose_last_visit_is_older_than_the_period_is_erased(anna, make_client):
    with time_machine.travel(at("2016-12-01 08:00"), tick=False):
        old = make_client(first="Gammal", last="Kund", therapist=anna)  # an account, last seen 2016
        record = make_client(first="Journal", last="Post", therapist=anna, login=False)  # Anna's own record
        recent = make_client(first="Aktuell", last="Kund", therapist=anna)
    visits = [old_visit(anna, old), old_visit(anna, record, "2017-01-12 11:00"), old_visit(anna, recent, "2017-01-12 13:00")]
    with time_machine.travel(at("2026-06-01 09:00"), tick=False):
        booked(slot_for(anna, "2026-06-02 09:00"), recent)  # she came back: her period starts again
    old_email, record_pnr = old.email, record.personnummer

    with time_machine.travel(at("2027-01-13 08:00"), tick=False):
        out = StringIO()
        call_command("erase_expired", stdout=out)
    assert "erased: 2 clients" in out.getvalue()

    assert not User.objects.filter(email=old_email).exists()
    assert not Client.objects.filter(personnummer=record_pnr).exists()
    for visit in visits[:2]:
        visit.refresh_from_db()
        assert visit.client.erased_at is not None and visit.client.first_name == "Raderad"
        assert visit.client.personnummer == "" and visit.client.email == ""
        assert not ClientLink.objects.filter(client=visit.client).exists()  # retention keeps no own record
    visits[2].refresh_from_db()
    assert visits[2].client_id == recent.pk and Client.objects.get(pk=recent.pk).erased_at is None
    # The audit trail of the period that ended: ids only.
    for entry in AuditEntry.objects.filter(at__lt=at("2017-01-13 08:00")):
        for data in (entry.before, entry.after):
            assert data is None or all(k.endswith("id") for k in data), (entry.action, data)
    assert any(e.after for e in AuditEntry.objects.filter(at__gt=at("2026-01-01 00:00")) if e.action == "booking.created")
    assert not OutboundEmail.objects.filter(to=old_email).exists()


@pytest.mark.django_db
def test_nothing_younger_than_the_period_is_erased_and_the_period_is_a_setting(anna, erik, settings):
    visit = old_visit(anna, erik, "2025-01-12 09:00")
    with time_machine.travel(at("2027-01-13 08:00"), tick=False):
        assert services.personal_data_erase_expired() == {"clients": 0, "audit_entries": 0}
        settings.RETENTION_YEARS = 1
        Client.objects.filter(pk=erik.pk).update(created_at=at("2024-01-01 00:00"))
        User.objects.filter(pk=erik.user_id).update(date_joined=at("2024-01-01 00:00"))
        assert services.personal_data_erase_expired()["clients"] == 1
    visit.refresh_from_db()
    assert visit.client.erased_at is not None


def test_the_cutoff_counts_whole_years_and_a_leap_day_falls_back(settings):
    settings.RETENTION_YEARS = 10
    assert retention_cutoff(at("2027-01-13 08:00")) == at("2017-01-13 08:00")
    assert retention_cutoff(at("2028-02-29 08:00")) == at("2018-02-28 08:00")


@pytest.mark.django_db(transaction=True)
def test_the_daily_pruning_deletes_what_is_only_kept_for_a_while(now, anna, erik, settings):
    booked(slot_for(anna, "2027-01-12 09:00"), erik)  # a mail to erik, and its task
    run_worker()  # sent: the outbox row and the task result are done
    pending = OutboundEmail.objects.create(kind="x", to="p@example.se", subject="s", body="b")
    AccountRequest.objects.create(kind="reset", email="left@example.se")
    old_session = SessionStore()
    old_session["x"] = 1
    old_session.set_expiry(60)
    old_session.save()
    rate_hit(Rate("test", 5, timedelta(minutes=1)), "a")
    assert tables_prune() == {"outbox": 0, "task_results": 0, "account_requests": 0, "sessions": 0,
                              "rate_counters": 0, "access_records": 0}

    now.move_to(timezone.now() + timedelta(days=31))
    done = tables_prune()
    assert done["outbox"] == 1 and done["task_results"] >= 1
    assert done == {**done, "account_requests": 1, "sessions": 1, "rate_counters": 1}
    assert list(OutboundEmail.objects.all()) == [pending]  # a mail not sent yet stays
    assert not DBTaskResult.objects.filter(status="SUCCESSFUL").exists()
    assert not Session.objects.exists() and not RateCounter.objects.exists() and not AccountRequest.objects.exists()


@pytest.mark.django_db
def test_the_periods_are_settings(now, settings):
    settings.OUTBOX_KEEP_DAYS = 2
    mail = OutboundEmail.objects.create(kind="x", to="p@example.se", subject="s", body="b", status="sent")
    now.move_to(timezone.now() + timedelta(days=1))
    assert tables_prune()["outbox"] == 0
    now.move_to(timezone.now() + timedelta(days=2))
    assert tables_prune()["outbox"] == 1
    assert not OutboundEmail.objects.filter(pk=mail.pk).exists()


def scheduler_of(clock, sweep, daily) -> periodic.Scheduler:
    """The real jobs' timings (`periodic.JOBS`), with the test's functions: `sweep` for the
    minutely jobs (called once per minute, by the first of them), `daily` for the daily one."""
    minutely = [job.name for job in periodic.JOBS if job.name != "daily"]
    run = {minutely[0]: sweep, "daily": daily}
    return periodic.Scheduler([replace(job, run=run.get(job.name, lambda: None)) for job in periodic.JOBS],
                              clock=lambda: clock[0])


def test_the_scheduler_runs_the_daily_jobs_once_a_day_and_the_sweep_every_minute(monkeypatch):
    """The scheduler's loop, ticking every half second for three days on a clock of the test's."""
    clock = [0.0]
    runs = {"sweep": [], "daily": []}
    schedule = scheduler_of(clock, lambda: runs["sweep"].append(clock[0]), lambda: runs["daily"].append(clock[0]))
    while clock[0] < 3 * 24 * 3600:
        schedule.tick()
        clock[0] += 0.5
    assert runs["daily"] == [60.0, 60.0 + 86400, 60.0 + 2 * 86400]
    assert len(runs["sweep"]) == 3 * 24 * 60 and runs["sweep"][:2] == [0.0, 60.0]
    # What the scheduler's daily job runs: services.daily_jobs.
    monkeypatch.setattr(services, "daily_jobs", lambda: "the daily jobs")
    assert periodic.daily() == "the daily jobs"


def test_a_failing_daily_job_is_tried_again_in_an_hour_and_the_sweep_goes_on():
    clock = [0.0]
    tries, sweeps = [], []

    def daily():
        tries.append(clock[0])
        if len(tries) == 1:
            raise RuntimeError("the database is restarting")

    schedule = scheduler_of(clock, lambda: sweeps.append(clock[0]), daily)
    while clock[0] < 2 * 3600:
        schedule.tick()
        clock[0] += 0.5
    assert tries == [60.0, 60.0 + 3600]
    assert len(sweeps) == 120


@pytest.mark.django_db
def test_the_daily_jobs_answer_what_they_did(now):
    done = services.daily_jobs()
    assert set(done) == {"erased", "pruned"}
    assert Booking.objects.count() == 0


@pytest.mark.django_db
def test_an_expired_record_does_not_take_a_living_persons_mail_with_it(anna, make_client):
    """A therapist's record of long ago may carry an address a living account uses now: the
    record goes, her mail stays."""
    with time_machine.travel(at("2016-12-01 08:00"), tick=False):
        record = make_client(first="Journal", last="Post", email="delad@example.se", therapist=anna, login=False)
    old_visit(anna, record)
    living = make_client(first="Levande", last="Person", email="delad@example.se".replace("delad", "ny"))
    User.objects.filter(pk=living.user_id).update(email="delad@example.se")
    waiting = OutboundEmail.objects.create(kind="x", to="delad@example.se", subject="s", body="b")
    with time_machine.travel(at("2027-01-13 08:00"), tick=False):
        assert services.personal_data_erase_expired()["clients"] == 1
    assert not Client.objects.filter(pk=record.pk).exists()
    assert OutboundEmail.objects.filter(pk=waiting.pk).exists()


@pytest.mark.django_db
def test_access_records_are_kept_as_long_as_the_data_they_account_for(anna, erik, settings):
    """R39's log is pruned by the daily job once older than RETENTION_YEARS, not before."""
    with time_machine.travel(at("2017-01-12 09:00"), tick=False):
        record_reads(actor=anna.user, clients=[erik], what="client_page", surface="page")
    with time_machine.travel(at("2026-06-01 09:00"), tick=False):
        record_reads(actor=anna.user, clients=[erik], what="calendar", surface="page")
    with time_machine.travel(at("2027-01-11 09:00"), tick=False):
        assert tables_prune()["access_records"] == 0
    with time_machine.travel(at("2027-01-13 09:00"), tick=False):
        assert tables_prune()["access_records"] == 1
    assert list(AccessRecord.objects.values_list("what", flat=True)) == ["calendar"]
    settings.RETENTION_YEARS = 1
    with time_machine.travel(at("2027-06-02 09:00"), tick=False):
        assert tables_prune()["access_records"] == 1
    assert not AccessRecord.objects.exists()
