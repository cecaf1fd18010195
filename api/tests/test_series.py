"""POST /therapist/series, /therapist/series/preview and /therapist/series/{id}/cancel (R32):
a weekly series all or none, 409 series_conflict naming every refused week, field errors on
bad input, another therapist's series 404. Time is Monday 2027-01-11 08:00 in Stockholm."""

import pytest

from api.tests.helpers import assert_conflict, assert_invalid, assert_not_found, booked, slot_for
from conftest import at
from domain.models import Booking, BookingSeries, OutboundEmail, TimeOff

pytestmark = pytest.mark.usefixtures("now")

BODY = {"start": "2027-01-18T10:00:00+01:00", "mode": "video", "weeks": 10}


def body(client, **changes):
    return {**BODY, "client_id": client.pk, **changes}


def test_she_books_ten_weeks_and_gets_every_booking(anna_api, anna, erik):
    response = anna_api.post("/therapist/series", body(erik))

    assert response.status_code == 201, response.content
    answer = response.json()
    series = BookingSeries.objects.get()
    assert answer["id"] == series.pk and len(answer["bookings"]) == 10
    first = answer["bookings"][0]
    assert set(first) == {
        "id", "slot_id", "start", "end", "mode", "price", "status", "first_visit", "outcome", "series_id", "therapist",
        "client", "video_url", "reception_address", "personal_info",
    }
    assert first["start"] == "2027-01-18T10:00:00+01:00" and first["first_visit"] is True
    assert answer["bookings"][9]["start"] == "2027-03-22T10:00:00+01:00"
    assert {b["series_id"] for b in answer["bookings"]} == {series.pk}
    assert {b["client"]["id"] for b in answer["bookings"]} == {erik.pk}
    assert Booking.objects.filter(series=series, status="confirmed").count() == 10
    assert list(OutboundEmail.objects.values_list("kind", flat=True)) == ["series_booked"]
    # Each booking answers with its series afterwards too.
    assert anna_api.post(f"/bookings/{first['id']}/cancel").json()["series_id"] == series.pk


def test_a_collision_is_409_naming_the_weeks_and_nothing_is_booked(anna_api, anna, erik, make_client):
    other = make_client(first="Olle", therapist=anna)
    booked(slot_for(anna, "2027-03-01 10:00"), other)
    TimeOff.objects.create(therapist=anna, start_at=at("2027-02-01 00:00"), end_at=at("2027-02-02 00:00"))

    response = anna_api.post("/therapist/series", body(erik))

    assert response.status_code == 409, response.content
    answer = response.json()
    assert answer["code"] == "series_conflict" and answer["detail"]
    assert answer["dates"] == ["2027-02-01", "2027-03-01"]
    assert answer["conflicts"] == [
        {"date": "2027-02-01", "week": 3, "code": "time_off"}, {"date": "2027-03-01", "week": 7, "code": "slot_taken"},
    ]
    assert not BookingSeries.objects.exists() and Booking.objects.count() == 1


def test_the_preview_lists_every_week_and_writes_nothing(anna_api, anna, erik):
    slot_for(anna, "2027-01-25 10:00", modes=["onsite"])

    response = anna_api.post("/therapist/series/preview", body(erik, weeks=3))

    assert response.status_code == 200, response.content
    rows = response.json()
    assert [(r["week"], r["date"], r["ok"], r["code"]) for r in rows] == [
        (1, "2027-01-18", True, None), (2, "2027-01-25", False, "mode_not_offered"), (3, "2027-02-01", True, None),
    ]
    assert rows[0]["start"] == "2027-01-18T10:00:00+01:00" and rows[0]["end"] == "2027-01-18T10:45:00+01:00"
    assert isinstance(rows[1]["reason"], str) and rows[1]["reason"].strip()
    assert rows[0]["reason"] is None and rows[0]["price"] == 1000
    assert not Booking.objects.exists()


@pytest.mark.parametrize("weeks", [1, 53, 0, "x", "5", 2.5, None])
def test_weeks_outside_two_to_fifty_two_are_a_field_error(anna_api, erik, weeks):
    response = anna_api.post("/therapist/series", body(erik, weeks=weeks))

    assert_invalid(response, "weeks", statuses=(422,))
    assert not Booking.objects.exists()


@pytest.mark.parametrize("field, value", [
    ("mode", "phone"), ("start", "i morgon"), ("start", "2027-01-18T10:00:00"), ("duration_minutes", 2),
    ("price", -5), ("client_id", "x"),
])
def test_other_bad_input_names_its_field(anna_api, erik, field, value):
    assert_invalid(anna_api.post("/therapist/series", body(erik, **{field: value})), field, statuses=(422,))
    assert_invalid(anna_api.post("/therapist/series/preview", body(erik, **{field: value})), field, statuses=(422,))


def test_a_client_not_on_her_list_is_client_not_on_list(bo_api, erik, nora):
    for someone in (erik, nora):
        assert_conflict(bo_api.post("/therapist/series", body(someone)), "client_not_on_list")
        assert_conflict(bo_api.post("/therapist/series/preview", body(someone)), "client_not_on_list")
    assert not Booking.objects.exists()


def test_only_a_therapist_books_a_series(erik_api, anon_api, erik):
    assert erik_api.post("/therapist/series", body(erik)).status_code == 403
    assert anon_api.post("/therapist/series", body(erik)).status_code == 401


def test_she_cancels_from_week_five_on(anna_api, erik):
    series_id = anna_api.post("/therapist/series", body(erik)).json()["id"]

    response = anna_api.post(f"/therapist/series/{series_id}/cancel", {"from": "2027-02-15"})

    assert response.status_code == 200, response.content
    assert response.json() == {"cancelled": 6}
    statuses = list(Booking.objects.filter(series=series_id).order_by("start_at").values_list("status", flat=True))
    assert statuses == ["confirmed"] * 4 + ["cancelled"] * 6
    assert OutboundEmail.objects.filter(kind="series_cancelled").count() == 1
    # Again: nothing left to cancel from there.
    assert anna_api.post(f"/therapist/series/{series_id}/cancel", {"from": "2027-02-15"}).json() == {"cancelled": 0}


def test_another_therapists_series_is_not_found(anna_api, bo_api, erik):
    series_id = anna_api.post("/therapist/series", body(erik)).json()["id"]

    assert_not_found(bo_api.post(f"/therapist/series/{series_id}/cancel", {"from": "2027-01-01"}))
    assert_not_found(anna_api.post("/therapist/series/999999/cancel", {"from": "2027-01-01"}))
    assert Booking.objects.filter(series=series_id, status="confirmed").count() == 10


@pytest.mark.parametrize("value", ["x", "2027-02-30", None, 5])
def test_cancel_wants_a_date(anna_api, erik, value):
    series_id = anna_api.post("/therapist/series", body(erik)).json()["id"]

    assert_invalid(anna_api.post(f"/therapist/series/{series_id}/cancel", {"from": value}), "from", statuses=(422,))
    assert_invalid(anna_api.post(f"/therapist/series/{series_id}/cancel", {}), "from", statuses=(422,))
    assert Booking.objects.filter(series=series_id, status="confirmed").count() == 10

