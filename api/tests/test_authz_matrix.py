"""The authorisation matrix: every API endpoint × anonymous, a client (Erik, on Anna's list),
another client (Nora, on no list), a therapist (Anna) and another therapist (Bo).

Each cell names the status the caller gets; and whatever the status, the body never holds
another person's data: a personnummer or an e-mail address reaches only the people docs/api.md
shows it to, and Bo's own client is never seen by anyone but Bo."""

import json
from datetime import date

import pytest

from api.tests.helpers import booked, slot_for
from conftest import Api, api_for, at, pnr
from domain.models import ApiToken, Booking
from domain.services import series_create, time_off_create, waitlist_join

pytestmark = pytest.mark.usefixtures("now")

PERSONAS = ("anon", "erik", "nora", "anna", "bo")


@pytest.fixture
def world(anna, bo, erik, nora, make_client):
    anna.reception_address = "Mottagningen, Hemliga gatan 1"
    anna.save(update_fields=["reception_address"])
    olle = make_client(first="Olle", last="Hemligsson", birth="19700202", therapist=bo)
    booking = booked(slot_for(anna, "2027-01-12 09:00"), erik, mode="onsite")
    video = booked(slot_for(anna, "2027-01-12 11:00"), erik, mode="video")
    return {
        "anna": anna, "bo": bo, "erik": erik, "nora": nora, "olle": olle,
        "booking": booking.pk,
        "booked_slot": booking.slot_id,
        "video_booking": video.pk,
        "video_slot": video.slot_id,
        "open_slot": slot_for(anna, "2027-01-13 09:00").pk,
        "existing_slot": slot_for(anna, "2027-01-14 09:00", audience="existing").pk,
        "spare_slot": slot_for(anna, "2027-01-15 09:00").pk,
        "bo_slot": slot_for(bo, "2027-01-13 09:00").pk,
        "anna_time_off": time_off_create(therapist=anna, start=date(2027, 3, 1), end=date(2027, 3, 5), actor=None)[0].pk,
        "anna_token": ApiToken.objects.create(user=anna.user, key_hash="a" * 64, label="Annas telefon").pk,
        "series": series_create(therapist=anna, client=erik, start=at("2027-04-05 10:00"), weeks=2, mode="onsite",
                                actor=anna.user).pk,
        "erik_waiting": waitlist_join(client=erik, therapist=anna, actor=erik.user)[0].pk,
    }


@pytest.fixture
def apis(world):
    return {
        "anon": Api(),
        "erik": api_for(world["erik"].user),
        "nora": api_for(world["nora"].user),
        "anna": api_for(world["anna"].user),
        "bo": api_for(world["bo"].user),
    }


def new_client_body(w):
    return {"first_name": "Ny", "last_name": "Klient", "personnummer": pnr("19990909", "321"), "email": "ny@example.se"}


def series_body(w):
    return {"client_id": w["erik"].pk, "start": "2027-02-01T10:00:00+01:00", "mode": "video", "weeks": 2}


