"""The read replica (tidbok/replica.py; docs/architecture.md, "Read replica"): which database
serves which read, a replica that is down, lags or fails mid-request, and read-your-writes.

On PostgreSQL the test settings give the router a second alias, "replica", a second
connection to the test database (TEST MIRROR); each test here turns the replica reads on. Data
must be committed for that connection to see it, so these tests run outside a transaction. A
mirror is a primary and never lags: the lag query's answer on a real streaming replica (replay
paused) is test_replica_streaming.py; here the threshold is what makes a healthy server too slow."""

import logging
import os
import re
import signal
import threading
from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connections, transaction
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from conftest import api_for, days_ahead, free_port, postgres_only
from domain.models import Therapist, User
from domain.services import slot_create
from tidbok.replica import COOKIE, public_reads, replica_health_forget, replica_lag_seconds, replica_usable

NOW = re.compile(r"'\d{4}-\d\d-\d\d[ T][\d:.]+(\+00:00)?'")  # the clock's reading in a statement
# What the public reads read (`domain_listing`: R9's stored listing places, where they exist).
PUBLIC_TABLES = ("domain_therapist", "domain_slot", "domain_booking", "domain_clientlink", "domain_listing")
ON_REPLICA = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def replica(settings):
    """Replica reads on, its health unknown (checked at the first read), as a fresh process."""
    settings.REPLICA_READS = True
    replica_health_forget()
    yield connections["replica"]
    replica_health_forget()
    connections["replica"].close()


@pytest.fixture
def slot(anna):
    return slot_create(therapist=anna, actor=anna.user, start=days_ahead(3, "10:00"))


class Served:
    """The statements each database ran inside the block (capturing connects: a test that
    makes the replica unreachable captures the primary only)."""

    def __init__(self, *aliases: str):
        self.aliases = aliases or ("default", "replica")

    def __enter__(self):
        self.captures = {alias: CaptureQueriesContext(connections[alias]) for alias in self.aliases}
        for capture in self.captures.values():
            capture.__enter__()
        return self

    def __exit__(self, *exc):
        for capture in self.captures.values():
            capture.__exit__(*exc)

    def sql(self, alias: str) -> list[str]:
        return [q["sql"] for q in self.captures[alias].captured_queries]

    def reads(self, alias: str, table: str) -> bool:
        return any(f'FROM "{table}"' in sql for sql in self.sql(alias))


def public_urls(anna) -> list[str]:
    return [
        "/api/v1/therapists",
        f"/api/v1/therapists/{anna.pk}/slots",
        reverse("client_pages:find"),
        reverse("client_pages:match") + "?area=&mode=&language=",
        reverse("client_pages:profile", args=[anna.pk]),
    ]


@postgres_only
@ON_REPLICA
def test_public_reads_come_from_the_replica(replica, anna, slot):
    for url in public_urls(anna):
        with Served() as served:
            response = HttpClient().get(url)

        assert response.status_code == 200, url
        assert served.sql("replica"), url
        for table in PUBLIC_TABLES:
            assert not served.reads("default", table), (url, table)
    assert str(slot.pk) in HttpClient().get(f"/api/v1/therapists/{anna.pk}/slots").content.decode()


@postgres_only
@ON_REPLICA
def test_who_is_asking_is_read_from_the_primary(replica, anna, erik, slot):
    """A logged-in client's profile page: her session and her user on the primary, the
    therapist's facts on the replica."""
    browser = HttpClient()
    browser.force_login(erik.user)

    with Served() as served:
        response = browser.get(reverse("client_pages:profile", args=[anna.pk]))

    assert response.status_code == 200
    assert served.reads("default", "django_session") and served.reads("default", "domain_user")
    assert not served.reads("replica", "django_session") and not served.reads("replica", "domain_user")
    assert served.reads("replica", "domain_slot")


