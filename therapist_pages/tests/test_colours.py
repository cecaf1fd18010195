"""The calendar's colours (R2, R7, R14, R15) have one definition, therapist_pages/colours.py:
each colour `Slot.color` can give has its look, shape and words there, and the feed, the
booking view and the calendar's config say them. The calendar page itself (legend, swatches,
events) is checked in Chromium: test_calendar_browser.py."""

import json
import re

import pytest
from django.test import Client as HttpClient
from django.utils import translation
from icalendar import Calendar

from conftest import at
from domain.services import booking_create_by_therapist, slot_create
from therapist_pages.colours import COLOURS, for_script


@pytest.fixture
def week(anna, erik, now):
    """One slot of each colour, at 09:00 from Tuesday to Friday."""
    green = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"))
    blue = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-13 09:00"), audience="existing")
    yellow = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-14 09:00"))
    red = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-15 09:00"))
    booking_create_by_therapist(therapist=anna, slot=yellow, client=erik, mode="onsite", actor=anna.user)
    booking_create_by_therapist(therapist=anna, slot=red, client=erik, mode="video", actor=anna.user)
    return {"green": green, "blue": blue, "yellow": yellow, "red": red}


def test_every_colour_a_slot_can_have_is_defined_once(week):
    assert {name: slot.color for name, slot in week.items()} == {name: name for name in week}
    assert set(COLOURS) == set(week)
    assert len({c.icon for c in COLOURS.values()}) == 4  # the shapes tell them apart without colour


def test_the_feed_titles_each_slot_with_its_colours_label(anna, week):
    body = HttpClient().get(f"/kalender/feed/{anna.calendar_feed_token}.ics").content
    summaries = {str(e["summary"]) for e in Calendar.from_ical(body).walk("VEVENT")}

    with translation.override("sv"):
        assert summaries == {
            str(COLOURS["green"].label), str(COLOURS["blue"].label),
            f"{COLOURS['yellow'].label}: Erik E. (på plats)",  # his first visit anywhere (R15)
            f"{COLOURS['red'].label}: Erik E. (video)",
        }
        assert str(COLOURS["blue"].label) == "Ledig tid (befintliga klienter)"


def test_the_booking_view_shows_its_colours_shape_and_words(anna, week):
    http = HttpClient()
    http.force_login(anna.user)
    for slot in week.values():
        body = http.get(f"/kalender/tider/{slot.pk}/").content.decode()
        state = re.search(r'<p class="slot-state">(.*?)</p>', body, re.S).group(1)
        colour = COLOURS[slot.color]
        with translation.override("sv"):
            assert f'<span class="swatch slot-{colour.name}" aria-hidden="true">{colour.icon}</span>' in state
            assert " ".join(re.sub(r"<[^>]+>", " ", state).split()) == f"{colour.icon} {colour.meaning}"


def test_the_calendar_page_has_the_legend_the_swatches_and_the_scripts_colours(anna):
    http = HttpClient()
    http.force_login(anna.user)
    body = http.get("/kalender/").content.decode()

    config = json.loads(re.search(r'id="calendar-config" type="application/json">(.*?)</script>', body, re.S).group(1))
    with translation.override("sv"):
        assert config["colours"] == for_script()
        for c in COLOURS.values():
            assert f'<li><span class="swatch slot-{c.name}" aria-hidden="true">{c.icon}</span> {c.meaning}</li>' in body
            assert f".slot-{c.name}.swatch, .slot-{c.name}.badge {{ background: {c.background}; color: {c.text}; }}" in body


def test_the_clients_page_marks_the_first_visit_with_the_yellow_shape_and_label(anna, erik, week):
    http = HttpClient()
    http.force_login(anna.user)
    body = http.get(f"/kalender/klienter/{erik.pk}/").content.decode()
    upcoming = re.search(r"<h2>Kommande bokningar</h2>\s*<ul>(.*?)</ul>", body, re.S).group(1)
    items = re.findall(r"<li[^>]*>(.*?)</li>", upcoming, re.S)

    yellow = COLOURS["yellow"]
    with translation.override("sv"):
        mark = f"{yellow.icon} {yellow.label}"
        assert [mark in item for item in items] == [True, False]  # Thursday's is his first visit (R15)
        assert mark == "★ Nybesök"
