"""R39 through the API: every answer that carries a client's data to her therapist writes one
access record per client (one INSERT), and `GET /client/access-log` shows the client who read
hers (docs/api.md, "Personal data")."""

from datetime import timedelta

import pytest
from django.test import Client as HttpClient

from api.tests.helpers import assert_invalid, booked, slot_for, statements
from conftest import Api, api_for
from domain.models import AccessRecord, User
from domain.services.access_log import record_reads

pytestmark = pytest.mark.usefixtures("now")

WEEK = {"start": "2027-01-11T00:00:00+01:00", "end": "2027-01-18T00:00:00+01:00"}


def log() -> list[tuple]:
    return list(AccessRecord.objects.order_by("id").values_list("actor_id", "role", "client_id", "what", "surface"))


def access_inserts(sql: list[str]) -> list[str]:
    return [q for q in sql if "accessrecord" in q]


def test_the_calendar_logs_each_booked_client_once_in_one_insert(anna, anna_api, make_client, erik):
    clients = [make_client(first=f"K{i}", therapist=anna) for i in range(20)]
    for i, client in enumerate(clients):
        booked(slot_for(anna, f"2027-01-{12 + i // 5:02d} {8 + i % 5:02d}:00"), client)
        booked(slot_for(anna, f"2027-01-{12 + i // 5:02d} {14 + i % 5:02d}:00"), client)  # twice in the week
    slot_for(anna, "2027-01-17 09:00")  # open: nobody's data
    anna_api.get("/me")  # the token's first use stamps it

    with statements() as sql:
        response = anna_api.get("/therapist/calendar", **WEEK)

    assert response.status_code == 200 and len(response.json()) == 41
    assert len(access_inserts(sql)) == 1 and access_inserts(sql)[0].startswith("INSERT")
    rows = AccessRecord.objects.all()
    assert len(rows) == 20
    assert sorted(r.client_id for r in rows) == sorted(c.pk for c in clients)
    assert {(r.actor_id, r.role, r.what, r.surface) for r in rows} == {(anna.user.pk, "therapist", "calendar", "api")}
    assert not AccessRecord.objects.filter(client_id=erik.pk).exists()  # not in the week: not read


def test_an_empty_week_writes_nothing(anna, anna_api):
    slot_for(anna, "2027-01-12 09:00")
    anna_api.get("/me")
    with statements() as sql:
        assert anna_api.get("/therapist/calendar", **WEEK).status_code == 200
    assert access_inserts(sql) == [] and log() == []


def test_the_calendar_read_by_the_browser_is_logged_as_the_web_pages(anna, erik):
    booked(slot_for(anna, "2027-01-12 09:00"), erik)
    browser = HttpClient()
    browser.force_login(anna.user)

    assert browser.get("/api/v1/therapist/calendar", WEEK).status_code == 200

    assert log() == [(anna.user.pk, "therapist", erik.pk, "calendar", "page")]


def test_the_client_list_and_a_search_are_logged_for_the_clients_answered(anna, anna_api, erik, make_client, bo):
    ella = make_client(first="Ella", therapist=anna)
    olle = make_client(first="Olle", therapist=bo)

    assert len(anna_api.get("/therapist/clients").json()) == 2
    assert [c["id"] for c in anna_api.get("/therapist/clients", q="el").json()] == [ella.pk]
    assert anna_api.get("/therapist/clients", q="zz").json() == []

    a = anna.user.pk
    assert sorted(log()) == sorted([
        (a, "therapist", erik.pk, "client_list", "api"), (a, "therapist", ella.pk, "client_list", "api"),
        (a, "therapist", ella.pk, "search", "api"),
    ])
    assert not AccessRecord.objects.filter(client_id=olle.pk).exists()


def test_a_booked_slots_answer_to_a_change_is_logged(anna, anna_api, erik):
    slot = booked(slot_for(anna, "2027-01-12 09:00"), erik).slot
    open_slot = slot_for(anna, "2027-01-13 09:00")

    assert anna_api.patch(f"/therapist/slots/{slot.pk}", {"price": 900}).status_code == 200
    assert anna_api.patch(f"/therapist/slots/{open_slot.pk}", {"price": 900}).status_code == 200
    assert anna_api.post("/therapist/slots", {"start": "2027-01-14T09:00:00+01:00"}).status_code == 201

    assert log() == [(anna.user.pk, "therapist", erik.pk, "calendar", "api")]


