"""The privacy policy page, consent at sign-up, the erasure page (R41) and the export buttons
(R40): through Django's test client, then in Chromium."""

import json
import re

import pytest
from django.test import Client as HttpClient
from playwright.sync_api import expect

from api.tests.helpers import booked, slot_for
from conftest import process_account_requests
from domain.models import Booking, OutboundEmail, User
from domain.privacy import POLICY_VERSION

pytestmark = pytest.mark.usefixtures("now")


def logged_in(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.mark.django_db
def test_the_privacy_policy_says_its_version_in_swedish_and_english():
    sv = HttpClient().get("/personuppgiftspolicy/")
    assert sv.status_code == 200
    text = sv.content.decode()
    assert "<h1>Personuppgiftspolicy</h1>" in text
    assert f"Version {POLICY_VERSION}, 2026-11-29" in text
    assert "10 år" in text and "Radera ditt konto" in text
    en = HttpClient(headers={"accept-language": "en"}).get("/personuppgiftspolicy/")
    assert "<h1>Privacy policy</h1>" in en.content.decode() and "Erase your account" in en.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/hitta-terapeut/", "/logga-in/", "/skapa-konto/", "/personuppgiftspolicy/"])
def test_every_page_links_the_policy_in_its_footer(path):
    html = HttpClient().get(path).content.decode()
    footer = re.search(r'<footer class="site-footer">(.*?)</footer>', html, re.S).group(1)
    assert 'href="/personuppgiftspolicy/"' in footer


@pytest.mark.django_db
def test_sign_up_shows_what_is_stored_and_needs_the_policy_accepted():
    page = HttpClient().get("/skapa-konto/").content.decode()
    assert "Vad vi sparar, och varför" in page and 'href="/personuppgiftspolicy/"' in page
    form = {"first_name": "Ny", "last_name": "Person", "email": "ny@example.se", "password": "lingon-sylt-1987"}
    response = HttpClient().post("/skapa-konto/", form)
    assert response.status_code == 400
    assert "Godkänn personuppgiftspolicyn för att skapa ett konto." in response.content.decode()
    process_account_requests()
    assert not User.objects.filter(email="ny@example.se").exists()
    assert HttpClient().post("/skapa-konto/", {**form, "accept_privacy_policy": "on"}).status_code == 200
    process_account_requests()
    user = User.objects.get(email="ny@example.se")
    assert user.privacy_policy_version == POLICY_VERSION
    assert user.privacy_policy_accepted_at is not None


@pytest.mark.django_db
def test_the_account_page_links_the_export_and_the_erasure_for_a_client_only(erik, anna):
    page = logged_in(erik.user).get("/konto/").content.decode()
    assert 'href="/api/v1/client/export"' in page and 'href="/konto/radera/"' in page
    page = logged_in(anna.user).get("/konto/").content.decode()
    assert 'href="/konto/radera/"' not in page
    settings_page = logged_in(anna.user).get("/kalender/installningar/").content.decode()
    assert 'href="/api/v1/therapist/export?format=csv"' in settings_page


@pytest.mark.django_db
def test_the_erasure_page_needs_her_password_and_the_confirmation(erik, anna):
    http = logged_in(erik.user)
    page = http.get("/konto/radera/").content.decode()
    assert "Det här försvinner" in page and "Det här finns kvar" in page
    response = http.post("/konto/radera/", {"password": "fel", "confirm": "on"})
    assert response.status_code == 400 and "Fel lösenord." in response.content.decode()
    response = http.post("/konto/radera/", {"password": "correct horse battery"})
    assert response.status_code == 400  # not confirmed
    assert User.objects.filter(pk=erik.user_id).exists()
    response = http.post("/konto/radera/", {"password": "correct horse battery", "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == "/konto/raderat/"
    assert not User.objects.filter(pk=erik.user_id).exists()
    assert http.get("/konto/").status_code == 302  # logged out


@pytest.mark.django_db
def test_a_therapist_is_told_her_account_is_not_erased_here(anna):
    http = logged_in(anna.user)
    page = http.get("/konto/radera/").content.decode()
    assert "Ett terapeut- eller personalkonto kan inte raderas här" in page and "<form method=\"post\" novalidate" not in page
    http.post("/konto/radera/", {"password": "correct horse battery", "confirm": "on"})
    assert User.objects.filter(pk=anna.user_id).exists()


# In Chromium ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_in_the_browser_she_downloads_her_data_then_erases_her_account(live_server, page, login_as, anna, erik):
    booking = booked(slot_for(anna, "2027-01-20 09:00"), erik)
    login_as(erik.user)
    page.goto(f"{live_server.url}/konto/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Ladda ner mina uppgifter").click()
    assert download.value.suggested_filename == "tidbok-mina-uppgifter.json"
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert data["client"]["personnummer"] == erik.personnummer
    assert [b["id"] for b in data["bookings"]] == [booking.pk]

    page.get_by_role("link", name="Radera mitt konto").click()
    expect(page.get_by_role("heading", name="Radera mitt konto", level=1)).to_be_visible()
    page.get_by_label("Ditt lösenord").fill("correct horse battery")
    page.get_by_label("Jag förstår att mitt konto och mina uppgifter raderas för gott.").check()
    page.get_by_role("button", name="Radera mitt konto").click()
    expect(page.get_by_role("heading", name="Ditt konto är raderat")).to_be_visible()
    assert not User.objects.filter(pk=erik.user_id).exists()
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"
    assert OutboundEmail.objects.filter(to=anna.user.email, kind="therapist_booking_erased").exists()


@pytest.mark.django_db(transaction=True)
def test_in_the_browser_a_therapist_downloads_her_csv(live_server, page, login_as, anna, erik):
    booked(slot_for(anna, "2027-01-20 09:00"), erik)
    login_as(anna.user)
    page.goto(f"{live_server.url}/kalender/installningar/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Ladda ner CSV").click()
    assert download.value.suggested_filename == "tidbok-klienter.csv"
    content = open(download.value.path(), "rb").read()
    assert content.startswith(b"\xef\xbb\xbfclient_id;first_name;")
    assert erik.personnummer.encode() in content


@pytest.mark.django_db
def test_an_eid_sign_up_stores_the_consent_its_page_asked_for():
    from conftest import pnr
    from domain.services.eid import eid_account_request

    eid_account_request(email="saga@example.se", personnummer=pnr("19900101", "234"), first_name="Saga",
                        last_name="Sund", source="10.0.0.1", accept_privacy_policy=POLICY_VERSION)
    saga = User.objects.get(email="saga@example.se")
    assert saga.privacy_policy_version == POLICY_VERSION and saga.privacy_policy_accepted_at is not None
