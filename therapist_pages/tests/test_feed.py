"""The private calendar feed in the autumn night (R22, issue 10): 02:00–03:00 happens twice in
Stockholm on 2027-10-31, so the feed gives every time in UTC and no X-WR-TIMEZONE (a property
some readers apply to UTC times anyway, shifting events in that hour). Read by Mozilla's
ical.js, the parser of Thunderbird, and by Python's icalendar."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client as HttpClient
from icalendar import Calendar

from domain.services import booking_create_by_therapist, slot_create
from domain.tests.icaljs import read_ical

FIRST = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 summer time
SECOND = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 02:30 winter time, an hour later


@pytest.fixture
def autumn():
    with time_machine.travel(datetime(2027, 10, 20, 8, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def test_the_two_0230s_of_the_autumn_night_are_two_different_times_in_the_feed(anna, erik, autumn):
    first = slot_create(therapist=anna, actor=anna.user, start=FIRST)
    slot_create(therapist=anna, actor=anna.user, start=SECOND)
    booking_create_by_therapist(therapist=anna, slot=first, client=erik, mode="video", actor=anna.user)

    response = HttpClient().get(f"/kalender/feed/{anna.calendar_feed_token}.ics")

    assert response.status_code == 200
    text = response.content.decode()
    mozilla = read_ical(text)
    assert "x-wr-timezone" not in mozilla["properties"]
    assert mozilla["timezones"] == []  # nothing to resolve: every time is in UTC
    events = sorted(mozilla["events"], key=lambda e: e["start"]["utc"])
    assert [(e["start"], e["end"], e["summary"]) for e in events] == [
        ({"utc": "2027-10-31T00:30:00.000Z", "zone": "UTC"}, {"utc": "2027-10-31T01:15:00.000Z", "zone": "UTC"},
         "Nybesök: Erik E. (video)"),  # his first visit anywhere (R15)
        ({"utc": "2027-10-31T01:30:00.000Z", "zone": "UTC"}, {"utc": "2027-10-31T02:15:00.000Z", "zone": "UTC"},
         "Ledig tid"),
    ]
    python = sorted(Calendar.from_ical(text).walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert [e.decoded("dtstart") for e in python] == [FIRST, SECOND]
    assert "X-WR-TIMEZONE" not in text