# (name, method, path, body, {persona: status}); paths and bodies are filled from the world.
T403 = {"anon": 401, "erik": 403, "nora": 403}
C403 = {"anon": 401, "anna": 403, "bo": 403}
MATRIX = [
    ("health", "get", "/health", None, {"anon": 200, "erik": 200, "nora": 200, "anna": 200, "bo": 200}),
    ("me", "get", "/me", None, {"anon": 401, "erik": 200, "nora": 200, "anna": 200, "bo": 200}),
    ("settings", "get", "/therapist/settings", None, {**T403, "anna": 200, "bo": 200}),
    ("settings patch", "patch", "/therapist/settings", {"default_price": 1200}, {**T403, "anna": 200, "bo": 200}),
    ("calendar", "get", "/therapist/calendar", None, {**T403, "anna": 200, "bo": 200}),
    ("slot create", "post", "/therapist/slots", {"start": "2027-01-20T09:00:00+01:00"}, {**T403, "anna": 201, "bo": 201}),
    ("slot patch", "patch", "/therapist/slots/{open_slot}", {"price": 900}, {**T403, "anna": 200, "bo": 404}),
    ("slot delete", "delete", "/therapist/slots/{spare_slot}", None, {**T403, "anna": 204, "bo": 404}),
    ("client search", "get", "/therapist/clients", None, {**T403, "anna": 200, "bo": 200}),
    ("client add", "post", "/therapist/clients", new_client_body, {**T403, "anna": 201, "bo": 201}),
    ("therapist books", "post", "/therapist/slots/{open_slot}/booking", lambda w: {"client_id": w["erik"].pk, "mode": "video"},
     {**T403, "anna": 201, "bo": 404}),
    ("therapist books a stranger", "post", "/therapist/slots/{open_slot}/booking",
     lambda w: {"client_id": w["olle"].pk, "mode": "video"}, {**T403, "anna": 409, "bo": 404}),
    ("series (R32)", "post", "/therapist/series", lambda w: series_body(w),
     {**T403, "anna": 201, "bo": 409}),
    ("series preview (R32)", "post", "/therapist/series/preview", lambda w: series_body(w),
     {**T403, "anna": 200, "bo": 409}),
    ("cancel a series (R32)", "post", "/therapist/series/{series}/cancel", {"from": "2027-01-01"},
     {**T403, "anna": 200, "bo": 404}),
    ("listing", "get", "/therapists", None, {"anon": 200, "erik": 200, "nora": 200, "anna": 200, "bo": 200}),
    ("anna's open slots", "get", "/therapists/{anna_id}/slots", None,
     {"anon": 200, "erik": 200, "nora": 200, "anna": 200, "bo": 200}),
    ("bo's open slots (no Client Booster)", "get", "/therapists/{bo_id}/slots", None,
     {"anon": 404, "erik": 404, "nora": 404, "anna": 404, "bo": 404}),
    ("book an open slot", "post", "/slots/{open_slot}/book", {"mode": "video"},
     {**C403, "erik": 201, "nora": 201}),
    ("book an existing-only slot", "post", "/slots/{existing_slot}/book", {"mode": "video"},
     {**C403, "erik": 201, "nora": 404}),
    ("book bo's slot", "post", "/slots/{bo_slot}/book", {"mode": "video"}, {**C403, "erik": 404, "nora": 404}),
    ("my bookings", "get", "/client/bookings", None, {**C403, "erik": 200, "nora": 200}),
    ("who read my data", "get", "/client/access-log", None, {**C403, "erik": 200, "nora": 200}),
    ("cancel", "post", "/bookings/{booking}/cancel", None,
     {"anon": 401, "erik": 200, "nora": 404, "anna": 200, "bo": 404}),
    ("cancel the video booking", "post", "/bookings/{video_booking}/cancel", None,
     {"anon": 401, "erik": 200, "nora": 404, "anna": 200, "bo": 404}),
    ("move a booking (R33)", "post", "/bookings/{booking}/move", lambda w: {"slot_id": w["spare_slot"]},
     {**C403, "erik": 200, "nora": 404}),
    ("move a booking to bo's slot (R33)", "post", "/bookings/{booking}/move", lambda w: {"slot_id": w["bo_slot"]},
     {**C403, "erik": 404, "nora": 404}),
    ("renew a video link", "post", "/bookings/{video_booking}/video-link", None,
     {"anon": 401, "erik": 200, "nora": 404, "anna": 200, "bo": 404}),
    ("record an outcome before the start (R34)", "post", "/therapist/bookings/{booking}/outcome", {"outcome": "no_show"},
     {**T403, "anna": 409, "bo": 404}),
    ("renew the link of an on-site booking", "post", "/bookings/{booking}/video-link", None,
     {"anon": 401, "erik": 409, "nora": 404, "anna": 409, "bo": 404}),
    ("her time off (R36)", "get", "/therapist/time-off", None, {**T403, "anna": 200, "bo": 200}),
    # The day of Erik's bookings: Anna's answer lists them (hers to read), Bo's holds nothing of hers.
    ("set time off (R36)", "post", "/therapist/time-off", {"start": "2027-01-12", "end": "2027-01-12"},
     {**T403, "anna": 201, "bo": 201}),
    ("delete anna's time off (R36)", "delete", "/therapist/time-off/{anna_time_off}", None,
     {**T403, "anna": 204, "bo": 404}),
    ("join anna's wait list (R37)", "post", "/therapists/{anna_id}/waitlist", {"weekdays": [1]},
     {**C403, "erik": 200, "nora": 201}),
    ("join bo's wait list (no Client Booster)", "post", "/therapists/{bo_id}/waitlist", {},
     {**C403, "erik": 404, "nora": 404}),
    ("leave anna's wait list (R37)", "delete", "/therapists/{anna_id}/waitlist", None,
     {**C403, "erik": 204, "nora": 404}),
    ("my wait lists (R37)", "get", "/client/waitlist", None, {**C403, "erik": 200, "nora": 200}),
    ("her busy times (R38)", "get", "/therapist/busy", None, {**T403, "anna": 200, "bo": 200}),
    ("fetch her busy calendar (R38)", "post", "/therapist/busy/fetch", None, {**T403, "anna": 200, "bo": 200}),
    ("token", "post", "/auth/token", {"email": "anna@example.se", "password": "wrong"},
     {"anon": 401, "erik": 401, "nora": 401, "anna": 401, "bo": 401}),
    ("log out", "delete", "/auth/token", None, {"anon": 401, "erik": 204, "nora": 204, "anna": 204, "bo": 204}),
    ("my tokens", "get", "/auth/tokens", None, {"anon": 401, "erik": 200, "nora": 200, "anna": 200, "bo": 200}),
    ("end anna's token", "delete", "/auth/tokens/{anna_token}", None,
     {"anon": 401, "erik": 404, "nora": 404, "anna": 204, "bo": 404}),
    ("my data (R40)", "get", "/client/export", None, {**C403, "erik": 200, "nora": 200}),
    ("her clients and bookings (R40)", "get", "/therapist/export", None, {**T403, "anna": 200, "bo": 200}),
    ("erase me with a wrong password (R41)", "delete", "/me", {"password": "wrong"},
     {"anon": 401, "erik": 400, "nora": 400, "anna": 409, "bo": 409}),
    ("the privacy policy's version", "get", "/privacy-policy", None,
     {"anon": 200, "erik": 200, "nora": 200, "anna": 200, "bo": 200}),
]

