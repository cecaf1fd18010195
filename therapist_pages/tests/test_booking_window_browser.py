"""R35 in Chromium: the calendar marks an open slot that clients cannot book now (too soon or
too far ahead for her booking window) with a hatching and a shape over its colour, says so in
words for a screen reader, and the legend explains the mark; a slot clients can book has none."""

import math

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from domain.services import slot_create
from therapist_pages.colours import CLOSED_TO_CLIENTS, COLOURS
from therapist_pages.tests.test_calendar_browser import calendar, event, local, monday  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_the_calendar_marks_the_open_slots_clients_cannot_book_and_the_legend_says_why(calendar, anna, monday):  # noqa: F811
    # Her notice reaches to Monday noon next week: Monday morning is too soon, Tuesday is fine.
    anna.min_notice_hours = math.ceil((local(monday, "12:00") - timezone.now()).total_seconds() / 3600)
    anna.save(update_fields=["min_notice_hours"])
    too_soon = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    bookable = slot_create(therapist=anna, actor=anna.user, start=local(monday, "13:00"))
    existing_only = slot_create(therapist=anna, actor=anna.user, start=local(monday, "10:00"), audience="existing")

    page = calendar()

    with translation.override("sv"):
        label, meaning = str(CLOSED_TO_CLIENTS.label), str(CLOSED_TO_CLIENTS.meaning)
    for slot, colour in ((too_soon, "green"), (existing_only, "blue")):
        expect(event(page, slot)).to_have_attribute("data-bookable-by-clients", "false")
        expect(event(page, slot)).to_have_attribute("data-color", colour)  # the colour stays
        expect(event(page, slot).locator(".slot-mark")).to_have_text(CLOSED_TO_CLIENTS.icon)
        expect(event(page, slot).locator(".visually-hidden")).to_have_text(f", {label}")
        assert "repeating-linear-gradient" in event(page, slot).evaluate("el => getComputedStyle(el).backgroundImage")
    expect(event(page, bookable)).to_have_attribute("data-bookable-by-clients", "true")
    expect(event(page, bookable).locator(".slot-mark")).to_have_count(0)
    assert event(page, bookable).evaluate("el => getComputedStyle(el).backgroundImage") == "none"

    mark = page.locator(".legend li.legend-mark")
    expect(mark).to_have_text(f"{CLOSED_TO_CLIENTS.icon} {meaning}")
    assert "repeating-linear-gradient" in mark.locator(".swatch").evaluate(
        "el => getComputedStyle(el).backgroundImage"
    )
    expect(page.locator(".legend li")).to_have_count(len(COLOURS) + 2)  # and R36's time off
