"""R35 on the pages: the therapist sets her booking window on Inställningar (audited by the
service, refused with a message under the field when out of bounds); a client's profile page
shows only the slots inside it, and a slot outside it cannot be booked from the page (it is
gone, as a slot she may not see). Time is Monday 2027-01-11 08:00 in Stockholm."""

import re

import pytest
from django.test import Client as HttpClient

from conftest import at
from domain.models import DEFAULT_BOOKING_HORIZON_DAYS, DEFAULT_MIN_NOTICE_HOURS, AuditEntry, Booking, Therapist
from domain.services import slot_create

pytestmark = pytest.mark.usefixtures("now")

SETTINGS = {
    "default_duration_minutes": "45", "default_price": "1000", "default_modes": ["video", "onsite"],
    "default_audience": "all", "timezone": "Europe/Stockholm", "cancellation_cutoff_hours": "24", "areas": "",
    "min_notice_hours": "48", "booking_horizon_days": "30",
}


@pytest.fixture
def anna(make_therapist):
    return make_therapist(min_notice_hours=DEFAULT_MIN_NOTICE_HOURS, booking_horizon_days=DEFAULT_BOOKING_HORIZON_DAYS)


def web(user=None) -> HttpClient:
    http = HttpClient()
    if user is not None:
        http.force_login(user)
    return http


def test_she_sets_her_booking_window_on_the_settings_page(anna):
    page = web(anna.user).get("/kalender/installningar/").content.decode()
    assert 'name="min_notice_hours" value="12"' in page and 'name="booking_horizon_days" value="90"' in page
    assert "Klienter kan boka fram till (timmar före start)" in page

    response = web(anna.user).post("/kalender/installningar/", SETTINGS)

    assert response.status_code == 302
    anna = Therapist.objects.get(pk=anna.pk)
    assert (anna.min_notice_hours, anna.booking_horizon_days) == (48, 30)
    entry = AuditEntry.objects.get(action="therapist.settings")
    assert (entry.after["min_notice_hours"], entry.after["booking_horizon_days"]) == (48, 30)


@pytest.mark.parametrize("field, value", [
    ("min_notice_hours", "721"), ("min_notice_hours", "-1"), ("min_notice_hours", "tolv"),
    ("booking_horizon_days", "0"), ("booking_horizon_days", "731"), ("booking_horizon_days", ""),
])
def test_a_bad_window_is_shown_under_its_field(anna, field, value):
    response = web(anna.user).post("/kalender/installningar/", {**SETTINGS, field: value})

    assert response.status_code == 422
    page = response.content.decode()
    errors = re.findall(r'<div class="field-error" id="id_(\w+)-error">(.*?)</div>', page, re.S)
    assert [name for name, _ in errors] == [field] and errors[0][1].strip()
    anna = Therapist.objects.get(pk=anna.pk)
    assert (anna.min_notice_hours, anna.booking_horizon_days) == (12, 90)


def test_her_profile_shows_clients_only_the_times_inside_the_window(anna, nora):
    too_soon = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-11 19:00"))
    inside = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"))
    for user in (None, nora.user):
        page = web(user).get(f"/terapeut/{anna.pk}/?vecka=2027-01-11").content.decode()
        assert f"/boka/{inside.pk}/" in page and f"/boka/{too_soon.pk}/" not in page

    response = web(nora.user).post(f"/boka/{too_soon.pk}/", {"mode": "video"})

    assert response.status_code == 404
    assert not Booking.objects.exists()
