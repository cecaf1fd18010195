"""R31, R22: mails name the time zone and say the time right in both nights the clocks change.

In Stockholm the clocks go from 02:00 to 03:00 on Sunday 2027-03-28 and from 03:00 back to
02:00 on Sunday 2027-10-31, so that night 02:00–03:00 happens twice: a 45-minute visit at the
first 02:30 ends at the second 02:15, and the two 02:30s are an hour apart. The wording is
checked exactly, in the client's mail and the therapist's, in Swedish and in English."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from domain.models import OutboundEmail, User
from domain.services import booking_create_by_client, slot_create, slot_update

CASES = {
    # name: (start in UTC, Swedish span, English span, Swedish subject time, English subject time)
    "an ordinary winter morning": (
        datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        "tisdag 1 december 2026 kl. 09:00–09:45 (svensk tid)",
        "Tuesday 1 December 2026 at 09:00–09:45 (Swedish time)",
        "tisdag 1 december 2026 kl. 09:00", "Tuesday 1 December 2026 at 09:00",
    ),
    "across the spring change": (
        datetime(2027, 3, 28, 0, 30, tzinfo=UTC),  # 01:30 winter time, 45 minutes later 03:15 summer time
        "söndag 28 mars 2027 kl. 01:30 vintertid – 03:15 sommartid (svensk tid)",
        "Sunday 28 March 2027 at 01:30 winter time – 03:15 summer time (Swedish time)",
        "söndag 28 mars 2027 kl. 01:30", "Sunday 28 March 2027 at 01:30",
    ),
    "the first 02:30 of the autumn night": (
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),  # 02:30 summer time, ends 02:15 winter time
        "söndag 31 oktober 2027 kl. 02:30 sommartid – 02:15 vintertid (svensk tid)",
        "Sunday 31 October 2027 at 02:30 summer time – 02:15 winter time (Swedish time)",
        "söndag 31 oktober 2027 kl. 02:30 sommartid", "Sunday 31 October 2027 at 02:30 summer time",
    ),
    "the second 02:30 of the autumn night": (
        datetime(2027, 10, 31, 1, 30, tzinfo=UTC),  # 02:30 winter time, an hour after the first
        "söndag 31 oktober 2027 kl. 02:30–03:15 vintertid (svensk tid)",
        "Sunday 31 October 2027 at 02:30–03:15 winter time (Swedish time)",
        "söndag 31 oktober 2027 kl. 02:30 vintertid", "Sunday 31 October 2027 at 02:30 winter time",
    ),
}


def book(anna, client, start):
    with time_machine.travel(start - timedelta(days=7), tick=False):
        slot = slot_create(therapist=anna, actor=anna.user, start=start)
        booking_create_by_client(client=client, slot=slot, mode="video", actor=client.user)
    return slot


@pytest.mark.parametrize("case", CASES)
def test_the_confirmations_say_the_time_and_the_zone_in_swedish(anna, erik, case):
    start, span, _, when, _ = CASES[case]

    book(anna, erik, start)

    client = OutboundEmail.objects.get(kind="booking_confirmed")
    assert client.subject == f"Bokningsbekräftelse: {when} med Anna Andersson"
    assert f"\nNär: {span}, 45 min\n" in client.body
    therapist = OutboundEmail.objects.get(kind="therapist_booking_created")
    assert therapist.subject == f"Ny bokning: {when}, Erik E."
    assert f"\nNär: {span}, 45 min\n" in therapist.body


@pytest.mark.parametrize("case", CASES)
def test_the_confirmations_say_the_time_and_the_zone_in_english(anna, make_client, case):
    start, _, span, _, when = CASES[case]
    User.objects.filter(pk=anna.user.pk).update(language="en")
    anna.user.refresh_from_db()
    olivia = make_client(first="Olivia", last="Brown", birth="19900101", therapist=anna, language="en")

    book(anna, olivia, start)

    client = OutboundEmail.objects.get(kind="booking_confirmed")
    assert client.subject == f"Booking confirmed: {when} with Anna Andersson"
    assert f"\nWhen: {span}, 45 min\n" in client.body
    therapist = OutboundEmail.objects.get(kind="therapist_booking_created")
    assert therapist.subject == f"New booking: {when}, Olivia B."
    assert f"\nWhen: {span}, 45 min\n" in therapist.body


def test_a_move_from_the_first_02_30_to_the_second_says_which_is_which(anna, erik):
    first, second = CASES["the first 02:30 of the autumn night"][0], CASES["the second 02:30 of the autumn night"][0]
    slot = book(anna, erik, first)

    with time_machine.travel(first - timedelta(days=7), tick=False):
        slot_update(slot=slot, actor=anna.user, start=second)

    moved = OutboundEmail.objects.get(kind="booking_rescheduled")
    assert moved.subject == "Ny tid: söndag 31 oktober 2027 kl. 02:30 vintertid med Anna Andersson"
    assert "\nTidigare: söndag 31 oktober 2027 kl. 02:30 sommartid\n" in moved.body
    assert "\nNy tid: söndag 31 oktober 2027 kl. 02:30–03:15 vintertid (svensk tid), 45 min\n" in moved.body
