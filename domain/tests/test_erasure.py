"""R41: a client erases her account. The done-when test goes the whole way, through the API and
the real worker and SMTP server: sign up (with consent), book with two therapists, be read
by them, erase; then every text-like column of every table of the database is searched for
her name, address and personnummer, the therapists still see their past bookings, and each
was mailed (without her name) about the cancelled future ones.

Time is frozen on Monday 2027-01-11 08:00 in Stockholm (`now`) and moved on by the tests."""

import re

import pytest
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test import Client as HttpClient

from api.tests.helpers import booked, past_slot, slot_for
from conftest import Api, at, mailed_link, pnr, run_worker
from domain import services
from domain.models import AuditEntry, Booking, Client, ClientLink, OutboundEmail, User
from domain.privacy import POLICY_VERSION

PASSWORD = "lingon-sylt-1987"
FIRST, LAST = "Zelmira", "Östqvist"
EMAIL = "zelmira.ostqvist@example.se"
PERSONNUMMER = pnr("19880214", "457")


def needles() -> list[str]:
    digits = PERSONNUMMER.replace("-", "")
    return [FIRST, LAST, "Ostqvist", EMAIL, PERSONNUMMER, digits, digits[2:], f"{digits[2:8]}-{digits[8:]}"]


TEXT_TYPES = re.compile(r"char|text|json|clob|string", re.IGNORECASE)


