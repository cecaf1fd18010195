"""GET /video/<token>, the link of R20: a page saying when it opens, then from 15 minutes
before the start until the end the room itself, then 410. Only the booking's client and
therapist get in: a visitor is asked to log in, anyone else is told it does not exist."""

from datetime import timedelta

import pytest

from conftest import at
from domain import services
from domain.models import ClientLink, Slot

pytestmark = pytest.mark.usefixtures("now")


def book(therapist, client, start="2027-01-11 10:00", mode="video"):
    """A 45-minute booking; time is then 2027-01-11 08:00."""
    slot = services.slot_create(therapist=therapist, actor=None, start=at(start))
    return services.booking_create_by_therapist(therapist=therapist, slot=slot, client=client, mode=mode, actor=None)


@pytest.fixture
def booking(anna, erik):
    return book(anna, erik)


@pytest.fixture
def client(client, erik):
    """Django's test client, logged in as the booking's client."""
    client.force_login(erik.user)
    return client


@pytest.fixture
def link(booking, erik_api, settings):
    """The path of the video link, as the client's booking list gives it."""
    [entry] = erik_api.get("/client/bookings").json()
    assert entry["video_url"].startswith(f"{settings.SITE_URL}/video/")
    return entry["video_url"].removeprefix(settings.SITE_URL)


@pytest.mark.parametrize("moment", ["2027-01-11 08:00", "2027-01-11 09:44", "2027-01-10 23:00"])
def test_before_the_window_it_says_when_it_opens_without_the_room(client, link, booking, settings, now, moment):
    now.move_to(at(moment))

    response = client.get(link)

    assert response.status_code == 200
    page = response.content.decode()
    assert "09:45" in page  # when the link opens
    assert "10:00" in page  # when the meeting starts
    assert settings.VIDEO_BASE_URL not in page
    assert settings.VIDEO_BASE_URL.rstrip("/") not in page
    assert booking.video_room not in page
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("moment", ["2027-01-11 09:45", "2027-01-11 10:00", "2027-01-11 10:44"])
def test_from_15_minutes_before_until_the_end_it_goes_to_the_room(client, link, booking, settings, now, moment):
    now.move_to(at(moment))

    response = client.get(link)

    assert response.status_code == 302
    room = response["Location"]
    assert room.startswith(settings.VIDEO_BASE_URL)
    assert room == booking.video_room_url
    assert booking.video_room in room
    assert booking.video_token not in room  # the link and the room are unrelated


def test_the_last_second_before_the_end_still_goes_to_the_room(client, link, now):
    now.move_to(at("2027-01-11 10:45") - timedelta(seconds=1))

    assert client.get(link).status_code == 302


@pytest.mark.parametrize("moment", ["2027-01-11 10:45", "2027-01-11 18:00", "2027-02-01 09:00"])
def test_after_the_end_it_is_gone(client, link, booking, settings, now, moment):
    now.move_to(at(moment))
    client.force_login(booking.client.user)  # weeks later the session has expired

    response = client.get(link)

    assert response.status_code == 410
    assert settings.VIDEO_BASE_URL not in response.content.decode()
    assert booking.video_room not in response.content.decode()


def test_the_window_follows_a_rescheduled_booking(client, link, booking, now):
    services.slot_update(slot=Slot.objects.get(pk=booking.slot_id), actor=None, start=at("2027-01-12 10:00"))

    now.move_to(at("2027-01-11 09:50"))
    assert client.get(link).status_code == 200
    now.move_to(at("2027-01-12 09:50"))
    assert client.get(link).status_code == 302


def test_a_longer_meeting_stays_open_to_its_end(client, anna, erik, now):
    slot = services.slot_create(therapist=anna, actor=None, start=at("2027-01-11 13:00"), duration_minutes=90)
    booking = services.booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=None)

    now.move_to(at("2027-01-11 14:29"))
    assert client.get(f"/video/{booking.video_token}").status_code == 302
    now.move_to(at("2027-01-11 14:30"))
    assert client.get(f"/video/{booking.video_token}").status_code == 410


def test_the_page_is_in_the_therapists_zone(client, make_therapist, erik, now):
    helsinki = make_therapist(email="h@example.se", first="Helmi", timezone="Europe/Helsinki")
    ClientLink.objects.create(therapist=helsinki, client=erik, source="own")
    booking = book(helsinki, erik)  # 10:00 Stockholm is 11:00 Helsinki

    page = client.get(f"/video/{booking.video_token}").content.decode()

    assert "10:45" in page and "11:00" in page


@pytest.mark.parametrize("token", ["not-a-token", "x" * 64, "%00", "..%2F..%2Fetc"])
def test_an_unknown_token_is_not_found(client, booking, token, now):
    now.move_to(at("2027-01-11 10:00"))

    assert client.get(f"/video/{token}").status_code == 404


def test_a_cancelled_booking_has_no_link(client, link, booking, now):
    services.booking_cancel(booking=booking, actor=None)
    now.move_to(at("2027-01-11 10:00"))

    assert client.get(link).status_code == 404


def test_an_onsite_booking_has_no_link(client, anna, erik, now):
    onsite = book(anna, erik, mode="onsite")
    now.move_to(at("2027-01-11 10:00"))

    assert client.get(f"/video/{onsite.video_token}").status_code == 404


def test_the_link_needs_a_login_to_enter_the_room(link, now):
    from django.test import Client as Browser

    now.move_to(at("2027-01-11 10:00"))

    response = Browser().get(link)

    assert response.status_code == 302
    assert response["Location"].startswith("/logga-in/?next=/video/")


def test_without_a_login_the_link_still_answers_when_it_opens_and_when_it_has_closed(link, now):
    """API.md's statuses hold for whoever holds the link; names only for the two parties."""
    from django.test import Client as Browser

    before = Browser().get(link)
    assert before.status_code == 200
    body = before.content.decode()
    assert "09:45" in body and "Anna" not in body and "meet.jit.si" not in body

    now.move_to(at("2027-01-11 10:45"))
    after = Browser().get(link)
    assert after.status_code == 410
    assert "Anna" not in after.content.decode()


def test_the_therapist_of_the_booking_gets_in(link, anna, now):
    from django.test import Client as Browser

    browser = Browser()
    browser.force_login(anna.user)
    now.move_to(at("2027-01-11 10:00"))

    assert browser.get(link).status_code == 302


def test_another_client_or_therapist_is_told_it_does_not_exist(link, nora, bo, now):
    from django.test import Client as Browser

    now.move_to(at("2027-01-11 10:00"))
    for someone in (nora.user, bo.user):
        browser = Browser()
        browser.force_login(someone)
        assert browser.get(link).status_code == 404


def test_the_page_before_the_window_counts_down_from_a_script_file(client, link, now):
    page = client.get(link).content.decode()

    assert 'id="video-countdown"' in page and "countdown.js" in page
    assert "2027-01-11T08:45:00+00:00" in page  # opens (09:45 in Stockholm), in UTC for the script
    assert "onload=" not in page and "<script>" not in page
