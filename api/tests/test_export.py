"""R40: GET /api/v1/client/export (everything about the caller, as a JSON file) and
GET /api/v1/therapist/export?format=csv|json (her clients and bookings). The CSV is read back
from the exact bytes with Python's csv module: UTF-8 with a BOM, `;`, Swedish letters intact,
and no cell a spreadsheet would run as a formula."""

import csv
import io
import json
from datetime import datetime

import pytest

from api.tests.helpers import booked, slot_for
from conftest import api_for, pnr
from domain import services
from domain.models import AccessRecord, ClientLink, OutboundEmail
from domain.privacy import POLICY_VERSION

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("now")]


def test_a_client_downloads_everything_tidbok_holds_about_her(anna, anna_api, bo, erik, erik_api):
    services.client_booster_set(therapist=bo, on=True, actor=None)
    booking = booked(slot_for(anna, "2027-01-12 09:00"), erik)
    other = services.booking_create_by_client(client=erik, slot=slot_for(bo, "2027-01-13 10:00"), mode="onsite",
                                              actor=erik.user)
    response = erik_api.get("/client/export")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="tidbok-mina-uppgifter.json"'
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["account"]["email"] == erik.user.email and data["account"]["id"] == erik.user_id
    assert data["client"] == {
        "id": erik.pk, "first_name": "Erik", "last_name": "Eriksson", "personnummer": erik.personnummer,
        "personnummer_verified": False, "email": erik.email, "phone": "", "language": "sv",
        "created": erik.created_at.isoformat(),
    }
    assert [(t["id"], t["source"]) for t in data["therapists"]] == [(anna.pk, "own"), (bo.pk, "platform")]
    assert [(b["id"], b["therapist"]["last_name"], b["mode"]) for b in data["bookings"]] == [
        (booking.pk, "Andersson", "video"), (other.pk, "Berg", "onsite")]
    assert data["bookings"][0]["start"] == "2027-01-12T09:00:00+01:00"
    assert data["bookings"][0]["video_url"] == booking.video_url
    mails = OutboundEmail.objects.filter(to=erik.email)
    assert [m["id"] for m in data["emails"]] == sorted(mails.values_list("pk", flat=True))
    assert {m["kind"] for m in data["emails"]} == {"booking_confirmed"}
    assert all(m["to"] == erik.email and m["body"] for m in data["emails"])
    assert [k["id"] for k in data["api_keys"]] == list(erik.user.api_tokens.values_list("pk", flat=True))
    assert data["consent"] == {"privacy_policy_version": None, "accepted": None, "current_version": POLICY_VERSION}
    assert data["waitlist"] == []  # R37: none yet; see test_her_wait_lists_are_in_her_export
    # Another client's data is not in it.
    assert anna.user.email not in response.content.decode()
    # Who read her data (R39): Anna's booking view of her; her own export is not a read.
    assert data["access_log"] == []
    assert anna_api.get("/therapist/clients").status_code == 200
    log = erik_api.get("/client/export").json()["access_log"]
    assert [(line["who"], line["what"]) for line in log] == [
        ({"role": "therapist", "name": "Anna Andersson"}, "Klientlistan, via en app eller ett program (API:t)")]
    same = erik_api.get("/client/access-log").json()  # the same lines as her access-log answer
    assert [(line["who"], line["what"], datetime.fromisoformat(line["at"])) for line in log] == [
        (line["who"], line["what"], datetime.fromisoformat(line["at"])) for line in same]


def test_the_client_export_is_hers_alone(anna_api, anon_api):
    assert anna_api.get("/client/export").status_code == 403
    assert anon_api.get("/client/export").status_code == 401