def traces(found_in=None) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) where a text-like column of any table holds one of her
    needles, case-insensitively: the tables from the connection's introspection, the column
    types as the database declares them (SQLite) or names them (PostgreSQL)."""
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            description = connection.introspection.get_table_description(cursor, table)
            quote = connection.ops.quote_name
            for column in description:
                kind = column.type_code
                if connection.vendor == "postgresql":
                    cursor.execute(
                        "SELECT data_type FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
                        [table, column.name],
                    )
                    kind = cursor.fetchone()[0]
                if not TEXT_TYPES.search(str(kind)):
                    continue
                cursor.execute(f"SELECT {quote(column.name)} FROM {quote(table)} WHERE {quote(column.name)} IS NOT NULL")
                for (value,) in cursor.fetchall():
                    text = str(value).lower()
                    for needle in needles():
                        if needle.lower() in text:
                            hits.append((table, column.name, needle))
    return hits


def test_the_search_finds_her_wherever_she_is_before_the_erasure(db):
    """The search itself can fail: before the erasure it finds her in the tables she is in."""
    services.account_create(role="client", email=EMAIL, password=PASSWORD, first_name=FIRST, last_name=LAST,
                            personnummer=PERSONNUMMER)
    found = {(table, column) for table, column, _ in traces()}
    assert {("domain_user", "email"), ("domain_user", "first_name"), ("domain_client", "personnummer"),
            ("domain_client", "search_name")} <= found


def sign_up_and_log_in() -> tuple[User, Api, HttpClient]:
    """Through the API and the worker, as she would: sign up with consent, follow the mailed
    link with her password (a session), and take an API token."""
    anon = Api()
    response = anon.post("/auth/signup", {
        "role": "client", "email": EMAIL, "password": PASSWORD, "first_name": FIRST, "last_name": LAST,
        "personnummer": PERSONNUMMER, "accept_privacy_policy": POLICY_VERSION,
    })
    assert response.status_code == 202, response.content
    run_worker()  # the sign-up request is the worker's; its task result is a table row too
    browser = HttpClient()
    response = browser.post(mailed_link("email_verification", EMAIL), {"password": PASSWORD})
    assert response.status_code == 302, response.content
    token = anon.post("/auth/token", {"email": EMAIL, "password": PASSWORD}).json()["token"]
    user = User.objects.get(email=EMAIL)
    assert user.privacy_policy_version == POLICY_VERSION and user.privacy_policy_accepted_at is not None
    return user, Api(token), browser


@pytest.mark.django_db(transaction=True)
def test_an_erased_client_leaves_no_trace_and_her_therapists_keep_their_past_bookings(now, smtp, anna, bo):
    from conftest import api_for

    services.client_booster_set(therapist=bo, on=True, actor=None)  # so that she finds him on the platform
    anna_api, bo_api = api_for(anna.user), api_for(bo.user)
    user, her_api, browser = sign_up_and_log_in()
    # One past and one future booking with each therapist: booked now, the first ones held
    # by the time she erases.
    slots = {
        (anna, "past"): slot_for(anna, "2027-01-12 09:00"), (bo, "past"): slot_for(bo, "2027-01-12 11:00"),
        (anna, "future"): slot_for(anna, "2027-01-20 09:00"), (bo, "future"): slot_for(bo, "2027-01-20 11:00"),
    }
    bookings = {}
    for key, slot in slots.items():
        response = her_api.post(f"/slots/{slot.pk}/book", {"mode": "video"})
        assert response.status_code == 201, response.content
        bookings[key] = response.json()["id"]
    # Read by both: the client list, the calendar with her personnummer.
    for api in (anna_api, bo_api):
        assert api.get("/therapist/clients").json()[0]["personnummer"] == PERSONNUMMER
        assert api.get("/therapist/calendar", start="2027-01-11T00:00:00+01:00").status_code == 200
    # A request left waiting and a failed log-in's counter, as life leaves them.
    services.password_reset_request(email=EMAIL, source="127.0.0.1")
    run_worker()
    smtp.envelopes.clear()
    assert traces()  # she is there, everywhere

    now.move_to(at("2027-01-14 08:00"))
    assert her_api._call("delete", "/me", {"password": "not her password"}).status_code == 400
    response = her_api._call("delete", "/me", {"password": PASSWORD})
    assert response.status_code == 204, response.content
    run_worker()

    assert traces() == []
    assert not User.objects.filter(pk=user.pk).exists()
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)]
    assert her_api.get("/me").status_code == 401
    assert browser.get("/mina-bokningar/").status_code == 302  # her session is gone: to the log-in
    # Both therapists keep their past booking, confirmed, with an anonymous client; the future
    # ones are cancelled.
    for therapist, api in ((anna, anna_api), (bo, bo_api)):
        past = Booking.objects.get(pk=bookings[(therapist, "past")])
        future = Booking.objects.get(pk=bookings[(therapist, "future")])
        assert past.status == "confirmed" and future.status == "cancelled"
        assert past.client.erased_at is not None and past.client.user_id is None
        assert (past.client.first_name, past.client.personnummer, past.client.email) == ("Raderad", "", "")
        entries = api.get("/therapist/calendar", start="2027-01-11T00:00:00+01:00").json()
        [entry] = [e for e in entries if e["booking"] and e["booking"]["id"] == past.pk]
        assert entry["booking"]["client"]["first_name"] == "Raderad"
        assert not ClientLink.objects.filter(therapist=therapist, client=past.client).exists()
        view = HttpClient()
        view.force_login(therapist.user)
        page = view.get(f"/kalender/tider/{past.slot_id}/").content.decode()
        assert "Raderad klient" in page and FIRST not in page
    assert anna.bookings.get(pk=bookings[(anna, "past")]).client_id != bo.bookings.get(pk=bookings[(bo, "past")]).client_id
    # Each therapist was mailed about her cancelled future booking, by time and without a name.
    for therapist, when in ((anna, "onsdag 20 januari 2027 kl. 09:00"), (bo, "onsdag 20 januari 2027 kl. 11:00")):
        [mail] = [m for e, m in zip(smtp.envelopes, smtp.messages, strict=True) if e.rcpt_tos == [therapist.user.email]]
        assert " ".join(mail["Subject"].split()) == f"Avbokad: {when}"
        body = mail.get_body(preferencelist=("plain",)).get_content()
        assert "raderat sitt konto" in body
        raw = mail.as_string().lower()
        assert all(n.lower() not in raw for n in needles())
    assert len(smtp.envelopes) == 2  # nothing to her


@pytest.mark.django_db
def test_a_therapist_who_added_her_keeps_her_own_record_of_her(now, anna, bo, make_client):
    """R26 with R41: Anna typed her as her own client and the record was joined to her
    account; after the erasure Anna's record of her is back on Anna's list as Anna typed
    it, with Anna's past booking; Bo, whom she found on the platform, keeps a placeholder."""
    client = make_client(first=FIRST, last=LAST, email=EMAIL, therapist=bo, source="platform")
    record = services.client_add(therapist=anna, actor=anna.user, first_name=FIRST, last_name="Östqvist-Berg",
                                 personnummer=PERSONNUMMER, email=EMAIL, phone="070-123 45 67")
    with transaction.atomic():
        services.client_merge(record=record, into=client, actor=client.user)
    a_past = Booking.objects.create(therapist=anna, client=client, start_at=at("2027-01-04 09:00"),
                                    end_at=at("2027-01-04 09:45"), price=1000, mode="video",
                                    slot=past_slot(anna, "2027-01-04 09:00"))
    b_past = Booking.objects.create(therapist=bo, client=client, start_at=at("2027-01-05 09:00"),
                                    end_at=at("2027-01-05 09:45"), price=900, mode="video",
                                    slot=past_slot(bo, "2027-01-05 09:00"))
    future = booked(slot_for(anna, "2027-01-11 10:00"), client)  # inside her 24-hour cut-off

    services.account_erase(user=client.user, password="correct horse battery", source="127.0.0.1")

    a_past.refresh_from_db()
    b_past.refresh_from_db()
    future.refresh_from_db()
    kept = a_past.client
    assert (kept.first_name, kept.last_name, kept.email) == (FIRST, "Östqvist-Berg", EMAIL)
    assert kept.personnummer == client.personnummer and kept.user_id is None and kept.erased_at is None
    assert ClientLink.objects.get(therapist=anna, client=kept).source == "own"
    assert future.status == "cancelled" and future.client_id == kept.pk  # the cut-off binds no erasure
    assert b_past.client.erased_at is not None and b_past.client.first_name == "Raderad"
    assert not ClientLink.objects.filter(therapist=bo, client=b_past.client).exists()
    assert not Client.objects.filter(pk=client.pk).exists()
    # The audit trail keeps its entries about her, by ids only.
    for entry in AuditEntry.objects.filter(target_type="booking", target_id__in=[a_past.pk, future.pk]):
        for data in (entry.before, entry.after):
            assert data is None or all(k.endswith("id") for k in data), data
    # Nothing was mailed to her; Anna was told, without a name.
    assert not OutboundEmail.objects.filter(to=EMAIL).exists()
    [told] = OutboundEmail.objects.filter(to=anna.user.email, kind="therapist_booking_erased")
    assert FIRST not in told.body and EMAIL not in told.ics and "ATTENDEE" not in told.ics


