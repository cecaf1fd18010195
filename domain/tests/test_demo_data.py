"""`make run` loads demo data into an empty database: the logins README.md names, and a
calendar whose opening week is never empty, in all four colours over this week and next."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core.management import call_command

from conftest import at
from domain import selectors
from domain.management.commands.demo_data import CLIENT_EMAIL, PASSWORD, STAFF_EMAIL, THERAPIST_EMAIL
from domain.models import Slot, Therapist, User

pytestmark = pytest.mark.django_db


def load() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("moment", [
    "2027-01-13 12:00",  # a Wednesday at noon
    "2027-01-15 17:00",  # a Friday after the last slot of the day
    "2027-01-16 20:00",  # a Saturday evening
])
def test_the_demo_calendar_has_something_this_week_and_all_colours_over_two(moment):
    with time_machine.travel(at(moment), tick=False):
        load()
        sara = Therapist.objects.get(user__email=THERAPIST_EMAIL)
        today = at(moment).astimezone(sara.tz).date()
        monday = at(f"{today - timedelta(days=today.weekday())} 00:00")
        this_week = selectors.calendar_for_therapist(sara, monday, monday + timedelta(days=7))
        two_weeks = selectors.calendar_for_therapist(sara, monday, monday + timedelta(days=14))

        assert [s for s in this_week if s.start_at > at(moment)], "the week the calendar opens on is empty"
        assert {s.color for s in two_weeks} == {"green", "blue", "red", "yellow"}


def test_the_demo_logins_work_and_a_second_run_adds_nothing(now):
    assert "Demo data loaded." in load()
    for email in (THERAPIST_EMAIL, CLIENT_EMAIL, STAFF_EMAIL):
        assert authenticate(email=email, password=PASSWORD) is not None, email
    assert User.objects.get(email=STAFF_EMAIL).is_staff
    assert Therapist.objects.get(user__email=THERAPIST_EMAIL).client_booster
    slots = Slot.objects.count()

    assert "no demo data loaded" in load()
    assert Slot.objects.count() == slots
