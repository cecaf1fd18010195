"""R38 in Chromium: in Inställningar, by keyboard, she connects her other calendar (an .ics
served by a real HTTP server the test starts on 127.0.0.1, BUSY_CALENDAR_ALLOW_PRIVATE on);
it is fetched at once ("Senast hämtad"); her week then shows the busy time as a grey band
("Upptagen"), the open slot over it is marked as closed to clients, and "Hämta nu" fetches
again. A broken feed shows its message and keeps the band. At a phone's width (375 px)."""

import http.server
import threading
from datetime import UTC, timedelta

import pytest
from playwright.sync_api import expect

from domain.models import BusyTime
from domain.services import slot_create
from therapist_pages.colours import BUSY
from therapist_pages.tests.test_calendar_browser import (  # noqa: F401 (fixtures)
    calendar,
    event,
    local,
    monday,
    rgb,
    settled,
)
from tidbok.tests.test_every_page import AXE, AXE_RUN

pytestmark = pytest.mark.browser



def ics(start, end) -> bytes:
    fmt = "%Y%m%dT%H%M%SZ"
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tidbok tests//busy//SV\r\nBEGIN:VEVENT\r\n"
        f"UID:busy-browser@tidbok.test\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Styrelsemöte\r\n"
        f"DTSTART:{start.astimezone(UTC).strftime(fmt)}\r\nDTEND:{end.astimezone(UTC).strftime(fmt)}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


@pytest.fixture
def feed(settings):
    settings.BUSY_CALENDAR_ALLOW_PRIVATE = True
    served = {"body": b""}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = served["body"]
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    served["url"] = f"http://127.0.0.1:{httpd.server_address[1]}/hemlig/basic.ics"
    yield served
    httpd.shutdown()
    httpd.server_close()


def test_connecting_a_calendar_shows_the_grey_busy_band(calendar, anna, monday, feed, page, live_server):  # noqa: F811
    busy_from, busy_to = local(monday, "10:00"), local(monday, "11:30")
    feed["body"] = ics(busy_from, busy_to)
    covered = slot_create(therapist=anna, actor=anna.user, start=local(monday, "10:30"))
    free = slot_create(therapist=anna, actor=anna.user, start=local(monday, "13:00"))
    page.set_viewport_size({"width": 375, "height": 800})
    page.add_init_script(path=str(AXE))  # before any page: the CSP allows no inline script

    calendar()
    page.goto(live_server.url + "/kalender/installningar/")
    address = page.get_by_label("Adress till din andra kalender (iCalendar)")
    address.focus()
    expect(address).to_be_focused()
    page.keyboard.type(feed["url"])
    page.keyboard.press("Tab")
    expect(page.get_by_label("Visa händelsernas rubriker i min vecka (annars bara ”Upptagen”)")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Spara kalender")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator(".messages")).to_contain_text("Din andra kalender är sparad.")
    expect(page.locator("#busy-status")).to_contain_text("Senast hämtad")
    expect(page.locator("#busy-error")).to_have_count(0)
    assert [(b.start_at, b.end_at) for b in BusyTime.objects.filter(therapist=anna)] == [(busy_from, busy_to)]
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing runs off a phone

    # Her week: the grey band says "Upptagen" (no title: she did not choose titles), and the
    # open slot over it is marked as closed to clients; the other slot is not.
    page.goto(f"{live_server.url}/kalender/?datum={monday.isoformat()}")
    settled(page)
    band = page.locator("#calendar [data-busy=true]")
    expect(band).to_have_count(1)
    expect(band).to_contain_text("Upptagen")
    expect(band).not_to_contain_text("Styrelsemöte")
    expect(band).to_have_css("background-color", rgb(BUSY.background))
    expect(event(page, covered)).to_have_attribute("data-bookable-by-clients", "false")
    expect(event(page, free)).to_have_attribute("data-bookable-by-clients", "true")
    expect(page.locator(".legend li.legend-busy")).to_contain_text("Upptagen i din andra kalender")

    # A broken feed: "Hämta nu" says why, and the band stays.
    feed["body"] = b"<html>Logga in</html>"
    page.goto(live_server.url + "/kalender/installningar/")
    page.get_by_role("button", name="Hämta nu").click()
    expect(page.locator("#busy-error")).to_contain_text("Adressen gav ingen kalender som gick att läsa")
    assert BusyTime.objects.filter(therapist=anna).count() == 1
    # The section in every state (connected, fetched, its error) passes axe-core at 375 px.
    assert page.evaluate("typeof axe") == "object"
    assert page.evaluate(AXE_RUN) == []

    # Titles, when she chooses them.
    page.get_by_label("Visa händelsernas rubriker i min vecka (annars bara ”Upptagen”)").check()
    page.get_by_role("button", name="Spara kalender").click()
    page.goto(f"{live_server.url}/kalender/?datum={monday.isoformat()}")
    settled(page)
    expect(page.locator("#calendar [data-busy=true]")).to_contain_text("Upptagen: Styrelsemöte")
    assert busy_to - busy_from == timedelta(minutes=90)