CELLS = [(row[0], persona) for row in MATRIX for persona in PERSONAS]


def secrets_of(w) -> dict[str, tuple[str, set[str]]]:
    """Each secret, and who may read it in an API answer (read after the call: a renewal
    changes a video key, and the new one is just as secret)."""
    video = Booking.objects.get(pk=w["video_booking"])
    return {
        # R29: the therapist's key to the call reaches her alone; the client's is in the
        # `booking` answers of both parties (docs/api.md: `booking.video_url` is the client's).
        "erik's video key": (video.video_token, {"erik", "anna"}),
        "anna's video key": (video.therapist_video_token, {"anna"}),
        # Her own therapist, and herself (her export, R40).
        "erik's personnummer": (w["erik"].personnummer, {"anna", "erik"}),
        "erik's personnummer (10 digits)": (w["erik"].personnummer[2:].replace("-", ""), {"anna", "erik"}),
        "erik's e-mail": (w["erik"].email, {"anna", "erik"}),
        "nora's personnummer": (w["nora"].personnummer, {"nora"}),  # herself: her export (R40)
        "nora's e-mail": (w["nora"].email, {"nora"}),
        "olle's personnummer": (w["olle"].personnummer, {"bo"}),
        "olle's name": ("Hemligsson", {"bo"}),
        "olle's e-mail": (w["olle"].email, {"bo"}),
        "anna's e-mail": (w["anna"].user.email, {"anna"}),
        "bo's e-mail": (w["bo"].user.email, {"bo"}),
        # Anna's reception address goes to her own clients' on-site bookings, and to her.
        "anna's address": ("Hemliga gatan", {"anna", "erik"}),
        "the name of anna's token": ("Annas telefon", {"anna"}),
    }


@pytest.mark.parametrize(("row", "persona"), CELLS, ids=[f"{r} × {p}" for r, p in CELLS])
def test_the_cell(row, persona, world, apis):
    name, method, path, body, expected = next(r for r in MATRIX if r[0] == row)
    ids = {k: (v if isinstance(v, int) else v.pk) for k, v in world.items()}
    ids["anna_id"], ids["bo_id"] = world["anna"].pk, world["bo"].pk
    path = path.format(**ids)
    body = body(world) if callable(body) else body
    api = apis[persona]
    if method == "get":
        response = api.get(path)
    elif method == "delete":
        response = api.delete(path) if body is None else api._call("delete", path, body)
    else:
        response = getattr(api, method)(path, body if body is not None else {})

    assert response.status_code == expected[persona], (name, persona, response.status_code, response.content[:300])
    text = response.content.decode()
    text_unescaped = json.dumps(json.loads(text), ensure_ascii=False) if text else ""
    for secret, (value, readers) in secrets_of(world).items():
        if persona not in readers:
            assert value not in text and value not in text_unescaped, f"{name} leaks {secret} to {persona}"


def test_a_therapists_calendar_and_list_hold_only_her_own(world, apis):
    anna_entries = apis["anna"].get("/therapist/calendar", start="2027-01-11T00:00:00+01:00",
                                    end="2027-01-18T00:00:00+01:00").json()
    bo_entries = apis["bo"].get("/therapist/calendar", start="2027-01-11T00:00:00+01:00",
                                end="2027-01-18T00:00:00+01:00").json()
    assert {e["id"] for e in anna_entries} == {world[k] for k in ("booked_slot", "video_slot", "open_slot",
                                                                 "existing_slot", "spare_slot")}
    assert [e["id"] for e in bo_entries] == [world["bo_slot"]]
    assert [c["id"] for c in apis["bo"].get("/therapist/clients").json()] == [world["olle"].pk]
    assert [c["id"] for c in apis["anna"].get("/therapist/clients").json()] == [world["erik"].pk]


def test_existing_only_slots_are_seen_only_by_her_own_clients(world, apis):
    def ids(persona):
        return {s["id"] for s in apis[persona].get(f"/therapists/{world['anna'].pk}/slots").json()}

    assert world["existing_slot"] in ids("erik")
    for persona in ("anon", "nora", "bo", "anna"):
        assert world["existing_slot"] not in ids(persona), persona


def test_a_clients_bookings_are_her_own(world, apis):
    series = set(Booking.objects.filter(series=world["series"]).values_list("pk", flat=True))
    assert {b["id"] for b in apis["erik"].get("/client/bookings").json()} == {
        world["booking"], world["video_booking"], *series}
    assert apis["nora"].get("/client/bookings").json() == []
