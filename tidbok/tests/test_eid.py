"""eID log-in (R26, R27) against a real OpenID provider (tidbok/tests/oidc/provider.mjs, node's
oidc-provider) with Django's test client: connecting a logged-in client (a), logging in to
the account that carries the verified personnummer (b), the e-mail step for someone new (c),
and what happens when the provider is away, cancelled or misconfigured. Nothing of the
provider or of Tidbok is mocked. Real clock: the provider's tokens carry real times."""

import logging
import re
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client as HttpClient
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from conftest import free_port, run_worker
from domain.models import Client, ClientLink, OutboundEmail, User
from domain.services import booking_create_by_therapist, client_add, client_personnummer_verify, slot_create

from .conftest import PEOPLE, ROOT, at_provider, eid_configured, eid_round_trip

NILS, ERIK, SAGA = PEOPLE["nils"]["number"], PEOPLE["erik"]["number"], PEOPLE["saga"]["number"]


def session_client(user=None) -> HttpClient:
    http = HttpClient()
    if user is not None:
        http.force_login(user)
    return http


def logged_in_as(http) -> int | None:
    value = http.session.get(SESSION_KEY)
    return int(value) if value is not None else None


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Off unless configured ------------------------------------------------------------------------


def test_without_oidc_issuer_there_is_no_eid_url_no_backend_and_no_button(erik, settings):
    assert settings.OIDC_ISSUER == ""
    assert "tidbok.eid.EidBackend" not in settings.AUTHENTICATION_BACKENDS
    with pytest.raises(NoReverseMatch):
        reverse("eid_start")
    anonymous = session_client()
    for path in ("/login/eid/", "/login/eid/callback/?code=x&state=y", "/login/eid/nytt-konto/"):
        assert anonymous.get(path).status_code == 404
    for path in ("/logga-in/", "/skapa-konto/"):
        page = anonymous.get(path)
        assert page.status_code == 200 and "BankID" not in page.content.decode()
    account = session_client(erik.user).get("/konto/")
    assert account.status_code == 200 and "BankID" not in account.content.decode()


def test_with_the_provider_configured_the_buttons_are_there(provider, erik, anna):
    anonymous = session_client()
    for path in ("/logga-in/?next=/mina-bokningar/", "/skapa-konto/?next=/mina-bokningar/"):
        page = anonymous.get(path).content.decode()
        assert 'href="/login/eid/?next=/mina-bokningar/"' in page and "Logga in med BankID" in page
    assert "Koppla BankID" in session_client(erik.user).get("/konto/").content.decode()
    # A therapist has no client profile to connect.
    assert "BankID" not in session_client(anna.user).get("/konto/").content.decode()


def settings_with(env: dict) -> subprocess.CompletedProcess:
    code = "import django; from django.conf import settings as s; django.setup(); print(s.AUTHENTICATION_BACKENDS)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "tidbok.settings", "SECRET_KEY": "s" * 50,
             "TIDBOK_DATA_DIR": str(ROOT / "data"), **env},
    )


def test_the_settings_are_strict_about_eid():
    on = settings_with({"OIDC_ISSUER": "https://tidbok.idura.broker", "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s"})
    assert on.returncode == 0 and "tidbok.eid.EidBackend" in on.stdout
    for env in (
        {"OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s"},  # a misspelt OIDC_ISSUER: not quietly off
        {"OIDC_ISSUER": "https://tidbok.idura.broker", "OIDC_CLIENT_ID": "c"},
        {"OIDC_ISSUER": "http://broker.example", "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s"},
        {"OIDC_ISSUER": "https://b.example", "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s", "OIDC_SCOPES": "profile"},
        {"OIDC_ISSUER": "https://b.example", "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s",
         "OIDC_PERSONNUMMER_CLAIM": " "},
    ):
        result = settings_with(env)
        assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr, env


# a. A logged-in client connects BankID ---------------------------------------------------------


