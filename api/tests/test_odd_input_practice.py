"""R32, R33, R36's endpoints (series, moving a booking, time off) under test_odd_input's
checks: no odd body, value or id gives a 500, and a refusal changes nothing."""

import json

import pytest

from api.tests import test_odd_input as odd
from api.tests.helpers import booked, slot_for
from conftest import Api, at
from domain.models import TimeOff
from domain.services import series_create, time_off_create, token_create

pytestmark = pytest.mark.usefixtures("now")  # Monday 2027-01-11 08:00

ENDPOINTS = {
    "series": ("anna", "post", "/therapist/series", {
        "client_id": "{erik}", "start": "2027-02-01T09:00:00+01:00", "duration_minutes": 45, "price": 900,
        "mode": "video", "weeks": 3,
    }),
    "series_preview": ("anna", "post", "/therapist/series/preview", {
        "client_id": "{erik}", "start": "2027-02-01T09:00:00+01:00", "duration_minutes": 45, "price": 900,
        "mode": "video", "weeks": 3,
    }),
    "series_cancel": ("anna", "post", "/therapist/series/{series}/cancel", {"from": "2027-01-01"}),
    "move": ("erik", "post", "/bookings/{booking}/move", {"slot_id": "{open_slot}", "mode": "video"}),
    "time_off": ("anna", "post", "/therapist/time-off", {"start": "2027-03-01", "end": "2027-03-05", "note": "Lov"}),
    "time_off_delete": ("anna", "delete", "/therapist/time-off/{time_off}", None),
}


@pytest.fixture
def world(anna, bo, erik, nora):
    series = series_create(therapist=anna, client=erik, start=at("2027-03-15 09:00"),
                           weeks=2, mode="video", actor=anna.user)
    return {
        "open_slot": slot_for(anna, "2027-01-14 11:00"),
        "booking": booked(slot_for(anna, "2027-01-13 09:00"), erik),
        "series": series,
        "time_off": time_off_create(therapist=anna, start=odd_date("2027-04-01"), end=odd_date("2027-04-02"),
                                    actor=anna.user)[0],
        "erik": erik,
        "apis": {
            "anon": Api(),
            **{name: Api(token_create(user=p.user)) for name, p in (("anna", anna), ("bo", bo), ("erik", erik),
                                                                      ("nora", nora))},
        },
    }


def odd_date(text):
    from datetime import date

    return date.fromisoformat(text)


def call(world, endpoint, body, path_ids=None, who=None):
    default_who, method, path, _ = ENDPOINTS[endpoint]
    ids = {k: world[k].pk for k in ("open_slot", "booking", "series", "time_off")} | (path_ids or {})
    api = world["apis"][who or default_who]
    api.http.raise_request_exception = False
    url = path.format(**ids)
    if method == "delete":
        return api.delete(url)
    return api.post(url, body)


def valid_body(world, endpoint):
    body = ENDPOINTS[endpoint][3]
    if body is None:
        return None
    subst = {"{erik}": world["erik"].pk, "{open_slot}": world["open_slot"].pk}
    return {k: subst.get(v, v) if isinstance(v, str) else v for k, v in body.items()}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_valid_body_is_valid(world, endpoint):
    response = call(world, endpoint, valid_body(world, endpoint))

    assert response.status_code < 300, response.content


@pytest.mark.parametrize("body", odd.ODD_BODIES, ids=range(len(odd.ODD_BODIES)))
@pytest.mark.parametrize("endpoint", [n for n, e in ENDPOINTS.items() if e[1] == "post"])
def test_an_odd_body_is_no_crash_and_changes_nothing(world, endpoint, body):
    before = odd.database_state()

    response = call(world, endpoint, body)

    odd.assert_handled(response, before)
    assert response.status_code >= 400


FIELD_CASES = [(endpoint, field) for endpoint, (_, _, _, body) in ENDPOINTS.items() if body for field in body]


@pytest.mark.parametrize("value", odd.ODD_VALUES, ids=range(len(odd.ODD_VALUES)))
@pytest.mark.parametrize("endpoint, field", FIELD_CASES)
def test_an_odd_value_in_any_field_is_no_crash(world, endpoint, field, value):
    body = {**valid_body(world, endpoint), field: value}
    before = odd.database_state()

    odd.assert_handled(call(world, endpoint, body), before)


@pytest.mark.parametrize("odd_id", odd.ODD_IDS)
@pytest.mark.parametrize("endpoint, key", [("series_cancel", "series"), ("move", "booking"),
                                           ("time_off_delete", "time_off")])
def test_an_odd_id_in_the_path_is_no_crash(world, endpoint, key, odd_id):
    before = odd.database_state()

    response = call(world, endpoint, valid_body(world, endpoint), {key: odd_id})

    odd.assert_handled(response, before)
    assert response.status_code in (400, 404, 422)


@pytest.mark.parametrize("who", ["anon", "bo", "erik", "nora"])
@pytest.mark.parametrize("endpoint", ["series", "series_preview", "series_cancel", "time_off", "time_off_delete"])
def test_nobody_but_anna_reaches_her_practice(world, endpoint, who):
    before = odd.database_state()

    response = call(world, endpoint, valid_body(world, endpoint), who=who)

    odd.assert_handled(response, before)
    if (endpoint, who) == ("time_off", "bo"):  # his own time off: nothing of Anna's changes
        assert response.status_code == 201 and not TimeOff.objects.filter(therapist=world["series"].therapist,
                                                                            note="Lov").exists()
    else:
        assert response.status_code in (401, 403, 404, 409), response.content


@pytest.mark.parametrize("who", ["anon", "anna", "bo", "nora"])
def test_nobody_but_erik_moves_his_booking(world, who):
    before = odd.database_state()

    response = call(world, "move", valid_body(world, "move"), who=who)

    odd.assert_handled(response, before)
    assert response.status_code in (401, 403, 404), response.content


@pytest.mark.parametrize("value", odd.ODD_VALUES, ids=range(len(odd.ODD_VALUES)))
@pytest.mark.parametrize("param", ["start", "end"])
def test_an_odd_time_off_query_is_no_crash(world, param, value):
    api = world["apis"]["anna"]
    api.http.raise_request_exception = False
    text = json.dumps(value) if not isinstance(value, str) else value
    before = odd.database_state()
    odd.assert_handled(api.get("/therapist/time-off", **{param: text}), before)
