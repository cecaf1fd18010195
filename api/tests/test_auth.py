"""Accounts: POST /auth/signup, POST /auth/token, GET /me, and how a caller proves who she is
(a bearer token, or the browser's session cookie with CSRF)."""

from datetime import timedelta

import pytest
from django.test import Client as HttpClient

from api.tests.helpers import assert_invalid, booked, local_iso, slot_for
from conftest import Api, at, pnr
from domain import services
from domain.models import ApiToken, Booking, Client, Slot, Therapist, User

pytestmark = pytest.mark.usefixtures("now")

PASSWORD = "a long and unusual passphrase"


def therapist_signup(**overrides):
    return {
        "role": "therapist", "email": "tove@example.se", "password": PASSWORD,
        "first_name": "Tove", "last_name": "Lind", **overrides,
    }


def client_signup(**overrides):
    return {
        "role": "client", "email": "ulla@example.se", "password": PASSWORD,
        "first_name": "Ulla", "last_name": "Ek", "personnummer": "790115-3344", **overrides,
    }


@pytest.fixture
def ulla_number():
    """Ulla's personnummer: the 10-digit form she types, and the 12-digit form it becomes."""
    full = pnr("19790115", "334")
    return full[2:], full


# Sign-up --------------------------------------------------------------------------------------
def test_it_signs_up_a_therapist_with_the_default_settings(anon_api):
    response = anon_api.post("/auth/signup", therapist_signup())

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "role", "token"}
    assert body["role"] == "therapist"
    therapist = Therapist.objects.get(user__email="tove@example.se")
    assert body["id"] == therapist.pk
    assert therapist.user.first_name == "Tove" and therapist.user.last_name == "Lind"
    assert therapist.user.check_password(PASSWORD)
    assert (therapist.default_duration_minutes, therapist.default_price, therapist.timezone) == (45, 1000, "Europe/Stockholm")
    assert therapist.client_booster is False
    assert ApiToken.objects.filter(user=therapist.user, key_hash=ApiToken.hash(body["token"])).exists()


def test_the_signup_token_logs_in_and_the_id_is_the_one_me_answers(anon_api):
    body = anon_api.post("/auth/signup", therapist_signup()).json()

    me = Api(body["token"]).get("/me")

    assert me.status_code == 200
    assert me.json() == {
        "id": body["id"], "role": "therapist", "email": "tove@example.se", "first_name": "Tove", "last_name": "Lind",
    }


def test_the_therapist_id_from_signup_is_the_one_in_her_slots_url(anon_api):
    body = anon_api.post("/auth/signup", therapist_signup()).json()
    therapist = Therapist.objects.get(pk=body["id"])
    Therapist.objects.filter(pk=therapist.pk).update(client_booster=True)
    Slot.objects.create(therapist=therapist, start_at=at("2027-01-12 09:00"), end_at=at("2027-01-12 09:45"), price=1000)

    response = anon_api.get(f"/therapists/{body['id']}/slots")

    assert response.status_code == 200
    assert [s["start"] for s in response.json()] == [local_iso("2027-01-12 09:00")]


def test_it_signs_up_a_client_and_keeps_her_personnummer_in_the_12_digit_form(anon_api, ulla_number):
    typed, full = ulla_number
    response = anon_api.post("/auth/signup", client_signup(personnummer=typed))

    assert response.status_code == 201
    body = response.json()
    assert body["role"] == "client"
    client = Client.objects.get(email="ulla@example.se")
    assert body["id"] == client.pk
    assert client.personnummer == full
    assert (client.first_name, client.last_name) == ("Ulla", "Ek")
    assert client.user.email == "ulla@example.se"
    me = Api(body["token"]).get("/me").json()
    assert me["id"] == client.pk and me["role"] == "client"


def test_a_client_added_by_her_therapist_is_sent_the_link_to_her_address_on_file(anon_api, anna_api, ulla_number):
    """She joins as that same person through the set-password link mailed to the address on
    file, never on a personnummer and an address typed at sign-up (issue 4)."""
    typed, full = ulla_number
    added = anna_api.post(
        "/therapist/clients", {"first_name": "Ulla", "last_name": "Ek", "personnummer": full, "email": "ulla@example.se"}
    ).json()

    response = anon_api.post("/auth/signup", client_signup(personnummer=typed))

    assert_invalid(response, "personnummer")
    assert Client.objects.filter(personnummer=full).count() == 1
    assert Client.objects.get(pk=added["id"]).user.has_usable_password() is False


