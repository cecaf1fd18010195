"""R34 on the therapist's pages: the booking view offers the outcome's buttons once the visit has
begun (not before), records it through the service, and its history says so; the client page
shows each past visit's outcome and the counts; the calendar's script gets the outcomes' icons
and words. Time starts at Monday 2027-01-11 08:00 in Stockholm."""

import json
import re

import pytest
from django.test import Client as HttpClient

from conftest import at
from domain.models import AuditEntry, Booking
from domain.services import booking_create_by_therapist, booking_outcome_set, slot_create
from therapist_pages.colours import OUTCOME_ICONS


@pytest.fixture
def anna_web(anna, now):
    http = HttpClient()
    http.force_login(anna.user)
    return http


@pytest.fixture
def booking(anna, erik, now):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 09:00"))
    return booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)


AJAX = {"HTTP_ACCEPT": "application/json"}


def test_before_the_start_the_booking_view_has_no_outcome_buttons(anna_web, booking):
    body = anna_web.get(f"/kalender/tider/{booking.slot_id}/").content.decode()

    assert "/utfall/" not in body and "Utfall" not in body


def test_after_the_start_she_marks_a_no_show_from_the_booking_view(anna_web, booking, now):
    now.move_to(at("2027-01-11 09:10"))
    body = anna_web.get(f"/kalender/tider/{booking.slot_id}/").content.decode()
    assert f"/kalender/bokningar/{booking.pk}/utfall/" in body
    assert all(word in body for word in ("Närvarade", "Uteblev", "Sen avbokning", "Inte angivet"))

    response = anna_web.post(f"/kalender/bokningar/{booking.pk}/utfall/", {"outcome": "no_show"}, **AJAX)

    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Sparat för Erik: Uteblev."
    assert Booking.objects.get(pk=booking.pk).outcome == "no_show"
    body = anna_web.get(f"/kalender/tider/{booking.slot_id}/").content.decode()
    assert re.search(r'aria-pressed="true" data-outcome="no_show"', body)
    assert "Utfall för Erik Eriksson: Uteblev." in body  # the history


def test_before_the_start_the_page_answers_visit_not_started(anna_web, booking):
    response = anna_web.post(f"/kalender/bokningar/{booking.pk}/utfall/", {"outcome": "attended"}, **AJAX)

    assert response.status_code == 409
    assert response.json()["code"] == "visit_not_started"
    assert "Besöket har inte börjat" in response.json()["detail"]


def test_a_bad_value_names_the_field_and_another_therapists_booking_is_404(anna_web, booking, bo, now):
    now.move_to(at("2027-01-11 10:00"))

    response = anna_web.post(f"/kalender/bokningar/{booking.pk}/utfall/", {"outcome": "kanske"}, **AJAX)
    assert response.status_code == 422 and "outcome" in response.json()["errors"]

    other = HttpClient()
    other.force_login(bo.user)
    assert other.post(f"/kalender/bokningar/{booking.pk}/utfall/", {"outcome": "attended"}).status_code == 404
    assert Booking.objects.get(pk=booking.pk).outcome is None


def test_the_client_page_shows_outcomes_and_counts_and_records_one(anna, anna_web, booking, erik, now):
    later = booking_create_by_therapist(
        therapist=anna, slot=slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 11:00")),
        client=erik, mode="onsite", actor=anna.user,
    )
    now.move_to(at("2027-01-11 12:00"))
    booking_outcome_set(booking=booking, outcome="no_show", actor=anna.user)

    response = anna_web.post(f"/kalender/bokningar/{later.pk}/utfall/", {"outcome": "attended"})

    assert response.status_code == 302 and response["Location"] == f"/kalender/klienter/{erik.pk}/"
    body = anna_web.get(response["Location"]).content.decode()
    assert "Sparat för Erik: Närvarade." in body
    counts = dict(re.findall(r'<li data-outcome="(\w+)">[^<]*<strong>(\d+)</strong>', body))
    assert counts == {"attended": "1", "no_show": "1", "late_cancelled": "0"}
    assert AuditEntry.objects.filter(action="booking.outcome_set").count() == 2


def test_the_client_page_counts_a_late_cancellation(anna, anna_web, erik):
    from domain.services import booking_cancel

    booking = booking_create_by_therapist(
        therapist=anna, slot=slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 09:00")),
        client=erik, mode="video", actor=anna.user,
    )
    booking_cancel(booking=booking, actor=anna.user)  # an hour ahead: after the cut-off

    body = anna_web.get(f"/kalender/klienter/{erik.pk}/").content.decode()

    assert dict(re.findall(r'<li data-outcome="(\w+)">[^<]*<strong>(\d+)</strong>', body))["late_cancelled"] == "1"
    assert "Sen avbokning" in body
    # No buttons for a visit's outcomes, only one to withdraw the late cancellation.
    assert 'name="outcome" value="no_show"' not in body
    assert "Inte klientens sena avbokning" in body


def test_she_withdraws_a_late_cancellation_she_made_for_her_own_reasons(anna, anna_web, erik):
    from domain.services import booking_cancel

    booking = booking_create_by_therapist(
        therapist=anna, slot=slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 09:00")),
        client=erik, mode="video", actor=anna.user,
    )
    booking_cancel(booking=booking, actor=anna.user)  # she is ill: an hour ahead, after the cut-off

    response = anna_web.post(f"/kalender/bokningar/{booking.pk}/utfall/", {"outcome": ""})

    assert response.status_code == 302
    saved = Booking.objects.get(pk=booking.pk)
    assert (saved.status, saved.outcome) == ("cancelled", None)
    entry = AuditEntry.objects.filter(action="booking.outcome_set").get()
    assert (entry.before["outcome"], entry.after.get("outcome")) == ("late_cancelled", None)
    body = anna_web.get(f"/kalender/klienter/{erik.pk}/").content.decode()
    assert dict(re.findall(r'<li data-outcome="(\w+)">[^<]*<strong>(\d+)</strong>', body))["late_cancelled"] == "0"
    # Once withdrawn, a cancellation made in time or withdrawn is never made late again.
    assert anna_web.post(f"/kalender/bokningar/{booking.pk}/utfall/", {"outcome": "late_cancelled"}).status_code == 302
    assert Booking.objects.get(pk=booking.pk).outcome is None


def test_the_calendar_script_gets_each_outcomes_icon_and_words(anna_web):
    body = anna_web.get("/kalender/").content.decode()
    config = json.loads(re.search(r'<script id="calendar-config" type="application/json">(.*?)</script>', body, re.S)[1])

    assert config["outcomes"] == {
        "attended": {"icon": OUTCOME_ICONS["attended"], "label": "Närvarade"},
        "no_show": {"icon": OUTCOME_ICONS["no_show"], "label": "Uteblev"},
        "late_cancelled": {"icon": OUTCOME_ICONS["late_cancelled"], "label": "Sen avbokning"},
    }
    assert len(set(OUTCOME_ICONS.values())) == 3