def read_csv(content: bytes) -> list[dict]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    text = content.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def test_a_therapist_exports_her_clients_and_bookings_as_csv_a_spreadsheet_opens(anna, anna_api, erik, make_client):
    erik.first_name, erik.last_name = "Åsa", "Öberg-Ärlig"
    erik.save()
    booking = booked(slot_for(anna, "2027-01-12 09:00"), erik)
    no_booking = make_client(first="Nils", last="Nybörjare", therapist=anna)
    response = anna_api.get("/therapist/export", format="csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="tidbok-klienter.csv"'
    rows = read_csv(response.content)
    assert rows == [
        {"client_id": str(erik.pk), "first_name": "Åsa", "last_name": "Öberg-Ärlig", "personnummer": erik.personnummer,
         "email": erik.email, "phone": "", "source": "own", "booking_id": str(booking.pk), "start": "2027-01-12 09:00",
         "end": "2027-01-12 09:45", "duration_minutes": "45", "mode": "video", "price": "1000", "status": "confirmed"},
        {"client_id": str(no_booking.pk), "first_name": "Nils", "last_name": "Nybörjare",
         "personnummer": no_booking.personnummer, "email": no_booking.email, "phone": "", "source": "own",
         "booking_id": "", "start": "", "end": "", "duration_minutes": "", "mode": "", "price": "", "status": ""},
    ]


def test_a_formula_in_a_name_comes_out_as_text(anna, anna_api):
    """CSV injection: a cell starting with =, +, -, @, a tab or a CR gets a leading '."""
    client = services.client_add(therapist=anna, actor=anna.user, first_name="=HYPERLINK(\"http\";\"x\")",
                                 last_name="Svensson", personnummer=pnr("19850312", "123"), email="s@example.se",
                                 phone="+46 70 123 45 67")
    client.last_name = "@SUM(A1)"  # (client_add refuses an @ in a name; a record typed long ago may hold one)
    client.save()
    booked(slot_for(anna, "2027-01-12 09:00"), client)
    [row] = read_csv(anna_api.get("/therapist/export", format="csv").content)
    assert row["first_name"] == "'=HYPERLINK(\"http\";\"x\")"
    assert row["last_name"] == "'@SUM(A1)"
    assert row["phone"] == "'+46 70 123 45 67"
    assert row["personnummer"] == pnr("19850312", "123")  # digits first: untouched


def test_the_therapist_export_as_json(anna, anna_api, bo, bo_api, erik):
    booking = booked(slot_for(anna, "2027-01-12 09:00"), erik)
    response = anna_api.get("/therapist/export", format="json")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="tidbok-klienter.json"'
    data = response.json()
    assert data["therapist"]["id"] == anna.pk
    assert [c["id"] for c in data["clients"]] == [erik.pk]
    assert data["clients"][0]["personnummer"] == erik.personnummer
    assert [(b["id"], b["client_id"], b["start"]) for b in data["bookings"]] == [
        (booking.pk, erik.pk, "2027-01-12T09:00:00+01:00")]
    assert anna_api.get("/therapist/export").json()["bookings"] == data["bookings"]  # json is the default
    # Bo's export holds nothing of Anna's.
    assert bo_api.get("/therapist/export").json()["clients"] == []
    assert bo_api.get("/therapist/export").json()["bookings"] == []
    # Each of Anna's exports is a read of every client in it (R39); Bo's read no one.
    assert list(AccessRecord.objects.values_list("actor_id", "client_id", "what", "surface")) == [
        (anna.user_id, erik.pk, "export", "api")] * 2


def test_a_booked_client_no_longer_on_her_list_is_read_by_her_export(anna, anna_api, erik):
    booked(slot_for(anna, "2027-01-12 09:00"), erik)
    ClientLink.objects.filter(therapist=anna, client=erik).delete()
    assert anna_api.get("/therapist/export", format="csv").status_code == 200
    assert list(AccessRecord.objects.values_list("client_id", "what")) == [(erik.pk, "export")]


def test_a_bad_format_names_the_field_and_only_therapists_export(anna_api, erik_api, anon_api):
    response = anna_api.get("/therapist/export", format="xlsx")
    assert response.status_code == 422
    assert "format" in json.dumps(response.json())
    assert erik_api.get("/therapist/export").status_code == 403
    assert anon_api.get("/therapist/export").status_code == 401


def test_the_privacy_policy_version_is_public(anon_api):
    response = anon_api.get("/privacy-policy")
    assert response.status_code == 200
    assert response.json()["version"] == POLICY_VERSION
    assert response.json()["url"].endswith("/personuppgiftspolicy/")


def test_an_api_sign_up_may_state_consent_and_a_wrong_version_is_refused(anon_api):
    from conftest import process_account_requests
    from domain.models import User

    body = {"role": "client", "email": "ny@example.se", "password": "lingon-sylt-1987", "first_name": "Ny",
            "last_name": "Person"}
    response = anon_api.post("/auth/signup", {**body, "accept_privacy_policy": "0.9"})
    assert response.status_code == 422 and "accept_privacy_policy" in json.dumps(response.json())
    assert anon_api.post("/auth/signup", {**body, "accept_privacy_policy": POLICY_VERSION}).status_code == 202
    process_account_requests()
    user = User.objects.get(email="ny@example.se")
    assert user.privacy_policy_version == POLICY_VERSION and user.privacy_policy_accepted_at is not None
    # Without it (a program written before the field): still accepted, no consent recorded.
    assert anon_api.post("/auth/signup", {**body, "email": "gammal@example.se"}).status_code == 202
    process_account_requests()
    assert User.objects.get(email="gammal@example.se").privacy_policy_version == ""


def test_another_therapists_client_is_not_in_her_export(anna, bo_api, erik):
    booked(slot_for(anna, "2027-01-12 09:00"), erik)
    assert erik.personnummer.encode() not in bo_api.get("/therapist/export", format="csv").content
    assert api_for(anna.user).get("/therapist/export", format="csv").content.count(erik.personnummer.encode()) == 1


def test_her_wait_lists_are_in_her_export(anna, erik, erik_api):
    """R37 with R40: the wait lists she is on, with what suits her."""
    import datetime as dt

    services.waitlist_join(client=erik, therapist=anna, actor=erik.user, weekdays=[2], from_time=dt.time(9),
                           modes=["video"])
    [entry] = json.loads(erik_api.get("/client/export").content)["waitlist"]
    assert entry["therapist_id"] == anna.pk and entry["weekdays"] == [2] and entry["from_time"] == "09:00"
    assert entry["to_time"] is None and entry["modes"] == ["video"] and entry["joined"]