def test_it_stores_the_email_address_in_lower_case(anon_api):
    anon_api.post("/auth/signup", therapist_signup(email="Tove@Example.SE"))

    assert User.objects.filter(email="tove@example.se").exists()


def test_it_refuses_an_email_address_that_is_taken(anon_api, anna):
    response = anon_api.post("/auth/signup", therapist_signup(email="ANNA@example.se"))

    assert_invalid(response, "email", statuses=(422,))
    assert User.objects.filter(email="anna@example.se").count() == 1
    assert not Therapist.objects.filter(user__first_name="Tove").exists()


def test_it_refuses_a_client_without_personnummer(anon_api):
    body = client_signup()
    del body["personnummer"]

    response = anon_api.post("/auth/signup", body)

    assert_invalid(response, "personnummer", statuses=(422,))
    assert not User.objects.filter(email="ulla@example.se").exists()


def test_it_refuses_a_client_whose_personnummer_has_a_wrong_check_digit(anon_api, ulla_number):
    _, full = ulla_number
    wrong = full[:-1] + str((int(full[-1]) + 1) % 10)

    response = anon_api.post("/auth/signup", client_signup(personnummer=wrong))

    assert_invalid(response, "personnummer")
    assert not Client.objects.exists()


def test_it_refuses_a_personnummer_that_already_has_a_login(anon_api, nora):
    response = anon_api.post("/auth/signup", client_signup(personnummer=nora.personnummer))

    assert_invalid(response, "personnummer")
    assert not User.objects.filter(email="ulla@example.se").exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("role", "staff"),
        ("role", None),
        ("email", "not-an-address"),
        ("email", ""),
        ("password", "123"),
        ("password", None),
        ("first_name", ""),
        ("first_name", "   "),
        ("last_name", ["Lind"]),
        ("first_name", "x" * 151),
        ("first_name", "To\x00ve"),
    ],
)
def test_it_refuses_bad_signup_input_naming_the_field(anon_api, field, value):
    response = anon_api.post("/auth/signup", therapist_signup(**{field: value}))

    assert_invalid(response, field)
    assert not User.objects.exists()


@pytest.mark.parametrize("field", ["role", "email", "password", "first_name", "last_name"])
def test_it_refuses_a_signup_missing_a_field(anon_api, field):
    body = therapist_signup()
    del body[field]

    assert_invalid(anon_api.post("/auth/signup", body), field)


def test_it_refuses_malformed_json_at_signup(anon_api):
    response = anon_api.post("/auth/signup", '{"role": "therapist", "email": ')

    assert response.status_code == 400
    assert "detail" in response.json()


