"""R33 in Chromium at a phone's width (375 px), by keyboard: a client moves her booking from
Mina bokningar to another open time of her therapist; her booking's page shows the new time,
the old time is bookable again (another client books it), and both parties get the new
invitation. Times are relative to the real now (the live server runs in another thread)."""

import re

import pytest
from playwright.sync_api import expect

from client_pages.tests.test_browser import days_ahead, in_swedish, no_sideways_scroll
from conftest import run_worker
from domain.models import Booking
from domain.services import booking_create_by_therapist, slot_create
from domain.tests.test_email_delivery import calendar_parts

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def site(live_server, settings):
    settings.SITE_URL = live_server.url
    return live_server.url


def press(page, locator, key="Enter"):
    """Reach it from the keyboard: focus it (it must take focus) and press the key."""
    locator.focus()
    expect(locator).to_be_focused()
    page.keyboard.press(key)


def test_a_client_moves_her_booking_by_keyboard_on_a_phone(anna, erik, nora, site, page, login_as, smtp):
    old = slot_create(therapist=anna, actor=None, start=days_ahead(3, 10))
    new = slot_create(therapist=anna, actor=None, start=days_ahead(4, 14), price=1200)
    booking = booking_create_by_therapist(therapist=anna, slot=old, client=erik, mode="video", actor=anna.user)
    run_worker()
    sent_before = len(smtp.messages)
    login_as(erik.user)
    page.set_viewport_size(PHONE)

    page.goto(f"{site}/mina-bokningar/")
    upcoming = page.get_by_role("region", name="Kommande")
    press(page, upcoming.get_by_role("link", name="Flytta", exact=True))

    expect(page.get_by_role("heading", name="Flytta bokningen", exact=True)).to_be_visible()
    in_swedish(page)
    assert no_sideways_scroll(page)
    expect(page.locator(f'a[href="/mina-bokningar/{booking.pk}/flytta/{old.pk}/"]')).to_have_count(0)
    press(page, page.get_by_role("link", name=re.compile("14:00–14:45")))

    expect(page.get_by_role("heading", name="Flytta bokningen hit?")).to_be_visible()
    expect(page.get_by_label("Videosamtal")).to_be_checked()  # her kind of meeting, kept
    expect(page.locator("[data-fact=new]")).to_contain_text("14:00–14:45")
    in_swedish(page)
    assert no_sideways_scroll(page)
    press(page, page.get_by_role("button", name="Ja, flytta den"))

    page.wait_for_url(f"{site}/mina-bokningar/{booking.pk}/")
    expect(page.get_by_role("status").first).to_contain_text("Din bokning är flyttad")
    expect(page.get_by_role("heading", name="Din bokning")).to_be_visible()
    expect(page.locator("main time")).to_contain_text("14:00–14:45")
    expect(page.locator("main")).to_contain_text("1200 kr")
    in_swedish(page)
    assert no_sideways_scroll(page)
    saved = Booking.objects.get(pk=booking.pk)
    assert (saved.slot_id, saved.sequence) == (new.pk, 1)

    # Both parties' mail carries the new invitation: one event, the same UID, a higher SEQUENCE.
    run_worker()
    mails = smtp.messages[sent_before:]
    assert sorted(m["To"] for m in mails) == sorted([erik.email, anna.user.email])
    for mail in mails:
        [part] = calendar_parts(mail)
        text = part.get_payload(decode=True).decode()
        assert f"UID:booking-{booking.pk}@tidbok" in text and "SEQUENCE:1" in text

    # The old time is open again: another client finds it on Anna's page and books it.
    page.context.clear_cookies()
    login_as(nora.user)
    page.goto(f"{site}/terapeut/{anna.pk}/?vecka={days_ahead(3, 10).date().isoformat()}")
    press(page, page.locator(f'a[href="/boka/{old.pk}/"]'))
    page.get_by_label("Videosamtal").check()
    press(page, page.get_by_role("button", name="Boka", exact=True))
    expect(page.get_by_role("status").first).to_contain_text("Din bokning är klar")
    assert Booking.objects.live().get(slot=old).client_id == nora.pk