@postgres_only
@ON_REPLICA
def test_reads_outside_a_public_read_of_others_and_in_a_transaction_stay_on_the_primary(replica, anna, slot):
    with Served() as served:
        assert api_for(anna.user).get("/therapist/calendar").status_code == 200
        assert Therapist.objects.filter(pk=anna.pk).exists()
        with public_reads():
            assert User.objects.filter(pk=anna.user.pk).exists()  # who someone is: never stale
            assert Session.objects.count() >= 0
        with public_reads(), transaction.atomic():
            assert Therapist.objects.filter(pk=anna.pk).exists()

    assert served.sql("replica") == []


@postgres_only
@ON_REPLICA
def test_a_replica_that_is_down_is_skipped_and_said_once(replica, anna, slot, monkeypatch, caplog):
    replica.close()
    monkeypatch.setitem(replica.settings_dict, "PORT", str(free_port()))  # nothing listens there

    with caplog.at_level(logging.WARNING, logger="tidbok.replica"):
        first = HttpClient().get("/api/v1/therapists")
        second = HttpClient().get(reverse("client_pages:profile", args=[anna.pk]))

    assert first.status_code == 200 and [t["id"] for t in first.json()] == [anna.pk]
    assert second.status_code == 200 and reverse("client_pages:book", args=[slot.pk]) in second.content.decode()
    warnings = [r.getMessage() for r in caplog.records if r.name == "tidbok.replica"]
    assert len(warnings) == 1 and "cannot be reached" in warnings[0]


@postgres_only
@ON_REPLICA
def test_a_replica_lagging_beyond_the_limit_is_skipped(replica, settings, anna, slot, caplog):
    # A healthy mirror lags 0 seconds: with the limit below that, the real answer is too slow.
    assert replica_lag_seconds("replica") == 0
    settings.REPLICA_MAX_LAG_SECONDS = -1

    with Served() as served, caplog.at_level(logging.WARNING, logger="tidbok.replica"):
        response = HttpClient().get("/api/v1/therapists")

    assert response.status_code == 200 and [t["id"] for t in response.json()] == [anna.pk]
    assert not served.reads("replica", "domain_therapist") and served.reads("default", "domain_therapist")
    assert any("lags 0.0 s" in r.getMessage() for r in caplog.records)


@postgres_only
@ON_REPLICA
def test_the_lag_is_within_the_limit_on_a_server_that_replays_nothing(replica, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 0

    assert replica_lag_seconds("replica") == 0.0
    assert replica_usable("replica")


@postgres_only
@ON_REPLICA
def test_a_replica_failing_mid_request_is_read_again_from_the_primary(replica, anna, slot, monkeypatch, caplog):
    assert replica_usable("replica")  # checked and found healthy a moment ago...
    replica.close()
    monkeypatch.setitem(replica.settings_dict, "PORT", str(free_port()))  # ...then it went away

    with Served("default") as served, caplog.at_level(logging.WARNING, logger="tidbok.replica"):
        listing = HttpClient().get("/api/v1/therapists")
        profile = HttpClient().get(reverse("client_pages:profile", args=[anna.pk]))

    assert listing.status_code == 200 and [t["id"] for t in listing.json()] == [anna.pk]
    assert profile.status_code == 200 and reverse("client_pages:book", args=[slot.pk]) in profile.content.decode()
    assert served.reads("default", "domain_therapist")
    messages = [r.getMessage() for r in caplog.records]
    assert sum("read again from the primary" in m for m in messages) == 1  # then skipped, not tried again


@postgres_only
@ON_REPLICA
def test_a_client_who_booked_by_token_reads_from_the_primary_for_a_while(replica, settings, anna, erik, slot):
    erik_api = api_for(erik.user)
    assert erik_api.post(f"/slots/{slot.pk}/book", {"mode": slot.modes[0]}).status_code == 201
    assert COOKIE in erik_api.http.cookies  # the cookie too, for a client that keeps it
    erik_api.http.cookies.pop(COOKIE)  # a program that keeps none: the mark under her id

    with Served() as served:
        assert erik_api.get(f"/therapists/{anna.pk}/slots").status_code == 200
    assert served.sql("replica") == [] and served.reads("default", "domain_slot")

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.REPLICA_STICKY_SECONDS + 1)):
        with Served() as served:
            assert erik_api.get(f"/therapists/{anna.pk}/slots").status_code == 200
    assert served.reads("replica", "domain_slot")


