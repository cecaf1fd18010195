"""Accounts: POST /auth/signup, POST /auth/token, GET /me, and how a caller proves who she is
(a bearer token, or the browser's session cookie with CSRF)."""

from datetime import timedelta

import pytest
from django.test import Client as HttpClient

from api.tests.helpers import assert_invalid, booked, local_iso, slot_for
from conftest import Api, at, mailed_link, pnr, process_account_requests
from domain import services
from domain.models import AccountRequest, ApiToken, Booking, Client, OutboundEmail, Slot, Therapist, TimeOff, User, WaitlistEntry

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
        "first_name": "Ulla", "last_name": "Ek", "personnummer": pnr("19790115", "334")[2:], **overrides,
    }


@pytest.fixture
def ulla_number():
    """Ulla's personnummer: the 10-digit form she types, and the 12-digit form it becomes."""
    full = pnr("19790115", "334")
    return full[2:], full


# Sign-up (R26, R27) --------------------------------------------------------------------------
ACCEPTED = {"detail": "Kolla din e-post: vi har skickat en länk för att bekräfta adressen."}


def verify_and_log_in(email: str) -> dict:
    """Follow the newest verification link to `email` as her browser would, then ask for a
    token: the one way a new account gets in."""
    process_account_requests()
    link = mailed_link("email_verification", to=email)
    assert HttpClient().post(link, {"password": PASSWORD}).status_code == 302
    response = Api().post("/auth/token", {"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def test_a_sign_up_answers_202_and_the_account_logs_in_after_its_link(anon_api):
    response = anon_api.post("/auth/signup", therapist_signup())

    assert (response.status_code, response.json()) == (202, ACCEPTED)
    process_account_requests()
    assert anon_api.post("/auth/token", {"email": "tove@example.se", "password": PASSWORD}).status_code == 401
    body = verify_and_log_in("tove@example.se")
    assert body["role"] == "therapist"
    therapist = Therapist.objects.get(user__email="tove@example.se")
    assert Api(body["token"]).get("/me").json() == {
        "id": therapist.pk, "role": "therapist", "email": "tove@example.se", "first_name": "Tove", "last_name": "Lind",
    }
    assert (therapist.default_duration_minutes, therapist.default_price, therapist.timezone) == (45, 1000, "Europe/Stockholm")
    assert therapist.client_booster is False


def test_the_therapist_id_from_me_is_the_one_in_her_slots_url(anon_api):
    anon_api.post("/auth/signup", therapist_signup())
    me = Api(verify_and_log_in("tove@example.se")["token"]).get("/me").json()
    Therapist.objects.filter(pk=me["id"]).update(client_booster=True)
    Slot.objects.create(therapist_id=me["id"], start_at=at("2027-01-12 09:00"), end_at=at("2027-01-12 09:45"), price=1000)

    response = anon_api.get(f"/therapists/{me['id']}/slots")

    assert response.status_code == 200
    assert [s["start"] for s in response.json()] == [local_iso("2027-01-12 09:00")]


def test_a_client_keeps_her_personnummer_in_the_12_digit_form_unverified(anon_api, ulla_number):
    typed, full = ulla_number
    assert anon_api.post("/auth/signup", client_signup(personnummer=typed)).status_code == 202

    token = verify_and_log_in("ulla@example.se")["token"]

    client = Client.objects.get(user__email="ulla@example.se")
    assert (client.personnummer, client.personnummer_verified) == (full, False)
    assert Api(token).get("/me").json()["id"] == client.pk


def test_a_client_may_sign_up_without_a_personnummer(anon_api):
    body = client_signup()
    del body["personnummer"]

    assert anon_api.post("/auth/signup", body).status_code == 202
    verify_and_log_in("ulla@example.se")
    assert Client.objects.get(user__email="ulla@example.se").personnummer == ""


def test_sign_up_answers_alike_whatever_the_address_or_the_personnummer_belongs_to(
    anon_api, anna_api, nora, erik, ulla_number
):
    """Finding 3: no answer tells apart an address with an account, a personnummer on file,
    a therapist's record and nobody; each gets 202 with the same words."""
    typed, full = ulla_number
    added = anna_api.post("/therapist/clients", {"first_name": "Ulla", "last_name": "Ek", "personnummer": full,
                                                 "email": "ulla@example.se"})
    assert added.status_code == 201
    answers = [
        anon_api.post("/auth/signup", client_signup(email="new@example.se", personnummer=pnr("19770707", "135"))),
        anon_api.post("/auth/signup", client_signup(email=nora.email, personnummer=pnr("19770707", "135"))),
        anon_api.post("/auth/signup", client_signup(email="other@example.se", personnummer=erik.personnummer)),
        anon_api.post("/auth/signup", client_signup(personnummer=typed)),
        anon_api.post("/auth/signup", therapist_signup(email="ANNA@example.se")),
    ]

    assert {(r.status_code, r.content) for r in answers} == {(202, answers[0].content)}


def test_a_therapists_record_gets_no_mail_from_a_strangers_sign_up(anon_api, anna_api, ulla_number):
    """Finding 3: sign-up mails only the address typed; the person whose personnummer it is
    (on a therapist's list with another address) hears nothing of it."""
    typed, full = ulla_number
    added = anna_api.post("/therapist/clients", {"first_name": "Ulla", "last_name": "Ek", "personnummer": full,
                                                 "email": "ulla.real@example.se"})
    assert added.status_code == 201
    OutboundEmail.objects.all().delete()

    anon_api.post("/auth/signup", client_signup(email="typist@example.se", personnummer=typed))
    process_account_requests()

    assert list(OutboundEmail.objects.values_list("to", flat=True)) == ["typist@example.se"]


def test_too_many_sign_ups_from_one_address_answer_429(anon_api, settings):
    settings.ACCOUNT_REQUESTS_PER_HOUR = 2
    for i in range(2):
        assert anon_api.post("/auth/signup", therapist_signup(email=f"t{i}@example.se")).status_code == 202

    response = anon_api.post("/auth/signup", therapist_signup(email="t2@example.se"))

    assert response.status_code == 429 and response["Retry-After"] == "3600"
    assert response.json()["detail"]
    assert AccountRequest.objects.count() == 2


def test_it_stores_the_email_address_in_lower_case(anon_api):
    anon_api.post("/auth/signup", therapist_signup(email="Tove@Example.SE"))
    process_account_requests()

    assert User.objects.filter(email="tove@example.se").exists()


def test_it_refuses_a_client_whose_personnummer_has_a_wrong_check_digit(anon_api, ulla_number):
    _, full = ulla_number
    wrong = full[:-1] + str((int(full[-1]) + 1) % 10)

    response = anon_api.post("/auth/signup", client_signup(personnummer=wrong))

    assert_invalid(response, "personnummer")
    assert not AccountRequest.objects.exists()


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
        ("first_name", "Tove\nBcc: someone@example.se"),
        ("last_name", "Li\rnd"),
        ("last_name", "Li\u2028nd"),
    ],
)
def test_it_refuses_bad_signup_input_naming_the_field(anon_api, field, value):
    response = anon_api.post("/auth/signup", therapist_signup(**{field: value}))

    assert_invalid(response, field)
    assert not AccountRequest.objects.exists() and not User.objects.exists()


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
        ("post", "/api/v1/therapist/series"): SERIES_BODY | {"client_id": ids["client_id"]},
        ("post", "/api/v1/therapist/series/preview"): SERIES_BODY | {"client_id": ids["client_id"]},
        ("post", "/api/v1/therapist/series/{series_id}/cancel"): {"from": "2027-01-01"},
    }.get((method, path), {})


