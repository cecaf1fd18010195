"""R34 in Chromium: once a visit has begun, the therapist marks a no-show from the booking view,
and the calendar shows the outcome's icon beside the booking (its colour unchanged)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import STOCKHOLM
from domain.models import Booking, Slot
from therapist_pages.colours import OUTCOME_ICONS
from therapist_pages.tests.test_calendar_browser import (  # noqa: F401 (fixtures)
    calendar,
    event,
    monday,
    open_slot,
    settled,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def begun(anna, erik):
    """A booking of Erik's that began 20 minutes ago (written as it happened: the services
    refuse to book a time that has begun)."""
    start = (timezone.now() - timedelta(minutes=20)).replace(second=0, microsecond=0)
    slot = Slot.objects.create(therapist=anna, start_at=start, end_at=start + timedelta(minutes=45), price=1000)
    return Booking.objects.create(
        slot=slot, therapist=anna, client=erik, start_at=slot.start_at, end_at=slot.end_at, price=1000, mode="onsite",
    )


def test_the_therapist_marks_a_no_show_and_the_calendar_shows_its_icon(calendar, begun):  # noqa: F811
    page = calendar(day=timezone.localdate(begun.start_at, STOCKHOLM))
    slot = begun.slot
    expect(event(page, slot)).to_contain_text("Erik Eriksson")
    expect(event(page, slot).locator(".slot-outcome")).to_have_count(0)
    colour = event(page, slot).get_attribute("data-color")
    assert colour in {"red", "yellow"}
    dialog = open_slot(page, slot)
    expect(dialog.locator("[data-fact=outcome]")).to_contain_text("Inte angivet")

    dialog.get_by_role("button", name="Uteblev").click()

    expect(dialog.locator("[data-role=status]")).to_contain_text("Sparat för Erik: Uteblev.")
    expect(dialog.locator("[data-fact=outcome]")).to_contain_text("Uteblev")
    expect(dialog.get_by_role("button", name="Uteblev")).to_have_attribute("aria-pressed", "true")
    expect(dialog.locator(".slot-history")).to_contain_text("Utfall för Erik Eriksson: Uteblev.")
    assert Booking.objects.get(pk=begun.pk).outcome == "no_show"
    page.keyboard.press("Escape")
    settled(page)
    mark = event(page, slot).locator(".slot-outcome[data-outcome=no_show]")
    expect(mark).to_contain_text(OUTCOME_ICONS["no_show"])
    expect(mark).to_contain_text("Uteblev")  # its words, for assistive technology
    expect(event(page, slot)).to_have_attribute("data-color", colour)  # an icon, not a new colour