@pytest.mark.django_db
def test_a_therapists_or_staffs_account_is_not_erased(anna, anna_api, make_therapist):
    response = anna_api._call("delete", "/me", {"password": "correct horse battery"})
    assert response.status_code == 409
    assert response.json()["code"] == "account_not_erasable"
    assert User.objects.filter(pk=anna.user.pk).exists()
    staff = User.objects.create_superuser(email="staff@example.se", password="correct horse battery")
    from conftest import api_for

    response = api_for(staff)._call("delete", "/me", {"password": "correct horse battery"})
    assert response.status_code == 409 and User.objects.filter(pk=staff.pk).exists()


@pytest.mark.django_db
def test_a_wrong_password_erases_nothing_and_guessing_is_throttled(erik, erik_api, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        response = erik_api._call("delete", "/me", {"password": "guess"})
        assert response.status_code == 400 and response.json()["code"] == "wrong_password"
    response = erik_api._call("delete", "/me", {"password": "correct horse battery"})
    assert response.status_code == 429
    assert User.objects.filter(pk=erik.user_id).exists()


@pytest.mark.django_db
def test_the_erase_body_is_checked(erik, erik_api):
    response = erik_api._call("delete", "/me", {})
    assert response.status_code == 422
    assert "password" in str(response.json())
    assert User.objects.filter(pk=erik.user_id).exists()


@pytest.mark.django_db
def test_sqlite_overwrites_what_is_deleted():
    """On SQLite (`make run`), a deleted row's bytes do not stay readable in the file's free
    pages (PRAGMA secure_delete): an erasure removes her from the file, not only the tables."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's file only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1
