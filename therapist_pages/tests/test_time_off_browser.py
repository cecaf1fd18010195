"""R36 in Chromium: from the calendar's toolbar by keyboard, a week off: the confirmation lists
the open slots that go and the booking inside (linked to its booking view); once set, the
week's open slots are gone from the calendar, the booking stays, and the band says "Ledighet"
with her note. The pages hold at a phone's width (375 px)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from domain.models import Slot, TimeOff
from domain.services import booking_create_by_therapist, slot_create
from therapist_pages.colours import TIME_OFF
from therapist_pages.tests.test_calendar_browser import (  # noqa: F401 (fixtures)
    calendar,
    event,
    local,
    monday,
    rgb,
    settled,
)

pytestmark = pytest.mark.browser



@pytest.fixture
def week(anna, erik, monday):  # noqa: F811
    """Next week: open slots Monday and Wednesday, Erik booked Tuesday; an open slot the week after."""
    open_ = [slot_create(therapist=anna, actor=anna.user, start=local(monday + timedelta(days=d), "09:00"))
             for d in (0, 2)]
    booked = slot_create(therapist=anna, actor=anna.user, start=local(monday + timedelta(days=1), "10:00"))
    booking = booking_create_by_therapist(therapist=anna, slot=booked, client=erik, mode="video", actor=anna.user)
    later = slot_create(therapist=anna, actor=anna.user, start=local(monday + timedelta(days=7), "09:00"))
    return open_, booking, later


def test_a_week_off_removes_its_open_slots_shows_the_band_and_lists_the_booking(
    calendar, anna, monday, week, live_server  # noqa: F811
):
    open_, booking, later = week
    page = calendar()
    for slot in open_:
        expect(event(page, slot)).to_have_count(1)

    # By keyboard: the toolbar's button, the form, Enter.
    button = page.get_by_role("link", name="Ledighet", exact=True)
    button.focus()
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Ledighet", exact=True)).to_be_visible()
    page.get_by_label("Från", exact=True).fill(monday.isoformat())
    page.get_by_label("Till och med").fill((monday + timedelta(days=6)).isoformat())
    page.get_by_label("Anteckning (valfritt)").fill("Kurs")
    page.get_by_label("Anteckning (valfritt)").press("Enter")

    expect(page.get_by_role("heading", name="Lägga in ledighet?")).to_be_visible()
    expect(page.get_by_role("heading", name="2 lediga tider tas bort")).to_be_visible()
    expect(page.locator(".time-off-slots li")).to_have_count(2)
    expect(page.get_by_role("heading", name="1 bokning ligger i den")).to_be_visible()
    link = page.get_by_role("link", name="Erik Eriksson")
    expect(link).to_have_attribute("href", f"/kalender/?datum={(monday + timedelta(days=1)).isoformat()}"
                                           f"&tid={booking.slot_id}")
    href = link.get_attribute("href")
    assert not TimeOff.objects.exists()

    page.get_by_role("button", name="Lägg in ledighet").click()

    expect(page.locator(".messages")).to_contain_text("Ledigheten är inlagd: 2 lediga tider togs bort.")
    settled(page)
    assert not Slot.objects.filter(pk__in=[s.pk for s in open_]).exists()
    for slot in open_:
        expect(event(page, slot)).to_have_count(0)
    expect(event(page, booking.slot)).to_contain_text("Erik Eriksson")
    band = page.locator("#calendar [data-time-off-id]")
    expect(band.first).to_be_visible()
    expect(band.first).to_contain_text("Ledighet: Kurs")
    expect(band.first.locator(".time-off-label")).to_be_in_viewport()  # sticky: the grid opens at 07:00
    assert band.count() == 7  # one band a day
    legend = page.locator(".legend li.legend-time-off")
    expect(legend).to_have_text(f"{TIME_OFF.icon} Ledighet: inga tider kan läggas in")
    expect(legend.locator(".swatch")).to_have_css("background-color", rgb(TIME_OFF.background))
    expect(band.first).to_have_css("background-color", rgb(TIME_OFF.background))
    expect(band.first.locator(".time-off-label")).to_have_css("color", rgb(TIME_OFF.text))
    time_off = TimeOff.objects.get()
    assert (time_off.start_at, time_off.end_at) == (local(monday, "00:00"), local(monday + timedelta(days=7), "00:00"))

    # The booking's link opens its booking view, where she moves or cancels it.
    page.goto(live_server.url + href)
    dialog = page.locator("#slot-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".slot-view")).to_have_attribute("data-slot-id", str(booking.slot_id))
    expect(dialog).to_contain_text("Erik Eriksson")

    # Her time off is listed with its button; the week after still has its slot.
    page.goto(live_server.url + "/kalender/ledighet/")
    expect(page.locator(".time-off-list li")).to_have_count(1)
    expect(page.locator(".time-off-list")).to_contain_text("Kurs")
    assert Slot.objects.filter(pk=later.pk).exists()


def test_the_time_off_pages_fit_a_phone(calendar, anna, monday, week, page, live_server):  # noqa: F811
    page.set_viewport_size({"width": 375, "height": 800})
    calendar()
    expect(page.get_by_role("link", name="Ledighet", exact=True)).to_be_visible()
    page.goto(live_server.url + "/kalender/ledighet/")
    page.get_by_label("Från", exact=True).fill(monday.isoformat())
    page.get_by_label("Till och med").fill(monday.isoformat())
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_role("button", name="Lägg in ledighet")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.get_by_role("button", name="Lägg in ledighet").click()
    page.goto(live_server.url + "/kalender/ledighet/")
    remove = page.get_by_role("button", name="Ta bort ledigheten från")
    expect(remove).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    remove.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Ledigheten är borttagen.")
    assert not TimeOff.objects.exists()
