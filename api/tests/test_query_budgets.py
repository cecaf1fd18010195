"""Query budgets: no API endpoint's number of SQL queries grows with the rows it answers.

Each listing endpoint is asked once with 1 row to return and once with 20; the two counts
must be equal (an N+1 shows as 20 more). Endpoints that answer one object have a fixed
budget, so a new query in them is a decision someone made, not an accident."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.tests.helpers import booked, self_booked, slot_for
from conftest import pnr

pytestmark = pytest.mark.usefixtures("now")

WEEK = {"start": "2027-01-11T00:00:00+01:00", "end": "2027-01-18T00:00:00+01:00"}


def count(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code < 300, (response.status_code, response.content)
    return len(queries), response


def slots_in_week(therapist, n: int, start_day: int = 12):
    """n slots from Tuesday 2027-01-12 on, one an hour from 08:00, five a day."""
    return [
        slot_for(therapist, f"2027-01-{start_day + i // 5:02d} {8 + i % 5:02d}:00") for i in range(n)
    ]


def rows_and_queries(api, path, **params):
    api.get(path, **params)  # the token's first use writes its last_used_at: not a row cost
    n, response = count(lambda: api.get(path, **params))
    return len(response.json()), n


# Endpoints that answer lists: 1 row vs 20 rows ----------------------------------------------
def test_the_calendar_costs_the_same_for_one_slot_and_twenty_booked_ones(anna, anna_api, make_client):
    slot = slots_in_week(anna, 1)[0]
    booked(slot, make_client(therapist=anna))
    one = rows_and_queries(anna_api, "/therapist/calendar", **WEEK)

    for i, s in enumerate(slots_in_week(anna, 20, start_day=13)):
        if i % 2:
            booked(s, make_client(first=f"K{i}", therapist=anna))
    twenty_one = rows_and_queries(anna_api, "/therapist/calendar", **WEEK)

    assert (one[0], twenty_one[0]) == (1, 21)
    assert one[1] == twenty_one[1], (one, twenty_one)


def test_the_client_search_costs_the_same_for_one_client_and_twenty(anna, anna_api, make_client):
    make_client(first="Ella", therapist=anna)
    one = rows_and_queries(anna_api, "/therapist/clients")
    for i in range(19):
        make_client(first=f"Elsa{i}", therapist=anna)
    twenty = rows_and_queries(anna_api, "/therapist/clients")

    assert (one[0], twenty[0]) == (1, 20)
    assert one[1] == twenty[1]


def test_the_listing_costs_the_same_for_one_therapist_and_twenty(anon_api, make_therapist):
    t = make_therapist()
    slot_for(t, "2027-01-12 09:00")
    one = rows_and_queries(anon_api, "/therapists")
    for i in range(19):
        other = make_therapist(email=f"t{i}@example.se", first=f"T{i}")
        slot_for(other, "2027-01-12 10:00")
    twenty = rows_and_queries(anon_api, "/therapists")
    twenty_video = rows_and_queries(anon_api, "/therapists", mode="video")

    assert (one[0], twenty[0], twenty_video[0]) == (1, 20, 20)
    assert one[1] == twenty[1] == twenty_video[1]


def test_a_page_of_the_listing_costs_the_same_whatever_the_listings_size(anon_api, make_therapist):
    """R9 at scale: a page costs what it holds; the listing beyond it costs nothing (`Listing`)."""
    slot_for(make_therapist(), "2027-01-12 09:00")
    one = rows_and_queries(anon_api, "/therapists", limit=2)
    for i in range(6):
        slot_for(make_therapist(email=f"t{i}@example.se", first=f"T{i}"), f"2027-01-12 {10 + i}:00")
    first = rows_and_queries(anon_api, "/therapists", limit=2)
    cursor = anon_api.get("/therapists", limit=2)["X-Next-Cursor"]
    middle = rows_and_queries(anon_api, "/therapists", limit=2, cursor=cursor)

    assert (one[0], first[0], middle[0]) == (1, 2, 2)
    assert one[1] == first[1] == middle[1]


@pytest.mark.parametrize("viewer", ["anon_api", "nora_api", "erik_api"])
def test_a_therapists_open_slots_cost_the_same_for_one_and_twenty(viewer, request, anna):
    api = request.getfixturevalue(viewer)
    slots_in_week(anna, 1)
    one = rows_and_queries(api, f"/therapists/{anna.pk}/slots")
    slots_in_week(anna, 20, start_day=13)
    twenty = rows_and_queries(api, f"/therapists/{anna.pk}/slots")

    assert (one[0], twenty[0]) == (1, 21)
    assert one[1] == twenty[1]
    # One statement of plain values (issue 15), after the token's read for a logged-in viewer.
    assert one[1] == (1 if viewer == "anon_api" else 2)


def test_no_open_slots_cost_the_checks_that_tell_empty_from_not_found(anna, erik_api):
    """An empty answer must still be told from a therapist who is missing or hidden (404): her
    row (and R9's list check, were she not in Client Booster) follows the empty read, only then.
    With a window, her row comes first (the window's defaults are in her zone), once."""
    assert rows_and_queries(erik_api, f"/therapists/{anna.pk}/slots") == (0, 3)
    assert rows_and_queries(erik_api, f"/therapists/{anna.pk}/slots", start="2027-01-12T00:00:00+01:00") == (0, 3)


def test_a_clients_bookings_cost_the_same_for_one_and_twenty(anna, bo, erik, erik_api, make_therapist, settings):
    settings.MAX_OPEN_BOOKINGS_PER_THERAPIST = 20  # she books ten of Anna's slots herself
    booked(slot_for(anna, "2027-01-12 08:00"), erik)
    one = rows_and_queries(erik_api, "/client/bookings")
    therapists = [anna, make_therapist(email="c@example.se", first="Cecilia")]
    for i, s in enumerate(slots_in_week(anna, 10, start_day=13) + slots_in_week(therapists[1], 9)):
        self_booked(s, erik, mode="onsite" if i % 2 else "video")
    twenty = rows_and_queries(erik_api, "/client/bookings")

    assert (one[0], twenty[0]) == (1, 20)
    assert one[1] == twenty[1]


# Endpoints that answer one object: a fixed budget ------------------------------------------
# The numbers are what the code does today; raise one only with a reason.
# R9: every write that can move a therapist in the listing ends with its deferred foreign-key
# checks, her listing row's lock and its refresh (`services.listing`): three queries on
# PostgreSQL (one on SQLite) in
# slot_create/patch/delete, the bookings, cancel, move, series, series_cancel, time_off_create.
BUDGETS = {
    "health": 0,
    "me": 1,
    "settings_get": 1,
    "settings_patch": 5,
    "slot_create": 15,  # R36: whether the time lies in her time off (R38's busy mark: none without an address)
    "slot_patch": 17,  # R38's busy mark costs nothing without an address
    "slot_delete": 12,
    "client_add": 21,  # with the invitation mail; her row lock serialises her adds (R26)
    "therapist_book": 14,  # R39: the answer names the client, so one access record (one INSERT)
    "client_book": 18,  # with her therapist's note (R30): its outbox row and its task (R38: none without an address)
    "cancel": 20,  # the client's row lock, whether she stays on the list (hoarding), her therapist's note (R30)
    "video_link": 7,  # the booking through its owner, its row lock, the new key, the audit entry
    "token": 12,  # the throttle's two counters, counted before the check and cleared after (R28)
    "signup": 7,
    "logout": 2,
    "tokens": 2,
    "token_delete": 4,
    "privacy_policy": 0,
    "client_export": 8,  # account, profile, lists, bookings, mails, tokens, wait lists (R37): one query each
    "erase_refused": 4,  # a wrong password: the throttle's count before the check
    "move": 22,  # R33: both slots' locks, her row's, the booking's; the target, the update, audit, two mails, R36
    "outcome": 10,  # R34: the booking through her, its row lock, the change, the audit entry, the answer, R39
    # R32, 10 weeks: the preview is two reads (her slots at the weeks' times, her time off)
    # whatever the weeks; booking them checks all weeks at once and inserts each kind once.
    "series_preview": 4,
    "series": 31,  # the same for 2 weeks or 52: the slots, bookings and audit entries in one insert each
    "series_cancel": 69,  # six bookings, each by booking_cancel's rules (about 10 each, R36 one), one mail
    "time_off_list": 2,
    # R36, one slot and one booking inside: the locks, the reads after them, the row, the audit entries, R39
    "time_off_create": 18,
    "time_off_delete": 7,
    # R37: the token, the therapist she may join, her row lock, the entry read, its insert in a
    # savepoint (two tabs at once), the audit entry, the answer with the therapist's name
    "waitlist_join": 11,
    "waitlist_leave": 7,  # the token, the entry under its lock, the audit entry, its notices and itself
    "client_waitlist": 2,
    # R38: her busy times in the window (one read); the fetch: her row, then (a good feed) the
    # lock, the delete, one insert of all rows, the update, and the answer's row.
    "busy_list": 2,
    "busy_fetch": 8,
}


def within(name, call):
    n, response = count(call)
    assert n <= BUDGETS[name], f"{name}: {n} queries, budget {BUDGETS[name]}"
    return response


def test_single_object_endpoints_stay_within_their_budgets(anna, anna_api, erik, erik_api, nora_api, anon_api):
    for api in (anna_api, erik_api, nora_api):
        api.get("/me")  # each token's first use writes its last_used_at once
    within("health", lambda: anon_api.get("/health"))
    within("me", lambda: anna_api.get("/me"))
    within("settings_get", lambda: anna_api.get("/therapist/settings"))
    within("settings_patch", lambda: anna_api.patch("/therapist/settings", {"default_price": 1100}))
    slot = within("slot_create", lambda: anna_api.post("/therapist/slots", {"start": "2027-01-12T09:00:00+01:00"}))
    slot_id = slot.json()["id"]
    within("slot_patch", lambda: anna_api.patch(f"/therapist/slots/{slot_id}", {"price": 900}))
    within("slot_delete", lambda: anna_api.delete(f"/therapist/slots/{slot_id}"))
    within("client_add", lambda: anna_api.post("/therapist/clients", {
        "first_name": "Ylva", "last_name": "Ek", "personnummer": pnr("19800101"), "email": "ylva@example.se"}))
    s1 = slot_for(anna, "2027-01-13 09:00")
    within("therapist_book", lambda: anna_api.post(f"/therapist/slots/{s1.pk}/booking",
                                                   {"client_id": erik.pk, "mode": "video"}))
    s2 = slot_for(anna, "2027-01-14 09:00")
    booking = within("client_book", lambda: nora_api.post(f"/slots/{s2.pk}/book", {"mode": "video"}))
    s3 = slot_for(anna, "2027-01-15 09:00")
    video = nora_api.post(f"/slots/{s3.pk}/book", {"mode": "video"}).json()
    within("video_link", lambda: nora_api.post(f"/bookings/{video['id']}/video-link"))
    within("cancel", lambda: nora_api.post(f"/bookings/{booking.json()['id']}/cancel"))
    within("token", lambda: anon_api.post("/auth/token", {"email": "anna@example.se",
                                                          "password": "correct horse battery"}))
    within("signup", lambda: anon_api.post("/auth/signup", {
        "role": "therapist", "email": "new@example.se", "password": "a long enough pass phrase",
        "first_name": "Ny", "last_name": "Terapeut"}))
    within("tokens", lambda: anna_api.get("/auth/tokens"))
    from domain.models import ApiToken

    spare = ApiToken.objects.create(user=anna.user, key_hash="s" * 64)
    within("token_delete", lambda: anna_api.delete(f"/auth/tokens/{spare.pk}"))
    within("logout", lambda: nora_api.delete("/auth/token"))
    within("privacy_policy", lambda: anon_api.get("/privacy-policy"))
    within("client_export", lambda: erik_api.get("/client/export"))
    with CaptureQueriesContext(connection) as queries:
        response = erik_api._call("delete", "/me", {"password": "wrong"})
    assert response.status_code == 400 and len(queries) <= BUDGETS["erase_refused"], len(queries)


def test_recording_an_outcome_stays_within_its_budget(anna, anna_api, erik, now):
    from conftest import at

    visit = booked(slot_for(anna, "2027-01-11 09:00"), erik)
    anna_api.get("/me")  # the token's first use writes its last_used_at once
    now.move_to(at("2027-01-11 09:30"))
    within("outcome", lambda: anna_api.post(f"/therapist/bookings/{visit.pk}/outcome", {"outcome": "attended"}))


def test_a_series_stays_within_its_budget(anna, anna_api, erik, now):
    body = {"client_id": erik.pk, "start": "2027-01-18T10:00:00+01:00", "mode": "video", "weeks": 10}
    anna_api.get("/me")  # the token's first use writes its last_used_at once
    slot_for(anna, "2027-02-01 10:00")  # one week books her open slot, the others make one each
    within("series_preview", lambda: anna_api.post("/therapist/series/preview", body))
    series = within("series", lambda: anna_api.post("/therapist/series", body)).json()
    within("series_cancel", lambda: anna_api.post(f"/therapist/series/{series['id']}/cancel", {"from": "2027-02-15"}))
    # Twenty weeks cost what ten do (R32: its slots, bookings and audit entries are one insert each).
    longer = {**body, "start": "2027-06-07T10:00:00+02:00", "weeks": 20}
    slot_for(anna, "2027-06-21 10:00")
    n, response = count(lambda: anna_api.post("/therapist/series", longer))
    assert response.status_code == 201 and len(response.json()["bookings"]) == 20
    assert n <= BUDGETS["series"], n


def test_moving_a_booking_stays_within_its_budget(anna, erik, erik_api):
    from api.tests.helpers import self_booked

    booking = self_booked(slot_for(anna, "2027-01-13 09:00"), erik)
    target = slot_for(anna, "2027-01-14 09:00")
    erik_api.get("/me")  # the token's first use writes its last_used_at once
    response = within("move", lambda: erik_api.post(f"/bookings/{booking.pk}/move", {"slot_id": target.pk}))
    assert response.json()["slot_id"] == target.pk


def test_time_off_costs_the_same_for_one_slot_and_booking_and_twenty(anna, anna_api, make_client):
    """R36: the slots it removes and the bookings inside it are read, audited and removed in a
    fixed number of statements."""
    from datetime import date

    from domain.services import time_off_create

    anna_api.get("/me")  # the token's first use writes its last_used_at once
    counts = {}
    for n, day, last in ((1, 12, 17), (20, 19, 28)):
        for i, s in enumerate(slots_in_week(anna, 2 * n, start_day=day)):
            if i % 2:
                booked(s, make_client(first=f"K{day}{i}", therapist=anna))
        body = {"start": date(2027, 1, day).isoformat(), "end": date(2027, 1, last).isoformat()}
        counts[n], response = count(lambda b=body: anna_api.post("/therapist/time-off", b))
        assert response.json()["removed_slots"] == n and len(response.json()["bookings_inside"]) == n
    assert counts[20] == counts[1], counts  # the removed slots' audit entries are one insert
    assert counts[1] <= BUDGETS["time_off_create"], counts
    anna_api.get("/therapist/time-off")
    within("time_off_list", lambda: anna_api.get("/therapist/time-off"))
    spare = time_off_create(therapist=anna, start=date(2027, 3, 1), end=date(2027, 3, 1), actor=None)[0]
    within("time_off_delete", lambda: anna_api.delete(f"/therapist/time-off/{spare.pk}"))
    within("busy_list", lambda: anna_api.get("/therapist/busy"))
    within("busy_fetch", lambda: anna_api.post("/therapist/busy/fetch"))  # no address: nothing fetched


def test_the_wait_list_stays_within_its_budgets(anna, nora_api):
    nora_api.get("/me")  # the token's first use writes its last_used_at once
    within("waitlist_join", lambda: nora_api.post(f"/therapists/{anna.pk}/waitlist", {"weekdays": [1]}))
    within("waitlist_join", lambda: nora_api.post(f"/therapists/{anna.pk}/waitlist", {"weekdays": [2]}))
    within("client_waitlist", lambda: nora_api.get("/client/waitlist"))
    within("waitlist_leave", lambda: nora_api.delete(f"/therapists/{anna.pk}/waitlist"))


def test_the_exports_cost_the_same_for_one_booking_and_twenty(anna, anna_api, make_client):
    from domain.models import Client

    booked(slots_in_week(anna, 1)[0], make_client(therapist=anna))
    counts = {}
    for fmt in ("json", "csv"):
        anna_api.get("/therapist/export", format=fmt)
        counts[fmt, 1] = count(lambda fmt=fmt: anna_api.get("/therapist/export", format=fmt))[0]
    for i, s in enumerate(slots_in_week(anna, 20, start_day=13)):
        booked(s, make_client(first=f"K{i}", therapist=anna))
    make_client(first="Utan", therapist=anna)  # a client without a booking: a row of her own
    for fmt in ("json", "csv"):
        counts[fmt, 21] = count(lambda fmt=fmt: anna_api.get("/therapist/export", format=fmt))[0]
    assert counts["json", 1] == counts["json", 21] and counts["csv", 1] == counts["csv", 21], counts
    assert Client.objects.count() == 22


def test_every_endpoint_of_the_openapi_document_has_a_budget(client, db):
    """A new endpoint needs a line here (and in the authorisation matrix)."""
    document = json.loads(client.get("/api/v1/openapi.json").content)
    covered = {
        ("get", "/health"), ("get", "/me"), ("get", "/therapist/settings"), ("patch", "/therapist/settings"),
        ("get", "/therapist/calendar"), ("post", "/therapist/slots"), ("patch", "/therapist/slots/{}"),
        ("delete", "/therapist/slots/{}"), ("get", "/therapist/clients"), ("post", "/therapist/clients"),
        ("post", "/therapist/slots/{}/booking"), ("get", "/therapists"), ("get", "/therapists/{}/slots"),
        ("post", "/slots/{}/book"), ("get", "/client/bookings"), ("post", "/bookings/{}/cancel"),
        ("post", "/bookings/{}/video-link"), ("get", "/client/access-log"),
        ("post", "/auth/token"), ("post", "/auth/signup"), ("delete", "/auth/token"), ("get", "/auth/tokens"),
        ("delete", "/auth/tokens/{}"), ("post", "/therapist/bookings/{}/outcome"), ("post", "/bookings/{}/move"),
        ("post", "/therapist/series"), ("post", "/therapist/series/preview"), ("post", "/therapist/series/{}/cancel"),
        ("get", "/privacy-policy"),
        ("get", "/therapist/time-off"), ("post", "/therapist/time-off"), ("delete", "/therapist/time-off/{}"),
        ("get", "/therapist/busy"), ("post", "/therapist/busy/fetch"),
        ("get", "/client/export"), ("get", "/therapist/export"), ("delete", "/me"),
        ("post", "/therapists/{}/waitlist"), ("delete", "/therapists/{}/waitlist"), ("get", "/client/waitlist"),
    }
    served = {
        (method, re.sub(r"\{[^}]+\}", "{}", path.removeprefix("/api/v1")))
        for path, item in document["paths"].items()
        for method in item
    }
    assert served - covered == set(), "endpoints without a query budget"


def test_a_bearer_token_brings_its_profile_in_the_same_query(anna_api, erik_api):
    """`/me` and every role check read the profile the token query already joined."""
    anna_api.get("/me"), erik_api.get("/me")
    assert count(lambda: anna_api.get("/me"))[0] == 1
    assert count(lambda: erik_api.get("/me"))[0] == 1


