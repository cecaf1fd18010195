"""R39, done when: a therapist opens a client's page, searches, reads the calendar → the
client's access log shows exactly those reads, and nothing of her own; on SQLite and on
PostgreSQL (`DATABASE_URL`). And her page "Vem har läst mina uppgifter" in Chromium."""

from datetime import timedelta

import pytest
from django.test import Client as HttpClient

from api.tests.helpers import booked, slot_for
from conftest import api_for
from domain.models import AccessRecord, User
from domain.services.access_log import record_reads

pytestmark = pytest.mark.usefixtures("now")

WEEK = {"start": "2027-01-11T00:00:00+01:00", "end": "2027-01-18T00:00:00+01:00"}


def browser(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def test_the_clients_log_shows_exactly_the_therapists_reads_and_none_of_her_own(anna, erik, make_client, now):
    ella = make_client(first="Ella", therapist=anna)
    booked(slot_for(anna, "2027-01-12 09:00"), erik)
    booked(slot_for(anna, "2027-01-13 09:00"), ella)
    anna_web, erik_web, erik_api = browser(anna.user), browser(erik.user), api_for(erik.user)

    # Her own reads first: her bookings, a booking, her log itself, by page and by API.
    assert erik_web.get("/mina-bokningar/").status_code == 200
    assert erik_web.get("/vem-har-last-mina-uppgifter/").status_code == 200
    assert erik_api.get("/client/bookings").status_code == 200
    assert erik_api.get("/client/access-log").json() == []

    assert anna_web.get(f"/kalender/klienter/{erik.pk}/").status_code == 200
    now.shift(timedelta(minutes=1))
    assert anna_web.get("/kalender/klienter/", {"q": "eri"}).status_code == 200
    now.shift(timedelta(minutes=1))
    assert anna_web.get("/api/v1/therapist/calendar", WEEK).status_code == 200
    now.shift(timedelta(minutes=1))
    assert erik_web.get("/mina-bokningar/").status_code == 200  # her own, again

    assert erik_api.get("/client/access-log").json() == [
        {"at": "2027-01-11T08:02:00+01:00", "who": {"role": "therapist", "name": "Anna Andersson"},
         "what": "Kalendern, via webbsidorna"},
        {"at": "2027-01-11T08:01:00+01:00", "who": {"role": "therapist", "name": "Anna Andersson"},
         "what": "En sökning i klientlistan, via webbsidorna"},
        {"at": "2027-01-11T08:00:00+01:00", "who": {"role": "therapist", "name": "Anna Andersson"},
         "what": "Din sida i klientlistan, via webbsidorna"},
    ]
    page = erik_web.get("/vem-har-last-mina-uppgifter/").content.decode()
    assert page.count("Anna Andersson") == 3
    assert page.index("Kalendern") < page.index("En sökning i klientlistan") < page.index("Din sida i klientlistan")
    # Ella was read by the calendar only (the search for "eri" did not find her).
    assert list(AccessRecord.objects.filter(client_id=ella.pk).values_list("what", flat=True)) == ["calendar"]


def test_the_page_needs_a_client(anna, db):
    assert HttpClient().get("/vem-har-last-mina-uppgifter/").status_code == 302  # to the log-in
    assert browser(anna.user).get("/vem-har-last-mina-uppgifter/").status_code == 404


def test_the_page_pages_fifty_at_a_time_newest_first(anna, erik, now):
    for i in range(120):
        record_reads(actor=anna.user, clients=[erik], what="calendar", surface="api",
                     at=anna.created_at + timedelta(minutes=i))
    web = browser(erik.user)

    first = web.get("/vem-har-last-mina-uppgifter/")
    last = web.get("/vem-har-last-mina-uppgifter/", {"sida": 3})
    beyond = web.get("/vem-har-last-mina-uppgifter/", {"sida": "x"})

    assert first.context["page"].number == 1 and len(first.context["lines"]) == 50
    assert first.context["lines"][0]["at"] > first.context["lines"][-1]["at"]
    assert "Sida 1 av 3" in first.content.decode() and 'rel="next"' in first.content.decode()
    assert len(last.context["lines"]) == 20 and 'rel="prev"' in last.content.decode()
    assert beyond.status_code == 200 and beyond.context["page"].number == 1


def test_her_pages_link_to_it(erik):
    web = browser(erik.user)
    for path in ("/mina-bokningar/", "/konto/"):
        assert 'href="/vem-har-last-mina-uppgifter/"' in web.get(path).content.decode(), path


# In Chromium ---------------------------------------------------------------------------------


def test_she_finds_who_read_her_data_from_her_bookings(anna, erik, live_server, page, login_as):
    staff = User.objects.create_superuser(email="staff@example.se", password="a long staff passphrase",
                                          first_name="Stina", last_name="Svensson")
    record_reads(actor=anna.user, clients=[erik], what="client_page", surface="page")
    record_reads(actor=staff, clients=[erik], what="admin_page", surface="admin",
                 at=anna.created_at + timedelta(minutes=5))
    login_as(erik.user)

    page.goto(f"{live_server.url}/mina-bokningar/")
    page.get_by_role("link", name="Vem har läst mina uppgifter").click()

    page.get_by_role("heading", name="Vem har läst mina uppgifter").wait_for()
    items = page.locator("ol.access-log > li")
    assert items.count() == 2
    assert "Tidboks personal" in items.nth(0).inner_text()
    assert "En post i administrationen, via administrationen" in items.nth(0).inner_text()
    assert "Anna Andersson" in items.nth(1).inner_text() and "terapeut" in items.nth(1).inner_text()
    assert "Din sida i klientlistan, via webbsidorna" in items.nth(1).inner_text()
    assert "Svensson" not in page.content()
