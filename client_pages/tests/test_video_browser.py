"""R29 in Chromium against the live server, with a real SMTP server and the production mail
worker: each party opens her own link inside the window and lands in the room, without
logging in; a cancelled booking's links are gone. VIDEO_BASE_URL points at the live
server's practice room, so "in the room" is a page the browser can see. Times are relative
to the real now: the live server runs in another thread, where frozen time would not reach."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from client_pages.tests.test_browser import in_swedish
from conftest import STOCKHOLM, pnr, run_worker
from domain.models import Booking
from domain.services import booking_cancel, booking_create_by_therapist, client_add, slot_create
from domain.tests.test_email_delivery import text_of

pytestmark = pytest.mark.browser


@pytest.fixture
def site(live_server, settings):
    settings.SITE_URL = live_server.url
    settings.VIDEO_BASE_URL = f"{live_server.url}/videorum/"
    return live_server.url


def soon(minutes: int = 10):
    """A whole minute `minutes` from now: its video window (from 15 minutes before) is open."""
    return (timezone.now() + timedelta(minutes=minutes)).replace(second=0, microsecond=0)


def booked_now(anna, client):
    slot = slot_create(therapist=anna, actor=anna.user, start=soon(), modes=["video"])
    return booking_create_by_therapist(therapist=anna, slot=slot, client=client, mode="video", actor=anna.user)


def in_the_room(page, site, booking):
    """The browser is in the booking's room: the practice room's page, at the room's address."""
    expect(page.get_by_role("heading", name="Övningsrum för video")).to_be_visible()
    assert page.url == f"{site}/videorum/tidbok-{booking.video_room}"
    expect(page.get_by_role("main")).to_contain_text(f"tidbok-{booking.video_room}")


def test_an_own_client_without_an_account_opens_the_link_in_her_mail_and_is_in_the_room(anna, site, smtp, page):
    """Issue 10, finding 2: a client the therapist added has no password; her mail's link is
    her key, and takes her straight into the call."""
    ulla = client_add(therapist=anna, actor=anna.user, first_name="Ulla", last_name="Ek",
                      personnummer=pnr("19700101", "246"), email="ulla@example.se")
    booking = booked_now(anna, ulla)
    assert ulla.user is None  # no account, no password

    run_worker()
    [confirmation] = [m for m in smtp.messages if m["To"] == "ulla@example.se" and "/video/" in text_of(m)]
    link = re.search(r"https?://\S+/video/\S+", text_of(confirmation)).group(0)
    assert link == booking.video_url

    visited = []
    page.on("request", lambda r: visited.append(r.url) if r.is_navigation_request() else None)
    page.goto(link)

    in_the_room(page, site, booking)
    assert not any("/logga-in/" in url for url in visited), visited  # never asked to log in
    in_swedish(page)


def test_the_therapist_opens_her_link_from_the_booking_view_and_is_in_the_room(anna, erik, site, page, login_as):
    booking = booked_now(anna, erik)
    login_as(anna.user)
    day = timezone.localdate(booking.start_at, STOCKHOLM)
    page.goto(f"{site}/kalender/?datum={day.isoformat()}")
    expect(page.locator("#calendar[aria-busy=false]")).to_have_count(1)
    # The list view shows every hour (the week grid only 06–22) and is what a phone offers.
    page.get_by_role("tab", name="Lista").click()
    expect(page.locator("#calendar[aria-busy=false]")).to_have_count(1)
    page.locator(f"#calendar [data-slot-id='{booking.slot_id}']").click()
    dialog = page.locator("#slot-dialog")
    expect(dialog).to_be_visible()
    opens = timezone.localtime(booking.start_at - timedelta(minutes=15), STOCKHOLM)
    expect(dialog).to_contain_text(f"öppnas kl. {opens:%H:%M}, 15 minuter före start")
    link = dialog.get_by_role("link", name="Öppna videosamtalet")
    expect(link).to_have_attribute("href", booking.therapist_video_url)

    link.click()

    in_the_room(page, site, booking)


def test_the_therapist_renews_her_link_in_the_booking_view_and_the_old_one_is_gone(anna, erik, site, page, login_as):
    booking = booked_now(anna, erik)
    old = booking.therapist_video_url
    login_as(anna.user)
    page.goto(f"{site}/kalender/?datum={timezone.localdate(booking.start_at, STOCKHOLM).isoformat()}")
    expect(page.locator("#calendar[aria-busy=false]")).to_have_count(1)
    page.get_by_role("tab", name="Lista").click()
    page.locator(f"#calendar [data-slot-id='{booking.slot_id}']").click()
    dialog = page.locator("#slot-dialog")

    dialog.get_by_role("button", name="Ny videolänk").click()

    expect(dialog.get_by_role("status")).to_contain_text("Du har fått en ny videolänk")
    booking.refresh_from_db()
    expect(dialog.get_by_role("link", name="Öppna videosamtalet")).to_have_attribute("href", booking.therapist_video_url)
    assert booking.therapist_video_url != old
    assert page.request.get(old, max_redirects=0).status == 404
    assert page.request.get(booking.video_url, max_redirects=0).status == 302  # the client's still works


def test_a_cancelled_bookings_links_are_gone_for_both_parties(anna, erik, site, page):
    booking = booked_now(anna, erik)
    links = (booking.video_url, booking.therapist_video_url)
    booking_cancel(booking=Booking.objects.get(pk=booking.pk), actor=anna.user)

    for link in links:
        response = page.goto(link)
        assert response.status == 404, link
        expect(page.get_by_role("heading", name="Övningsrum för video")).to_have_count(0)


@pytest.mark.parametrize(("language", "days"), [("sv", "2 dygn"), ("en", "2 days")])
def test_a_countdown_of_more_than_a_day_says_the_days_in_the_pages_language(anna, erik, site, page, language, days):
    """R20's countdown: the days in words of the page's language (the browser's Intl), not an
    untranslated "d"."""
    start = soon(minutes=2 * 24 * 60 + 60)  # the link opens 2 days and 45 minutes from now
    slot = slot_create(therapist=anna, actor=anna.user, start=start, modes=["video"])
    booking = booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)
    page.context.add_cookies([{"name": "tidbok_language", "value": language, "url": site}])

    page.goto(f"{site}/video/{booking.video_token}")

    expect(page.get_by_role("timer")).to_have_text(re.compile(rf"^{days} 00:4[45]:\d\d$"))