def test_a_client_connects_bankid_and_her_therapists_own_record_with_its_bookings_joins_her(anna, bo, erik, provider):
    Client.objects.filter(pk=erik.pk).update(personnummer=ERIK, personnummer_verified=False)
    record = client_add(therapist=bo, actor=bo.user, first_name="Erik", last_name="E", personnummer=ERIK,
                        email="erik.gammal@example.se")
    slot = slot_create(therapist=bo, actor=None, start=(timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0))
    booking = booking_create_by_therapist(therapist=bo, slot=slot, client=record, mode="video", actor=bo.user)
    http = session_client(erik.user)

    back = eid_round_trip(http, "erik")

    assert back.status_code == 302 and back["Location"] == "/konto/"
    erik.refresh_from_db()
    assert (erik.personnummer, erik.personnummer_verified) == (ERIK, True)
    assert not Client.objects.filter(pk=record.pk).exists()
    booking.refresh_from_db()
    assert booking.client_id == erik.pk
    assert ClientLink.objects.get(therapist=bo, client=erik).source == ClientLink.Source.OWN
    assert logged_in_as(http) == erik.user.pk  # still herself
    page = http.get("/konto/")
    assert "BankID är kopplat" in " ".join(messages_of(page))
    assert "Koppla BankID" not in page.content.decode()
    assert http.get("/mina-bokningar/").content.decode().count("Bo Berg") >= 1


def test_connecting_a_personnummer_another_account_holds_verified_changes_nothing(erik, nora, anna, provider):
    client_personnummer_verify(user=nora.user, personnummer=ERIK)
    erik_number = erik.personnummer
    record = client_add(therapist=anna, actor=anna.user, first_name="E", last_name="E", personnummer=ERIK,
                        email="e@example.se")
    http = session_client(erik.user)

    back = eid_round_trip(http, "erik")

    assert back["Location"] == "/konto/"
    assert "Ett annat konto är redan verifierat med det här personnumret." in messages_of(http.get("/konto/"))
    erik.refresh_from_db()
    assert (erik.personnummer, erik.personnummer_verified) == (erik_number, False)
    nora.refresh_from_db()
    assert (nora.personnummer, nora.personnummer_verified) == (ERIK, True)
    record.refresh_from_db()
    assert record.user_id is None  # still the therapist's own record, joined to nobody
    assert logged_in_as(http) == erik.user.pk


def test_a_client_already_verified_is_not_sent_to_the_provider_again(erik, provider):
    Client.objects.filter(pk=erik.pk).update(personnummer=SAGA, personnummer_verified=True)
    http = session_client(erik.user)

    response = http.get("/login/eid/")

    assert response["Location"] == "/konto/"
    assert "Ditt konto är redan kopplat till BankID." in messages_of(http.get("/konto/"))


def test_a_therapist_cannot_connect_bankid(anna, provider):
    http = session_client(anna.user)
    response = http.get("/login/eid/")
    assert response["Location"] == "/konto/"
    assert not Client.objects.filter(user=anna.user).exists()


def test_cancelling_at_the_provider_while_connecting_keeps_her_logged_in_and_changes_nothing(erik, provider):
    http = session_client(erik.user)

    back = eid_round_trip(http, None)

    assert back["Location"] == "/konto/"
    assert logged_in_as(http) == erik.user.pk
    assert "Inloggningen med BankID avbröts." in messages_of(http.get("/konto/"))
    erik.refresh_from_db()
    assert erik.personnummer_verified is False


# b. The account that carries the verified personnummer --------------------------------------


