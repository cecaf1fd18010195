"""R37 in Chromium at a phone's width (375 px), by keyboard: a client joins a therapist's wait
list from her profile page ("Meddela mig när en tid blir ledig": weekdays, a time range,
video), sees it on Mina bokningar, and leaves it there ("Lämna kön")."""

import pytest
from playwright.sync_api import expect

from client_pages.tests.test_browser import in_swedish, no_sideways_scroll
from domain.models import WaitlistEntry

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def press(page, locator, key="Enter"):
    locator.focus()
    expect(locator).to_be_focused()
    page.keyboard.press(key)


def test_a_client_joins_the_wait_list_from_a_profile_and_sees_it_on_her_bookings(
    anna, nora, live_server, page, login_as
):
    login_as(nora.user)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/terapeut/{anna.pk}/")

    form = page.get_by_role("region", name="Meddela mig när en tid blir ledig")
    expect(form).to_be_visible()
    in_swedish(page)
    assert no_sideways_scroll(page)
    press(page, form.get_by_label("Tisdag"), " ")
    press(page, form.get_by_label("Torsdag"), " ")
    form.get_by_label("Från (klockslag)").fill("08:00")
    form.get_by_label("Till (klockslag)").fill("12:00")
    press(page, form.get_by_label("Videosamtal"), " ")
    press(page, form.get_by_role("button", name="Meddela mig när en tid blir ledig"))

    expect(page.get_by_role("heading", name="Mina bokningar", exact=True)).to_be_visible()
    lists = page.get_by_role("region", name="Köer")
    expect(lists).to_contain_text("Anna Andersson")
    expect(lists).to_contain_text("08:00–12:00")
    in_swedish(page)
    assert no_sideways_scroll(page)
    entry = WaitlistEntry.objects.get(client=nora)
    assert entry.weekdays == [2, 4] and entry.modes == ["video"]

    press(page, lists.get_by_role("button", name="Lämna kön"))
    expect(page.get_by_role("region", name="Köer")).to_contain_text("Du står inte i någon kö")
    assert not WaitlistEntry.objects.exists()
