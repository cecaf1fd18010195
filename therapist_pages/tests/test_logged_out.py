"""What calendar.js fetches from these pages (JSON, and the booking view's fragment) answers 401
JSON {code, detail, login_url} when the session has gone: never logged in, ended after idle
time (R42), or still owing its second factor. A redirect to the log-in page would be followed
by fetch and handed to the script as if it were the answer. The pages themselves still
redirect. The browser half (the script goes to the log-in page) is in test_calendar_browser.py."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import URLPattern, get_resolver, resolve, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import at
from domain.models import Booking, Slot
from domain.services import booking_create_by_therapist, slot_create
from tidbok.http import url_template

# What calendar.js fetches, by method, as (URL name, the kwarg it takes).
FETCHED = {
    ("GET", "price", None), ("GET", "slot", "slot_id"),
    ("POST", "slot_new", None), ("POST", "slot_range", None), ("POST", "slot_edit", "slot_id"),
    ("POST", "slot_delete", "slot_id"), ("POST", "slot_repeat", "slot_id"), ("POST", "slot_book", "slot_id"),
    ("POST", "booking_cancel", "booking_id"), ("POST", "booking_video_link", "booking_id"),
    ("POST", "booking_outcome", "booking_id"), ("POST", "series_start", "slot_id"), ("POST", "series_cancel", "booking_id"),
}


@pytest.fixture
def clock():
    with time_machine.travel(at("2027-01-11 08:00"), tick=False) as traveller:
        yield traveller


@pytest.fixture
def objects(anna, erik, clock):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"))
    booked = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 11:00"))
    booking = booking_create_by_therapist(therapist=anna, slot=booked, client=erik, mode="video", actor=anna.user)
    return {"slot_id": slot.pk, "booking_id": booking.pk}


def url(name, kwarg, objects):
    return reverse(f"therapist_pages:{name}", kwargs={kwarg: objects[kwarg]} if kwarg else {})


def ask(http, method, path):
    return http.get(path, {"minuter": "60"}) if method == "GET" else http.post(path, {})


def assert_401(response):
    assert response.status_code == 401, (response.status_code, response.get("Location"))
    body = json.loads(response.content)
    assert body["code"] == "not_logged_in"
    assert body["login_url"] == reverse("login")
    assert body["detail"] == "Du är inte inloggad längre. Logga in igen för att fortsätta."


def nothing_changed(before):
    assert (Slot.objects.count(), Booking.objects.filter(status="confirmed").count()) == before


def test_exactly_what_the_script_fetches_answers_401():
    """The views marked `answers_401` are the ones in FETCHED, no more (a page among them
    would answer a person's browser with JSON) and no fewer."""
    marked = {
        p.name for p in get_resolver("therapist_pages.urls").url_patterns
        if isinstance(p, URLPattern) and getattr(p.callback, "answers_401", False)
    }
    assert marked == {name for _method, name, _kwarg in FETCHED}


@pytest.mark.parametrize(("method", "name", "kwarg"), sorted(FETCHED, key=str))
def test_without_a_login_the_script_gets_401_json(objects, method, name, kwarg):
    before = (Slot.objects.count(), Booking.objects.filter(status="confirmed").count())

    assert_401(ask(HttpClient(), method, url(name, kwarg, objects)))
    nothing_changed(before)


def test_the_calendar_page_itself_still_goes_to_the_log_in(db):
    response = HttpClient().get(reverse("therapist_pages:calendar"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("method", "name", "kwarg"), sorted(FETCHED, key=str))
def test_an_idle_session_ends_and_the_script_gets_401_json(anna, objects, clock, settings, method, name, kwarg):
    settings.SESSION_IDLE_MINUTES = 60
    http = HttpClient()
    http.force_login(anna.user)
    assert http.get(reverse("therapist_pages:calendar")).status_code == 200  # stamps the session
    before = (Slot.objects.count(), Booking.objects.filter(status="confirmed").count())
    clock.shift(timedelta(minutes=61))

    assert_401(ask(http, method, url(name, kwarg, objects)))
    nothing_changed(before)
    # The session has ended, and the log-in page the script goes to says why.
    gone = http.get(reverse("therapist_pages:calendar"))
    assert gone.status_code == 302 and gone["Location"].startswith(reverse("login"))
    assert "Du loggades ut efter 60 minuter utan aktivitet" in http.get(gone["Location"]).content.decode()


def test_a_session_owing_its_second_factor_gets_401_json_from_what_the_script_fetches(anna, objects):
    TOTPDevice.objects.create(user=anna.user, name="app", confirmed=True)
    http = HttpClient()
    http.force_login(anna.user)  # a password alone: the code is still owed

    assert_401(ask(http, "GET", url("slot", "slot_id", objects)))
    assert http.get(reverse("therapist_pages:calendar"))["Location"].startswith(reverse("login_otp"))


def test_a_logged_in_therapist_gets_the_answers_as_before(anna, objects):
    http = HttpClient()
    http.force_login(anna.user)

    assert http.get(url("price", None, objects), {"minuter": "60"}).json() == {"price": anna.price_for(60)}
    assert http.get(url("slot", "slot_id", objects)).status_code == 200


def test_a_url_template_is_filled_in_to_the_url_it_stands_for(db):
    template = url_template("therapist_pages:slot", "slot_id")

    assert template == "/kalender/tider/{slot_id}/"
    assert resolve(template.format(slot_id=42)).kwargs == {"slot_id": 42}
    assert url_template("api-v1:slot_patch", "slot_id") == "/api/v1/therapist/slots/{slot_id}"