@pytest.mark.parametrize("style", ["idura", "signicat"])
def test_a_second_eid_login_logs_into_the_same_account(style, start_provider, settings, anna, bo):
    # Idura: `ssn` in the ID token; Signicat: `nin`, its own scope, only from userinfo.
    provider = (
        start_provider() if style == "idura"
        else start_provider(claim="nin", claim_scope="nin", id_token_claims=False)
    )
    with eid_configured(**provider.settings()):
        first = session_client()
        back = eid_round_trip(first, "saga", start="/login/eid/?next=/mina-bokningar/")
        assert back["Location"] == "/login/eid/nytt-konto/"
        signup = {"email": "saga@example.se", "accept_privacy_policy": "on"}
        assert first.post("/login/eid/nytt-konto/", signup).status_code == 200
        saga = User.objects.get(email="saga@example.se")
        assert saga.email_verified is False  # she has not opened the link yet

        second = session_client()
        back = eid_round_trip(second, "saga", start="/login/eid/?next=/mina-bokningar/")

        assert back.status_code == 302 and back["Location"] == "/mina-bokningar/"
        assert logged_in_as(second) == saga.pk
        assert second.get("/mina-bokningar/").status_code == 200
        assert User.objects.filter(client__personnummer=SAGA).count() == 1


def test_an_eid_login_whose_personnummer_an_account_only_typed_does_not_log_in_to_it(nora, provider):
    Client.objects.filter(pk=nora.pk).update(personnummer=NILS)  # typed, unverified (R26)
    http = session_client()

    back = eid_round_trip(http, "nils")

    assert back["Location"] == "/login/eid/nytt-konto/"
    assert logged_in_as(http) is None


# c. Someone new gives an e-mail address ------------------------------------------------------


def test_a_new_person_gets_the_same_page_whether_or_not_the_address_has_an_account(nora, provider):
    pages = []
    for login, email in (("nils", "nils.ny@example.se"), ("saga", nora.email)):
        http = session_client()
        eid_round_trip(http, login)
        form = http.get("/login/eid/nytt-konto/")
        assert form.status_code == 200
        person = PEOPLE[login]
        assert f"{person['given_name']} {person['family_name']}" in form.content.decode()
        assert person["number"] not in form.content.decode()
        assert person["number"].replace("-", "") not in form.content.decode()
        answer = http.post("/login/eid/nytt-konto/", {"email": email, "accept_privacy_policy": "on"})
        assert answer.status_code == 200
        pages.append(re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", answer.content.decode()).replace(email, "ADDRESS"))
        # One account request per eID log-in.
        assert http.get("/login/eid/nytt-konto/").status_code == 400
    assert pages[0] == pages[1]

    new = User.objects.get(email="nils.ny@example.se")
    assert (new.email_verified, new.has_usable_password()) == (False, False)
    assert (new.client.personnummer, new.client.personnummer_verified) == (NILS, True)
    assert (new.first_name, new.last_name) == ("Nils", "Nyström")
    assert OutboundEmail.objects.get(to="nils.ny@example.se").kind == "email_verification"
    note = OutboundEmail.objects.get(to=nora.email)
    assert note.kind == "eid_account_exists"
    assert "/logga-in/?next=%2Fkonto%2F" in note.body and "Koppla BankID" in note.body and "BankID" in note.subject
    nora.refresh_from_db()
    assert (nora.personnummer_verified, nora.personnummer != SAGA) == (False, True)  # nothing changed
    assert not Client.objects.filter(personnummer=SAGA).exists()  # Saga's proof was not kept


def test_the_proven_personnummer_waits_in_the_session_for_ten_minutes_only(provider):
    http = session_client()
    back = eid_round_trip(http, "nils")
    assert NILS not in back["Location"] and NILS.replace("-", "") not in back["Location"]  # R24: never a URL
    assert http.get("/login/eid/nytt-konto/").status_code == 200

    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=5)):
        late = http.post("/login/eid/nytt-konto/", {"email": "nils.sen@example.se", "accept_privacy_policy": "on"})

    assert late.status_code == 400
    assert "Logga in med BankID igen" in late.content.decode()
    assert not User.objects.filter(email="nils.sen@example.se").exists()
    assert "eid_pending" not in http.session


def stored_session(key: str) -> dict:
    return Session.objects.get(session_key=key).get_decoded()


@pytest.mark.django_db(transaction=True)
def test_a_personnummer_nobody_came_back_for_is_taken_out_of_the_session_after_ten_minutes(start_provider):
    provider = start_provider()
    with eid_configured(**provider.settings()):
        http = session_client()
        eid_round_trip(http, "nils")
    key = http.session.session_key
    run_worker()  # not due yet
    assert stored_session(key)["eid_pending"]["personnummer"] == NILS

    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=10)):
        run_worker()

    assert "eid_pending" not in stored_session(key)


