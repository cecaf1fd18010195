"""No input ever gives a 500 (docs/api.md, Errors): odd bodies, odd values in every field, and odd
ids thrown at every write endpoint. Each answer must be a JSON client error or a success."""

import json

import pytest

from api.tests.helpers import booked, slot_for
from conftest import Api, pnr
from domain.models import Booking, Client, Slot, User
from domain.services import token_create
from domain.services.audit import slot_snapshot
from domain.services.therapists import therapist_settings_snapshot

pytestmark = pytest.mark.usefixtures("now")

ODD_BODIES = [
    "null", "[]", '"a string"', "0", "-1", "1e999", "true", "{}", "", "   ", "{", '{"a": ', "[{}]", '{"": null}',
    "\ufeff{}", "[" * 5000 + "]" * 5000, '{"a": ' * 5000 + "1" + "}" * 5000, "NaN", '{"x": Infinity}',
    b"\xff\xfe\x00{", '{"start": "2027-01-12T09:00:00+01:00", "start": null}',
]

ODD_VALUES = [
    None, [], {}, "", " ", "💥🙂", "\x00", "a\x00b", "x" * 100_000, 10**20, -(10**20), 2**63, -1, 0, 1.5, True,
    float("nan"), float("inf"), "٣", "١٩٨٥٠٣١٢-١٢٣٤", "9999-12-31T23:59:00+00:00", "9999-12-31T23:59:00-14:00",
    "0001-01-01T00:00:00+14:00", "2027-02-30T10:00:00+01:00", "2027-01-12T09:00:00+25:00", {"$gt": ""}, [None],
    ["video"] * 1000, "<script>alert(1)</script>", "' OR 1=1 --", "\u202e\u0301",
]

ODD_IDS = ["0", "-1", str(10**20), str(2**63), "abc", "1.5", "%00", "١", "1e3", "1 OR 1=1"]

# Each write endpoint: who calls it, its path (with {slot}, {open_slot}, {booking}) and a valid body.
ENDPOINTS = {
    "signup": ("anon", "post", "/auth/signup", {
        "role": "client", "email": "ny@example.se", "password": "a long and unusual passphrase",
        "first_name": "Ny", "last_name": "Klient", "personnummer": pnr("19700101", "555"), "language": "sv",
    }),
    "token": ("anon", "post", "/auth/token", {"email": "anna@example.se", "password": "correct horse battery"}),
    "settings": ("anna", "patch", "/therapist/settings", {
        "default_duration_minutes": 50, "default_price": 1100, "timezone": "Europe/Stockholm", "reception_address": "Gatan 1",
        "personal_info": "Hej", "default_modes": ["video"], "default_audience": "existing",
    }),
    "slot_create": ("anna", "post", "/therapist/slots", {
        "start": "2027-01-14T09:00:00+01:00", "duration_minutes": 60, "price": 1200, "modes": ["onsite"], "audience": "all",
    }),
    "slot_change": ("anna", "patch", "/therapist/slots/{slot}", {
        "start": "2027-01-15T09:00:00+01:00", "duration_minutes": 60, "price": 1200, "modes": ["onsite"], "audience": "all",
    }),
    "slot_remove": ("anna", "delete", "/therapist/slots/{slot}", None),
    "client_add": ("anna", "post", "/therapist/clients", {
        "first_name": "Åsa", "last_name": "Öberg", "personnummer": pnr("19800101", "444"), "email": "asa@example.se",
        "phone": "070",
    }),
    "therapist_book": ("anna", "post", "/therapist/slots/{slot}/booking", {"client_id": "{erik}", "mode": "onsite"}),
    "client_book": ("nora", "post", "/slots/{open_slot}/book", {"mode": "video"}),
    "cancel": ("erik", "post", "/bookings/{booking}/cancel", {}),
}