def test_booking_and_cancelling_are_logged_for_her_therapist_not_for_the_client(anna, anna_api, erik, erik_api):
    slot = slot_for(anna, "2027-01-12 09:00")
    booking = anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": erik.pk, "mode": "video"}).json()
    assert log() == [(anna.user.pk, "therapist", erik.pk, "booking", "api")]

    assert anna_api.post(f"/bookings/{booking['id']}/cancel").status_code == 200
    assert len(log()) == 2 and log()[1][3] == "booking"

    own = erik_api.post(f"/slots/{slot_for(anna, '2027-01-13 09:00').pk}/book", {"mode": "video"}).json()
    assert erik_api.post(f"/bookings/{own['id']}/cancel").status_code == 200
    assert erik_api.get("/client/bookings").status_code == 200
    assert len(log()) == 2  # her own reads and writes: nothing


def test_her_own_reads_are_never_logged(erik, erik_api):
    for path in ("/me", "/client/bookings", "/client/access-log"):
        assert erik_api.get(path).status_code == 200
    assert log() == []


# GET /client/access-log ----------------------------------------------------------------------


def test_she_sees_who_read_what_newest_first(anna, anna_api, erik, erik_api, now):
    booked(slot_for(anna, "2027-01-12 09:00"), erik)
    anna_api.get("/therapist/clients", q="Er")
    now.shift(timedelta(minutes=5))
    anna_api.get("/therapist/calendar", **WEEK)

    body = erik_api.get("/client/access-log").json()

    assert body == [
        {"at": "2027-01-11T08:05:00+01:00", "who": {"role": "therapist", "name": "Anna Andersson"},
         "what": "Kalendern, via en app eller ett program (API:t)"},
        {"at": "2027-01-11T08:00:00+01:00", "who": {"role": "therapist", "name": "Anna Andersson"},
         "what": "En sökning i klientlistan, via en app eller ett program (API:t)"},
    ]


def test_what_is_said_in_the_language_asked_for(anna, erik, erik_api):
    record_reads(actor=anna.user, clients=[erik], what="client_page", surface="page")
    staff = User.objects.create_superuser(email="staff@example.se", password="a long staff passphrase",
                                          first_name="Stina", last_name="Personal")
    record_reads(actor=staff, clients=[erik], what="admin_page", surface="admin")
    english = erik_api.http.get("/api/v1/client/access-log", headers={**erik_api.headers, "Accept-Language": "en"})

    assert [(e["who"], e["what"]) for e in english.json()] == [
        ({"role": "staff", "name": "Tidbok staff"}, "A record in the administration, through the administration"),
        ({"role": "therapist", "name": "Anna Andersson"}, "Your page in the client list, through the web pages"),
    ]
    assert "Stina" not in english.content.decode()


def test_she_sees_only_her_own_log(anna, erik, nora, nora_api):
    record_reads(actor=anna.user, clients=[erik], what="client_page", surface="page")
    assert nora_api.get("/client/access-log").json() == []


def test_the_log_pages_with_limit_and_offset(anna, erik, erik_api, now):
    for _ in range(5):
        record_reads(actor=anna.user, clients=[erik], what="calendar", surface="api")
        now.shift(timedelta(minutes=1))
    whole = erik_api.get("/client/access-log").json()
    assert len(whole) == 5

    assert erik_api.get("/client/access-log", limit=2).json() == whole[:2]
    assert erik_api.get("/client/access-log", limit=2, offset=2).json() == whole[2:4]
    assert erik_api.get("/client/access-log", offset=9).json() == []


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"offset": -1}])
def test_a_bad_page_is_refused_naming_the_field(erik_api, params):
    assert_invalid(erik_api.get("/client/access-log", **params), next(iter(params)), statuses=(422,))


def test_only_a_client_has_an_access_log(anna_api):
    assert anna_api.get("/client/access-log").status_code == 403
    assert Api().get("/client/access-log").status_code == 401


def test_the_answer_costs_the_same_for_one_record_and_twenty(anna, bo, erik, erik_api):
    record_reads(actor=anna.user, clients=[erik], what="calendar", surface="api")
    erik_api.get("/client/access-log")
    with statements() as one:
        erik_api.get("/client/access-log")
    for i in range(19):
        record_reads(actor=(anna if i % 2 else bo).user, clients=[erik], what="calendar", surface="api")
    with statements() as twenty:
        assert len(erik_api.get("/client/access-log").json()) == 20
    assert len(one) == len(twenty) > 0


def test_a_therapist_token_reads_through_the_api_surface(anna, erik):
    booked(slot_for(anna, "2027-01-12 09:00"), erik)
    api_for(anna.user).get("/therapist/calendar", **WEEK)
    assert log()[-1][4] == "api"