def test_logging_in_another_way_drops_the_waiting_personnummer(provider, erik):
    http = session_client()
    eid_round_trip(http, "nils")
    assert "eid_pending" in http.session

    http.post("/logga-in/", {"email": erik.email, "password": "correct horse battery"})

    assert logged_in_as(http) == erik.user.pk
    assert "eid_pending" not in http.session


def test_the_link_in_the_mail_confirms_the_address_and_logs_her_in_where_she_proved_it(provider, settings):
    http = session_client()
    eid_round_trip(http, "nils")
    http.post("/login/eid/nytt-konto/", {"email": "nils.ny@example.se", "accept_privacy_policy": "on"})
    mail = OutboundEmail.objects.get(to="nils.ny@example.se", kind="email_verification")
    link = next(line for line in mail.body.splitlines() if line.startswith(settings.SITE_URL))

    response = http.post(link.removeprefix(settings.SITE_URL))

    user = User.objects.get(email="nils.ny@example.se")
    assert response.status_code == 302
    assert logged_in_as(http) == user.pk
    assert user.email_verified is True


def test_the_link_opened_in_another_browser_confirms_the_address_but_does_not_log_in(provider, settings):
    """Someone who proved his own personnummer and typed her address must not be able to mail
    her a link that logs her in to his account (where her bookings would be his to read)."""
    http = session_client()
    eid_round_trip(http, "nils")
    http.post("/login/eid/nytt-konto/", {"email": "nils.ny@example.se", "accept_privacy_policy": "on"})
    mail = OutboundEmail.objects.get(to="nils.ny@example.se", kind="email_verification")
    link = next(line for line in mail.body.splitlines() if line.startswith(settings.SITE_URL))

    browser = session_client()
    response = browser.post(link.removeprefix(settings.SITE_URL))

    assert response.status_code == 302 and response["Location"] == "/logga-in/"
    assert logged_in_as(browser) is None
    assert User.objects.get(email="nils.ny@example.se").email_verified is True


# The provider away, misconfigured, or tampered with ------------------------------------------


def test_an_unreachable_provider_gives_a_clear_page_not_a_500(db):
    closed = f"http://127.0.0.1:{free_port()}"
    with eid_configured(OIDC_ISSUER=closed, OIDC_CLIENT_ID="c", OIDC_CLIENT_SECRET="s", OIDC_TIMEOUT=2):
        response = session_client().get("/login/eid/")
        # The other pages do not need the provider: the log-in page shows its button.
        login_page = session_client().get("/logga-in/")

    assert response.status_code == 503
    assert "Inloggning med e-legitimation fungerar inte just nu." in response.content.decode()
    assert login_page.status_code == 200 and "Logga in med BankID" in login_page.content.decode()


def test_a_provider_gone_between_the_start_and_the_callback_gives_the_same_page(start_provider):
    provider = start_provider()
    with eid_configured(**provider.settings()):
        http = session_client()
        start = http.get("/login/eid/")
        back_to_tidbok = at_provider(start["Location"], "nils")
        provider.stop()  # before Tidbok trades the code for tokens

        response = http.get(back_to_tidbok)

    assert response.status_code == 503
    assert "fungerar inte just nu" in response.content.decode()
    assert not User.objects.exists()


def test_a_wrong_client_secret_is_refused_by_the_provider_and_logged(start_provider, caplog, erik):
    provider = start_provider()
    with eid_configured(**{**provider.settings(), "OIDC_CLIENT_SECRET": "not-the-secret"}):
        http = session_client(erik.user)
        with caplog.at_level(logging.WARNING):
            back = eid_round_trip(http, "erik")

    assert back["Location"] == "/konto/"
    assert "OIDC_CLIENT_SECRET" in caplog.text
    erik.refresh_from_db()
    assert erik.personnummer_verified is False


