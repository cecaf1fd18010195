"""No input ever gives a 500 (docs/api.md, Errors): odd bodies, odd values in every field, and odd
ids thrown at every write endpoint. Each answer must be a JSON client error or a success, and an
answer that is not a success has changed nothing: no row added, removed or edited, no mail in
the outbox, no task queued (`assert_handled`)."""

import json

import pytest
from django.apps import apps
from django.db import connection

from api.tests.helpers import booked, slot_for
from conftest import Api, pnr
from domain.models import (
    AccountRequest,
    ApiToken,
    Booking,
    Client,
    ClientLink,
    OutboundEmail,
    RateCounter,
    Slot,
    Therapist,
    User,
)
from domain.services import token_create

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


# The throttle's counters (R28) count a try before it is looked at, so a refused log-in moves
# them by design; every other table must stand still when the answer is not a success.
MAY_CHANGE_WHEN_REFUSED = {RateCounter._meta.db_table}
COUNTED = sorted(
    {m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy}
    - MAY_CHANGE_WHEN_REFUSED
)
# The tables whose rows a write endpoint edits in place, read whole (the world is a few rows):
# a refused request must not have edited one either. A token's `last_used_at` is stamped on
# every authenticated request, refused or not, so ApiToken is only counted.
READ_WHOLE = [m._meta.db_table for m in (User, Therapist, Client, ClientLink, Slot, Booking, OutboundEmail, AccountRequest)]
assert ApiToken._meta.db_table in COUNTED and OutboundEmail._meta.db_table in COUNTED


def database_state() -> tuple:
    """One COUNT per table (the outbox, the audit log and the task queue among them) in one
    statement, and every row of the tables a write edits."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(table)})" for table in COUNTED))
        counts = dict(zip(COUNTED, cursor.fetchone(), strict=True))
        rows = {}
        for table in READ_WHOLE:
            cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY 1")
            rows[table] = cursor.fetchall()
    return counts, rows


def assert_unchanged(before: tuple, response) -> None:
    counts, rows = database_state()
    changed = sorted({table for table in COUNTED if counts[table] != before[0][table]}
                     | {table for table in READ_WHOLE if rows[table] != before[1][table]})
    assert not changed, f"a {response.status_code} answer changed {changed}: {response.content[:300]!r}"


def assert_handled(response, before: tuple) -> None:
    """No crash; a refusal is a JSON object and leaves the database as `before` found it."""
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert isinstance(json.loads(response.content), dict)
    if not 200 <= response.status_code < 300:
        assert_unchanged(before, response)


WRITES = [name for name, (_, method, _, _) in ENDPOINTS.items() if method != "delete"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_valid_body_is_valid(world, endpoint):
    """The cases below are only worth something if the unmodified bodies succeed."""
    response = call(world, endpoint, valid_body(world, endpoint))

    assert response.status_code < 300, response.content


@pytest.mark.parametrize("body", ODD_BODIES, ids=range(len(ODD_BODIES)))
@pytest.mark.parametrize("endpoint", [name for name in WRITES if name != "cancel"])
def test_an_odd_body_is_no_crash_and_changes_nothing(world, endpoint, body):
    before = database_state()

    response = call(world, endpoint, body)

    assert_handled(response, before)
    if response.status_code < 300:
        # A PATCH that takes the body as "no change" must indeed have changed nothing.
        assert_unchanged(before, response)
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
    before = database_state()

    assert_handled(call(world, endpoint, body), before)


@pytest.mark.parametrize("odd_id", ODD_IDS)
@pytest.mark.parametrize(
    "endpoint, key", [("slot_change", "slot"), ("slot_remove", "slot"), ("therapist_book", "slot"),
                      ("client_book", "open_slot"), ("cancel", "booking")],
)
def test_an_odd_id_in_the_path_is_no_crash(world, endpoint, key, odd_id):
    before = database_state()

    response = call(world, endpoint, valid_body(world, endpoint), {key: odd_id})

    assert_handled(response, before)
    assert response.status_code in (400, 404, 422)


@pytest.mark.parametrize("value", ODD_VALUES, ids=range(len(ODD_VALUES)))
@pytest.mark.parametrize("param", ["start", "end", "mode", "q"])
def test_an_odd_query_is_no_crash(world, anna, param, value):
    api = world["apis"]["anna"]
    api.http.raise_request_exception = False
    text = json.dumps(value) if not isinstance(value, str) else value
    for path in ("/therapist/calendar", "/therapists", f"/therapists/{anna.pk}/slots", "/therapist/clients"):
        before = database_state()
        assert_handled(api.get(path, **{param: text}), before)