# Tokens -------------------------------------------------------------------------------------
def test_it_answers_a_token_for_the_right_password(anon_api, anna):
    response = anon_api.post("/auth/token", {"email": "Anna@Example.se", "password": "correct horse battery"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "role"}
    assert body["role"] == "therapist"
    assert Api(body["token"]).get("/me").json()["id"] == anna.pk


def test_a_client_gets_a_client_token(anon_api, erik):
    body = anon_api.post("/auth/token", {"email": erik.email, "password": "correct horse battery"}).json()

    assert body["role"] == "client"
    assert Api(body["token"]).get("/me").json()["id"] == erik.pk


@pytest.mark.parametrize(
    "email, password",
    [("anna@example.se", "wrong"), ("nobody@example.se", "correct horse battery"), ("anna@example.se", ""),
     ("anna@example.se\x00", "correct horse battery")],
)
def test_it_refuses_wrong_credentials_with_401(anon_api, anna, email, password):
    response = anon_api.post("/auth/token", {"email": email, "password": password})

    assert response.status_code == 401
    assert "token" not in response.json()
    assert response.json()["detail"]


def test_it_throttles_after_repeated_failures_even_the_right_password(anon_api, anna, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert anon_api.post("/auth/token", {"email": "anna@example.se", "password": "guess"}).status_code == 401

    response = anon_api.post("/auth/token", {"email": "anna@example.se", "password": "correct horse battery"})

    assert response.status_code == 429
    assert "token" not in response.json()
    assert response.json()["detail"]


def test_throttling_one_address_leaves_another_alone(anon_api, anna, bo, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        anon_api.post("/auth/token", {"email": "anna@example.se", "password": "guess"})

    response = anon_api.post("/auth/token", {"email": "bo@example.se", "password": "correct horse battery"})

    assert response.status_code == 200


def test_throttling_ends_when_the_window_has_passed(anon_api, anna, settings, now):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        anon_api.post("/auth/token", {"email": "anna@example.se", "password": "guess"})
    now.shift(settings.LOGIN_FAILURE_WINDOW_SECONDS + 1)

    response = anon_api.post("/auth/token", {"email": "anna@example.se", "password": "correct horse battery"})

    assert response.status_code == 200


@pytest.mark.parametrize("body", [{"email": "anna@example.se"}, {"password": "x"}, {"email": None, "password": "x"}])
def test_it_refuses_an_incomplete_token_request(anon_api, anna, body):
    missing = "password" if "password" not in body else "email"

    assert_invalid(anon_api.post("/auth/token", body), missing)


def test_it_refuses_malformed_json_for_a_token(anon_api):
    assert anon_api.post("/auth/token", "{email").status_code == 400


# /me ----------------------------------------------------------------------------------------
def test_me_answers_the_therapist(anna_api, anna):
    response = anna_api.get("/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": anna.pk, "role": "therapist", "email": "anna@example.se", "first_name": "Anna", "last_name": "Andersson",
    }


def test_me_answers_the_client_with_her_client_id_not_her_login_id(erik_api, erik):
    assert erik.pk != erik.user.pk  # Anna's login came first, so a mix-up would show

    response = erik_api.get("/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": erik.pk, "role": "client", "email": erik.email, "first_name": "Erik", "last_name": "Eriksson",
    }


def test_me_needs_a_login(anon_api):
    response = anon_api.get("/me")

    assert response.status_code == 401


def test_an_unknown_token_is_not_a_login(db):
    assert Api("not-a-token").get("/me").status_code == 401


def test_the_token_of_a_deactivated_user_is_not_a_login(anna, anna_api):
    User.objects.filter(pk=anna.user.pk).update(is_active=False)

    assert anna_api.get("/me").status_code == 401


def test_deleting_the_token_logs_it_out_and_no_other(anna):
    key = services.token_create(user=anna.user)
    other = Api(services.token_create(user=anna.user))

    assert Api(key).delete("/auth/token").status_code == 204
    assert Api(key).get("/me").status_code == 401
    assert Api(key).delete("/auth/token").status_code == 401
    assert other.get("/me").status_code == 200


def test_a_token_unused_for_the_idle_time_is_not_a_login(anna, anna_api, now, settings):
    settings.API_TOKEN_IDLE_DAYS = 30
    assert anna_api.get("/me").status_code == 200

    now.shift(timedelta(days=31))
    assert anna_api.get("/me").status_code == 401


# The browser's session ----------------------------------------------------------------------
@pytest.fixture
def browser(anna):
    """Anna's browser: logged in by session cookie, with Django's CSRF checks on."""
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(anna.user)
    return http


def csrf_cookie(http) -> str:
    # Any page that renders a form sets the cookie; the API's docs page is one.
    http.get("/api/v1/docs")
    return http.cookies["csrftoken"].value


def test_the_session_cookie_logs_in_for_reading(browser, anna):
    response = browser.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["id"] == anna.pk


def test_a_write_by_session_without_the_csrf_token_is_refused(browser):
    csrf_cookie(browser)

    response = browser.post("/api/v1/therapist/slots", {"start": "2027-01-12T09:00:00+01:00"}, content_type="application/json")

    assert response.status_code == 403
    assert not Slot.objects.exists()


def test_a_write_by_session_with_a_wrong_csrf_token_is_refused(browser):
    csrf_cookie(browser)

    response = browser.post(
        "/api/v1/therapist/slots", {"start": "2027-01-12T09:00:00+01:00"}, content_type="application/json",
        headers={"X-CSRFToken": "x" * 32},
    )

    assert response.status_code == 403
    assert not Slot.objects.exists()


def test_a_write_by_session_with_the_csrf_token_from_the_cookie_works(browser, anna):
    token = csrf_cookie(browser)

    response = browser.post(
        "/api/v1/therapist/slots", {"start": "2027-01-12T09:00:00+01:00"}, content_type="application/json",
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 201
    assert Slot.objects.filter(therapist=anna).count() == 1


def test_a_bearer_token_needs_no_csrf_token(anna):
    from domain.services import token_create

    http = HttpClient(enforce_csrf_checks=True)
    response = http.post(
        "/api/v1/therapist/slots", {"start": "2027-01-12T09:00:00+01:00"}, content_type="application/json",
        headers={"Authorization": f"Bearer {token_create(user=anna.user)}"},
    )

    assert response.status_code == 201


# A write without a login --------------------------------------------------------------------
def writes_needing_a_login() -> list[tuple[str, str]]:
    """(method, path) of every API write whose operation in the OpenAPI document needs a login."""
    from api.api import api

    paths = api.get_openapi_schema()["paths"]
    return sorted(
        (method, path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method in ("post", "put", "patch", "delete") and operation.get("security")
    )


WRITES = writes_needing_a_login()
def body_for(method: str, path: str, ids: dict) -> dict:
    """A body the write would accept from the right caller, so that a hole would change something."""
    return {
        ("patch", "/api/v1/therapist/settings"): {"default_price": 1234},
        ("post", "/api/v1/therapist/slots"): {"start": "2027-01-20T09:00:00+01:00"},
        ("patch", "/api/v1/therapist/slots/{slot_id}"): {"price": 900},
        ("post", "/api/v1/therapist/clients"): {
            "first_name": "Ny", "last_name": "Klient", "personnummer": pnr("19990909", "321"), "email": "ny@example.se"},
        ("post", "/api/v1/therapist/slots/{slot_id}/booking"): {"client_id": ids["client_id"], "mode": "video"},
        ("post", "/api/v1/slots/{slot_id}/book"): {"mode": "video"},
    }.get((method, path), {})


def revoked_token(user) -> str:
    key = services.token_create(user=user)
    services.token_revoke(key=key)
    return key


def idle_token(user) -> str:
    key = services.token_create(user=user)
    ApiToken.objects.filter(key_hash=ApiToken.hash(key)).update(last_used_at=at("2026-01-01 08:00"))
    return key


CALLERS = {
    "anonymous": lambda user: None,
    "a garbage bearer token": lambda user: "not-a-token",
    "a revoked token": revoked_token,
    "a token unused for the idle time": idle_token,
}


def what_a_write_could_change():
    return (
        sorted(Slot.objects.values_list("pk", "start_at", "price")),
        sorted(Booking.objects.values_list("pk", "slot_id", "status")),
        Client.objects.count(),
        list(Therapist.objects.values_list("pk", "default_price")),
        ApiToken.objects.count(),
    )


def test_the_walk_finds_every_write():
    assert len(WRITES) >= 9, WRITES  # the nine of API.md, and any added later
    assert ("delete", "/api/v1/auth/token") in WRITES and ("post", "/api/v1/slots/{slot_id}/book") in WRITES


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
@pytest.mark.parametrize("caller", CALLERS)
def test_a_write_without_a_valid_login_is_401_never_a_csrf_403(method, path, caller, anna, erik):
    """API.md: a write without a valid login (no token, a revoked or expired one) is 401, so a
    client knows to log in again; CSRF concerns only a browser that is logged in."""
    slot = slot_for(anna, "2027-01-13 09:00")
    booking = booked(slot_for(anna, "2027-01-14 09:00"), erik)
    ids = {"slot_id": slot.pk, "booking_id": booking.pk, "client_id": erik.pk}
    token = CALLERS[caller](anna.user if "therapist" in path else erik.user)
    body = body_for(method, path, ids)
    http = HttpClient(enforce_csrf_checks=True)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    before = what_a_write_could_change()

    response = getattr(http, method)(path.format(**ids), body, content_type="application/json", headers=headers)

    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Unauthorized"}
    assert what_a_write_could_change() == before
