"""R32 in Chromium at a phone's width: the therapist books a client every week for 10 weeks from
an open slot's booking view (by keyboard where it matters), sees every week on the preview page,
books all ten; the calendar marks them ↻; from week 5 she cancels "this and following": weeks
1–4 stay, 5–10 are cancelled."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from domain.models import Booking, BookingSeries, OutboundEmail
from domain.services import slot_create
from therapist_pages.tests.test_calendar_browser import (  # noqa: F401 (fixtures)
    calendar,
    event,
    local,
    monday,
    open_slot,
    settled,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def test_book_ten_weeks_then_cancel_from_week_five(calendar, page, live_server, anna, erik, monday):  # noqa: F811
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page.set_viewport_size(PHONE)
    page = calendar()
    dialog = open_slot(page, slot)

    dialog.get_by_role("button", name="Boka med klient").click()
    dialog.get_by_label("Klientens förnamn").fill("Eri")
    dialog.get_by_role("option", name="Erik Eriksson").first.click()
    dialog.locator("#slot-book").get_by_label("Video").check()
    weeks = dialog.get_by_label("Antal veckor (2–52)")
    weeks.fill("10")
    weeks.press("Tab")
    expect(dialog.get_by_role("button", name="Boka varje vecka…")).to_be_focused()
    page.keyboard.press("Enter")

    # The preview page: ten weeks, each one bookable, nothing booked yet.
    expect(page.get_by_role("heading", name="Boka varje vecka")).to_be_visible()
    rows = page.locator("table.series-weeks tbody tr")
    expect(rows).to_have_count(10)
    expect(page.locator("tr.week-refused")).to_have_count(0)
    assert not Booking.objects.exists()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    book_all = page.get_by_role("button", name="Boka alla 10")
    book_all.focus()
    expect(book_all).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator(".messages")).to_contain_text("Bokat varje vecka: Erik Eriksson, 10 gånger")
    series = BookingSeries.objects.get()
    bookings = list(series.bookings.order_by("start_at"))
    assert len(bookings) == 10 and all(b.is_confirmed for b in bookings)
    assert bookings[0].slot_id == slot.pk
    assert list(OutboundEmail.objects.values_list("kind", flat=True)) == ["series_booked"]

    # The calendar marks a series booking with ↻ (a mark, with words for assistive technology).
    settled(page)
    mark = event(page, slot).locator(".slot-series")
    expect(mark).to_contain_text("↻")
    expect(mark).to_contain_text("bokad varje vecka")

    # Week 5: "Avboka denna och följande", confirmed.
    fifth = bookings[4]
    page.goto(f"{live_server.url}/kalender/?datum={(monday + timedelta(weeks=4)).isoformat()}")
    settled(page)
    dialog = open_slot(page, fifth.slot)
    expect(dialog.locator("[data-fact=series]")).to_contain_text("6 bokningar kvar")
    expect(dialog.get_by_role("button", name="Avboka denna", exact=True)).to_be_visible()
    dialog.get_by_role("button", name="Avboka denna och följande").click()
    confirm = dialog.get_by_role("button", name="Ja, avboka denna och följande")
    expect(confirm).to_be_visible()
    confirm.click()

    expect(dialog.locator("[data-role=status]")).to_contain_text("6 bokningar av Erik avbokades")
    statuses = [b.status for b in Booking.objects.filter(series=series).order_by("start_at")]
    assert statuses == ["confirmed"] * 4 + ["cancelled"] * 6
    assert OutboundEmail.objects.filter(kind="series_cancelled").count() == 1


def test_enter_in_the_weeks_field_shows_the_weeks_and_books_nothing(calendar, page, anna, erik, monday):  # noqa: F811
    """Enter in a form's field presses its first submit button ("Slutför bokning"): in the
    number of weeks it must be "Boka varje vecka…", not one booking made at once."""
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page = calendar()
    dialog = open_slot(page, slot)

    dialog.get_by_role("button", name="Boka med klient").click()
    dialog.get_by_label("Klientens förnamn").fill("Eri")
    dialog.get_by_role("option", name="Erik Eriksson").first.click()
    dialog.locator("#slot-book").get_by_label("Video").check()
    weeks = dialog.get_by_label("Antal veckor (2–52)")
    weeks.fill("4")
    weeks.press("Enter")

    expect(page.get_by_role("heading", name="Boka varje vecka")).to_be_visible()
    expect(page.locator("table.series-weeks tbody tr")).to_have_count(4)
    assert not Booking.objects.exists()
