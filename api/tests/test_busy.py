"""R38 through the API: settings `busy_calendar_url`/`busy_show_titles` (with `busy_synced_at`,
`busy_error` read-only), GET /therapist/busy, POST /therapist/busy/fetch (against a real HTTP
server started here), the calendar's `busy` mark, open slots hidden from clients and booking
refused with 409 slot_busy while the therapist may still book. Both databases."""

import http.server
import threading
from pathlib import Path

import pytest

from api.tests.helpers import assert_conflict, assert_invalid, local_iso, slot_for
from conftest import at, connected
from domain.models import AuditEntry, BusyTime

pytestmark = pytest.mark.usefixtures("now")  # Monday 2027-01-11 08:00

ICS = (Path(__file__).parents[2] / "domain" / "tests" / "ical" / "busy" / "new_york.ics").read_bytes()


def busy(therapist, start, end, title="Tandläkare"):
    connected(therapist)
    return BusyTime.objects.create(therapist=therapist, start_at=at(start), end_at=at(end), title=title)


@pytest.fixture(autouse=True)
def english(anna, bo):
    """The fetch keeps its message in the therapist's language: these tests read English (the
    Swedish ones are in the .po file, checked by po-fill; the browser test reads Swedish)."""
    from domain.models import User

    User.objects.update(language="en")


@pytest.fixture
def ics_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(ICS)))
            self.end_headers()
            self.wfile.write(ICS)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/cal.ics"
    httpd.shutdown()
    httpd.server_close()


def test_settings_show_and_set_the_address(anna, anna_api):
    body = anna_api.get("/therapist/settings").json()
    assert (body["busy_calendar_url"], body["busy_show_titles"], body["busy_synced_at"], body["busy_error"]) == (
        "", False, None, "")
    response = anna_api.patch("/therapist/settings", {"busy_calendar_url": "https://calendar.example.com/x/basic.ics",
                                                      "busy_show_titles": True, "default_price": 1100})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["busy_calendar_url"] == "https://calendar.example.com/x/basic.ics"
    assert body["busy_show_titles"] is True and body["default_price"] == 1100
    assert AuditEntry.objects.filter(action="therapist.busy_calendar").count() == 1


def test_a_bad_address_is_422_and_nothing_is_saved(anna, anna_api):
    for bad in ["ftp://example.com/a.ics", "not an address", "file:///etc/passwd", "https://a\x00b.se/x.ics",
                "https://example.com/\x07.ics", "http://:80/x", "https://example.com:99999/x", "x" * 2001, 12, []]:
        response = anna_api.patch("/therapist/settings", {"busy_calendar_url": bad, "default_price": 1234})
        assert_invalid(response, "busy_calendar_url")
    anna.refresh_from_db()
    assert anna.busy_calendar_url == "" and anna.default_price != 1234


def test_busy_synced_at_is_read_only(anna, anna_api):
    anna_api.patch("/therapist/settings", {"busy_synced_at": "2027-01-01T00:00:00+01:00"})
    anna.refresh_from_db()
    assert anna.busy_synced_at is None


def test_fetch_now_and_list(anna, anna_api, ics_server, settings):
    settings.BUSY_CALENDAR_ALLOW_PRIVATE = True
    anna_api.patch("/therapist/settings", {"busy_calendar_url": ics_server})
    # The feed's events lie in March 2026; the window kept is around now (January 2027): none.
    response = anna_api.post("/therapist/busy/fetch", {})
    assert response.status_code == 200, response.content
    assert response.json()["result"] == "ok" and response.json()["busy_error"] == ""
    assert anna_api.get("/therapist/settings").json()["busy_synced_at"] is not None
    busy(anna, "2027-01-12 09:00", "2027-01-12 10:00")
    busy(anna, "2027-01-13 00:00", "2027-01-14 00:00", title="Kurs")
    busy(anna, "2027-01-14 00:00", "2027-01-15 00:00", title="Kurs")  # two pieces of one event
    got = anna_api.get("/therapist/busy", **{"start": "2027-01-11T00:00:00+01:00", "end": "2027-01-18T00:00:00+01:00"})
    assert got.status_code == 200, got.content
    assert got.json() == [
        {"start": local_iso("2027-01-12 09:00"), "end": local_iso("2027-01-12 10:00"), "title": None},
        {"start": local_iso("2027-01-13 00:00"), "end": local_iso("2027-01-15 00:00"), "title": None},
    ]
    anna_api.patch("/therapist/settings", {"busy_show_titles": True})
    got = anna_api.get("/therapist/busy", **{"start": "2027-01-11T00:00:00+01:00", "end": "2027-01-18T00:00:00+01:00"})
    assert [b["title"] for b in got.json()] == ["Tandläkare", "Kurs"]


def test_fetch_now_refuses_loopback_by_default(anna, anna_api, ics_server):
    anna_api.patch("/therapist/settings", {"busy_calendar_url": ics_server})
    body = anna_api.post("/therapist/busy/fetch", {}).json()
    assert body["result"] == "failed" and "private network" in body["busy_error"]


def test_busy_is_hers_only(anna, bo, anna_api, bo_api):
    busy(anna, "2027-01-12 09:00", "2027-01-12 10:00")
    assert bo_api.get("/therapist/busy", **{"start": "2027-01-11T00:00:00+01:00"}).json() == []


def test_clients_do_not_see_busy_slots_and_cannot_book_them(anna, erik, anna_api, erik_api):
    free = slot_for(anna, "2027-01-12 11:00")
    taken = slot_for(anna, "2027-01-12 09:00")
    busy(anna, "2027-01-12 09:30", "2027-01-12 10:30")
    shown = [s["id"] for s in erik_api.get(f"/therapists/{anna.pk}/slots").json()]
    assert shown == [free.pk]
    assert_conflict(erik_api.post(f"/slots/{taken.pk}/book", {"mode": "video"}), "slot_busy")
    # The therapist sees it marked, and may book it herself.
    entries = {e["id"]: e for e in anna_api.get("/therapist/calendar", **{"start": "2027-01-11T00:00:00+01:00"}).json()}
    assert entries[taken.pk]["busy"] is True and entries[taken.pk]["bookable_by_clients"] is False
    assert entries[free.pk]["busy"] is False and entries[free.pk]["bookable_by_clients"] is True
    response = anna_api.post(f"/therapist/slots/{taken.pk}/booking", {"client_id": erik.pk, "mode": "video"})
    assert response.status_code in (200, 201), response.content


def test_a_slot_made_or_moved_over_a_busy_time_says_so(anna, anna_api):
    busy(anna, "2027-01-12 09:30", "2027-01-12 10:30")
    made = anna_api.post("/therapist/slots", {"start": "2027-01-12T09:00:00+01:00"}).json()
    assert (made["busy"], made["bookable_by_clients"]) == (True, False)
    moved = anna_api.patch(f"/therapist/slots/{made['id']}", {"start": "2027-01-12T13:00:00+01:00"}).json()
    assert (moved["busy"], moved["bookable_by_clients"]) == (False, True)