@postgres_only
@ON_REPLICA
def test_a_client_who_booked_in_the_browser_reads_from_the_primary_for_a_while(replica, settings, anna, erik, slot):
    browser = HttpClient()
    browser.force_login(erik.user)
    booked = browser.post(reverse("client_pages:book", args=[slot.pk]), {"mode": slot.modes[0]})
    assert booked.status_code == 302
    cookie = booked.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and int(cookie["max-age"]) == settings.REPLICA_STICKY_SECONDS

    profile = reverse("client_pages:profile", args=[anna.pk])
    with Served() as served:
        assert browser.get(profile).status_code == 200
    assert served.sql("replica") == []

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.REPLICA_STICKY_SECONDS + 1)):
        with Served() as served:
            assert browser.get(profile).status_code == 200
    assert served.reads("replica", "domain_slot")


@postgres_only
@ON_REPLICA
def test_a_forged_mark_is_not_one(replica, anna, slot):
    browser = HttpClient()
    browser.cookies[COOKIE] = "1"

    with Served() as served:
        assert browser.get("/api/v1/therapists").status_code == 200
    assert served.reads("replica", "domain_therapist")


@postgres_only
@ON_REPLICA
def test_a_refused_write_marks_no_one(replica, anna, erik):
    browser = HttpClient()
    browser.force_login(erik.user)

    refused = browser.post(reverse("client_pages:book", args=[999999]), {"mode": "video"})

    assert refused.status_code == 404 and COOKIE not in refused.cookies


@pytest.mark.django_db
def test_without_a_replica_the_public_reads_cost_nothing_more(anna, slot):
    """REPLICA_READS off (no DATABASE_REPLICA_URL): the same statements as with no router at
    all, none on a second database, and no cookie after a write."""
    def statements(url):
        with CaptureQueriesContext(connections["default"]) as captured:
            assert HttpClient().get(url).status_code == 200
        return [NOW.sub("NOW", q["sql"]) for q in captured.captured_queries]

    for url in public_urls(anna):
        routed = statements(url)
        with override_settings(DATABASE_ROUTERS=[]):
            unrouted = statements(url)
        assert unrouted == routed, url
    if "replica" in connections:
        assert connections["replica"].connection is None
    browser = HttpClient()
    browser.force_login(anna.user)
    assert COOKIE not in browser.post(reverse("logout")).cookies


@postgres_only
@ON_REPLICA
def test_a_replica_that_hangs_once_connected_is_cut_off_and_read_from_the_primary(replica, anna, slot, monkeypatch):
    # A replica that takes the connection, then answers nothing (a stalled disk, a stopped
    # process): its backend stopped with SIGSTOP. libpq's connect_timeout does not cover it.
    monkeypatch.setattr("tidbok.replica.QUERY_SECONDS", 1)
    assert replica_usable("replica")  # connected and found healthy a moment ago
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    released = threading.Event()

    def release():  # a bound for the test: the hung backend goes on after 30 s whatever happens
        released.set()
        os.kill(backend, signal.SIGCONT)

    os.kill(backend, signal.SIGSTOP)
    timer = threading.Timer(30, release)
    timer.start()
    try:
        response = HttpClient().get("/api/v1/therapists")
        hung = released.is_set()
    finally:
        timer.cancel()
        os.kill(backend, signal.SIGCONT)
    assert not hung, "a public read waited on the hung replica"
    assert response.status_code == 200 and [t["id"] for t in response.json()] == [anna.pk]