@pytest.fixture
def world(anna, erik, nora):
    """Anna's open slot, another open slot for Nora to book, and Erik's booking to cancel."""
    return {
        "slot": slot_for(anna, "2027-01-12 09:00"),
        "open_slot": slot_for(anna, "2027-01-12 11:00"),
        "booking": booked(slot_for(anna, "2027-01-13 09:00"), erik),
        "erik": erik,
        "apis": {
            "anon": Api(),
            **{name: Api(token_create(user=person.user)) for name, person in (("anna", anna), ("erik", erik), ("nora", nora))},
        },
    }


def call(world, endpoint, body, path_ids=None):
    who, method, path, _ = ENDPOINTS[endpoint]
    ids = {"slot": world["slot"].pk, "open_slot": world["open_slot"].pk, "booking": world["booking"].pk, **(path_ids or {})}
    api = world["apis"][who]
    api.http.raise_request_exception = False  # a crash must show as a 500 here, not as an exception
    url = path.format(**ids)
    if method == "delete":
        return api.delete(url)
    if method == "patch":
        return api.patch(url, body)
    return api.post(url, body)


def valid_body(world, endpoint):
    body = ENDPOINTS[endpoint][3]
    if body is None:
        return None
    return {k: (world["erik"].pk if v == "{erik}" else v) for k, v in body.items()}


def assert_handled(response):
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert isinstance(json.loads(response.content), dict)


WRITES = [name for name, (_, method, _, _) in ENDPOINTS.items() if method != "delete"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_valid_body_is_valid(world, endpoint):
    """The cases below are only worth something if the unmodified bodies succeed."""
    response = call(world, endpoint, valid_body(world, endpoint))

    assert response.status_code < 300, response.content


def state(world):
    """What an odd body must not change."""
    slot = world["slot"]
    slot.refresh_from_db()
    therapist = slot.therapist
    therapist.refresh_from_db()
    return (
        therapist_settings_snapshot(therapist), slot_snapshot(slot), Slot.objects.count(), Booking.objects.count(),
        Client.objects.count(), User.objects.count(),
    )


@pytest.mark.parametrize("body", ODD_BODIES, ids=range(len(ODD_BODIES)))
@pytest.mark.parametrize("endpoint", [name for name in WRITES if name != "cancel"])
def test_an_odd_body_is_no_crash_and_changes_nothing(world, endpoint, body):
    before = state(world)

    response = call(world, endpoint, body)

    assert_handled(response)
    assert state(world) == before
    if ENDPOINTS[endpoint][1] == "post":
        # Every POST body has a required field, so none of these can be right. (The PATCH
        # bodies have none, and ninja takes any JSON value there as "no change".)
        assert response.status_code >= 400


FIELD_CASES = [
    (endpoint, field) for endpoint, (_, _, _, body) in ENDPOINTS.items() if body for field in body
]


@pytest.mark.parametrize("value", ODD_VALUES, ids=range(len(ODD_VALUES)))
@pytest.mark.parametrize("endpoint, field", FIELD_CASES)
def test_an_odd_value_in_any_field_is_no_crash(world, endpoint, field, value):
    body = {**valid_body(world, endpoint), field: value}

    assert_handled(call(world, endpoint, body))


@pytest.mark.parametrize("odd_id", ODD_IDS)
@pytest.mark.parametrize(
    "endpoint, key", [("slot_change", "slot"), ("slot_remove", "slot"), ("therapist_book", "slot"),
                      ("client_book", "open_slot"), ("cancel", "booking")],
)
def test_an_odd_id_in_the_path_is_no_crash(world, endpoint, key, odd_id):
    response = call(world, endpoint, valid_body(world, endpoint), {key: odd_id})

    assert_handled(response)
    assert response.status_code in (400, 404, 422)


@pytest.mark.parametrize("value", ODD_VALUES, ids=range(len(ODD_VALUES)))
@pytest.mark.parametrize("param", ["start", "end", "mode", "q"])
def test_an_odd_query_is_no_crash(world, anna, param, value):
    api = world["apis"]["anna"]
    api.http.raise_request_exception = False
    text = json.dumps(value) if not isinstance(value, str) else value
    for path in ("/therapist/calendar", "/therapists", f"/therapists/{anna.pk}/slots", "/therapist/clients"):
        assert_handled(api.get(path, **{param: text}))