SERIES_BODY = {"start": "2027-02-01T10:00:00+01:00", "mode": "video", "weeks": 2}


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
        sorted(TimeOff.objects.values_list("pk", "start_at")),
        WaitlistEntry.objects.count(),
    )


def test_the_walk_finds_every_write():
    assert len(WRITES) >= 9, WRITES  # the nine of docs/api.md, and any added later
    assert ("delete", "/api/v1/auth/token") in WRITES and ("post", "/api/v1/slots/{slot_id}/book") in WRITES


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
@pytest.mark.parametrize("caller", CALLERS)
def test_a_write_without_a_valid_login_is_401_never_a_csrf_403(method, path, caller, anna, erik):
    """docs/api.md: a write without a valid login (no token, a revoked or expired one) is 401, so a
    client knows to log in again; CSRF concerns only a browser that is logged in."""
    slot = slot_for(anna, "2027-01-13 09:00")
    booking = booked(slot_for(anna, "2027-01-14 09:00"), erik)
    series = services.series_create(therapist=anna, client=erik, start=at("2027-01-18 10:00"), weeks=2, mode="video",
                                    actor=anna.user)
    ids = {"slot_id": slot.pk, "booking_id": booking.pk, "client_id": erik.pk, "series_id": series.pk,
           "token_id": ApiToken.objects.create(user=erik.user, key_hash="x" * 64).pk,
           "time_off_id": TimeOff.objects.create(therapist=anna, start_at=at("2027-03-01 00:00"),
                                                 end_at=at("2027-03-02 00:00")).pk,
           "therapist_id": anna.pk}
    token = CALLERS[caller](anna.user if "therapist" in path else erik.user)
    body = body_for(method, path, ids)
    http = HttpClient(enforce_csrf_checks=True)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    before = what_a_write_could_change()

    response = getattr(http, method)(path.format(**ids), body, content_type="application/json", headers=headers)

    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Inte inloggad: skicka en giltig API-nyckel (Authorization: Bearer …) eller logga in."}
    assert what_a_write_could_change() == before