def test_a_claim_name_that_does_not_fit_the_provider_verifies_nothing_and_says_which(start_provider, caplog):
    provider = start_provider()  # gives `ssn`
    with eid_configured(**{**provider.settings(), "OIDC_PERSONNUMMER_CLAIM": "nin"}):
        http = session_client()
        with caplog.at_level(logging.WARNING):
            back = eid_round_trip(http, "nils")
        page = http.get(back["Location"])

    assert back["Location"] == "/logga-in/"
    assert "gav inget svenskt personnummer" in " ".join(messages_of(page))
    assert "'nin'" in caplog.text and "ssn" in caplog.text  # which claim was asked for, which were there
    assert NILS.replace("-", "") not in caplog.text and NILS not in caplog.text
    assert not User.objects.exists()


def test_a_ten_digit_number_from_the_provider_is_not_taken_for_a_personnummer(start_provider):
    # A Danish CPR number is ten digits (DDMMYY-SSSS) and may pass Swedish checks; brokers give
    # Swedish ones with the century.
    ten_digits = PEOPLE["nils"]["number"].replace("-", "")[2:]
    provider = start_provider(extra_accounts={"dansk": {"ssn": ten_digits, "given_name": "D", "family_name": "K"}})
    with eid_configured(**provider.settings()):
        http = session_client()
        back = eid_round_trip(http, "dansk")

    assert back["Location"] == "/logga-in/"
    assert "eid_pending" not in http.session


def test_a_callback_with_a_state_this_browser_never_sent_logs_nobody_in(provider, erik):
    client_personnummer_verify(user=erik.user, personnummer=ERIK)
    victim = session_client()
    victim.get("/login/eid/")  # her own log-in under way
    attacker = session_client()
    back_to_tidbok = at_provider(attacker.get("/login/eid/")["Location"], "erik")

    response = victim.get(back_to_tidbok)  # the attacker's code and state, in her browser

    assert response.status_code == 302 and response["Location"] == "/logga-in/"
    assert logged_in_as(victim) is None


def test_the_way_back_from_the_provider_works_once(provider, erik):
    client_personnummer_verify(user=erik.user, personnummer=ERIK)
    http = session_client()
    back_to_tidbok = at_provider(http.get("/login/eid/")["Location"], "erik")
    assert http.get(back_to_tidbok)["Location"] == "/"
    assert logged_in_as(http) == erik.user.pk
    http.post("/logga-ut/")

    again = http.get(back_to_tidbok)  # from the browser's history, say

    assert again.status_code == 302 and again["Location"] == "/logga-in/"
    assert logged_in_as(http) is None


def test_an_eid_round_trip_logs_no_personnummer(provider, caplog, settings):
    with caplog.at_level(logging.DEBUG):
        http = session_client()
        eid_round_trip(http, "nils")
        http.post("/login/eid/nytt-konto/", {"email": "nils.ny@example.se", "accept_privacy_policy": "on"})
        eid_round_trip(session_client(), "nils")
    text = caplog.text
    digits = NILS.replace("-", "")
    assert NILS not in text and digits not in text and digits[2:] not in text


def test_an_issuer_that_is_not_the_one_its_discovery_document_names_is_refused(start_provider, caplog):
    provider = start_provider()  # its issuer is http://127.0.0.1:PORT
    misspelt = provider.issuer.replace("127.0.0.1", "localhost")
    with eid_configured(**{**provider.settings(), "OIDC_ISSUER": misspelt}):
        with caplog.at_level(logging.ERROR):
            response = session_client().get("/login/eid/")

    assert response.status_code == 503
    assert "does not fit" in caplog.text and provider.issuer in caplog.text


def test_the_e_mail_step_needs_the_csrf_token(provider):
    http = HttpClient(enforce_csrf_checks=True)
    eid_round_trip(http, "nils")
    assert http.post("/login/eid/nytt-konto/", {"email": "nils.ny@example.se", "accept_privacy_policy": "on"}).status_code == 403
    assert not User.objects.filter(email="nils.ny@example.se").exists()
