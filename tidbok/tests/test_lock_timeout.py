"""A row lock held too long elsewhere (another transaction stuck with the slot's or the
therapist's row) makes a request that needs it answer 503 with Retry-After once
DB_LOCK_TIMEOUT_MS has passed, instead of holding a worker for ever: JSON `database_busy` in
the API and to the calendar's dialogs, a page in the browser. Nothing is written; once the
lock is gone the same request succeeds. PostgreSQL only: `lock_timeout` is its setting."""

import time
from contextlib import contextmanager

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient

from conftest import api_for, at, postgres_only
from domain.models import Booking, Slot, Therapist
from domain.services import slot_create

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]
TIMEOUT = settings.DB_LOCK_TIMEOUT_MS / 1000


@contextmanager
def row_locked(model, pk: int):
    """Another connection holds the row's lock (FOR UPDATE) until the block ends."""
    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                         password=s["PASSWORD"] or None, dbname=s["NAME"]) as other:
        other.execute(f'SELECT 1 FROM "{model._meta.db_table}" WHERE id = %s FOR UPDATE', [pk]).fetchone()
        try:
            yield
        finally:
            other.rollback()


@contextmanager
def answered_within_the_lock_timeout():
    started = time.monotonic()
    yield
    waited = time.monotonic() - started
    assert TIMEOUT * 0.9 <= waited < TIMEOUT + 5, waited


def test_every_connection_has_the_configured_lock_timeout():
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting, unit FROM pg_settings WHERE name = 'lock_timeout'")
        assert cursor.fetchone() == (str(settings.DB_LOCK_TIMEOUT_MS), "ms")
    assert settings.DB_LOCK_TIMEOUT_MS > 0


def test_a_booking_page_waiting_for_a_held_slot_answers_a_503_page_then_books_once_it_is_free(anna, erik, now):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-13 10:00"))
    web = HttpClient()
    web.force_login(erik.user)
    web.cookies["tidbok_language"] = "en"

    with row_locked(Slot, slot.pk), answered_within_the_lock_timeout():
        response = web.post(f"/boka/{slot.pk}/", {"mode": "video"})

    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert response["Content-Type"].startswith("text/html")
    assert "Someone else is changing the same calendar right now, so nothing was saved." in response.content.decode()
    assert not Booking.objects.exists()
    assert web.post(f"/boka/{slot.pk}/", {"mode": "video"}).status_code == 302
    assert Booking.objects.get().slot_id == slot.pk


def test_the_api_answers_503_database_busy(anna, erik, now):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-13 10:00"))
    api = api_for(erik.user)

    with row_locked(Slot, slot.pk), answered_within_the_lock_timeout():
        response = api.post(f"/slots/{slot.pk}/book", {"mode": "video"})

    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert response.json()["code"] == "database_busy" and response.json()["detail"]
    assert not Booking.objects.exists()
    assert api.post(f"/slots/{slot.pk}/book", {"mode": "video"}).status_code == 201


def test_the_calendars_dialog_gets_json_503_when_the_therapists_row_is_held(anna, now):
    web = HttpClient()
    web.force_login(anna.user)
    new_slot = {"date": "2027-01-12", "time": "09:00", "duration_minutes": "60", "kinds": ["onsite"],
                "audience": "existing", "weeks": "0"}

    with row_locked(Therapist, anna.pk), answered_within_the_lock_timeout():
        response = web.post("/kalender/tider/ny/", new_slot, HTTP_ACCEPT="application/json")

    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert response.json()["code"] == "database_busy"
    assert not Slot.objects.exists()
    assert web.post("/kalender/tider/ny/", new_slot, HTTP_ACCEPT="application/json").status_code == 200
