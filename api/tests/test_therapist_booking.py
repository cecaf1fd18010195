"""POST /therapist/slots/{id}/booking: "Boka med klient" — the therapist books a client from her
list into one of her slots (R12–R16, R19)."""

import pytest

from api.tests.helpers import assert_conflict, assert_invalid, assert_not_found, booked, past_slot, slot_for
from conftest import at
from domain.models import AuditEntry, Booking, ClientLink, OutboundEmail

pytestmark = pytest.mark.usefixtures("now")


@pytest.fixture
def slot(anna):
    return slot_for(anna, "2027-01-12 09:00")


def test_it_books_her_client_for_video(anna_api, anna, slot, erik, settings):
    response = anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": erik.pk, "mode": "video"})

    assert response.status_code == 201
    booking = Booking.objects.get(slot=slot)
    assert response.json() == {
        "id": booking.pk,
        "slot_id": slot.pk,
        "start": "2027-01-12T09:00:00+01:00",
        "end": "2027-01-12T09:45:00+01:00",
        "mode": "video",
        "price": 1000,
        "status": "confirmed",
        "first_visit": True,
        "outcome": None,
        "series_id": None,  # R32: no series
        "therapist": {"id": anna.pk, "first_name": "Anna", "last_name": "Andersson"},
        "client": {"id": erik.pk, "first_name": "Erik", "last_name": "Eriksson"},
        "video_url": f"{settings.SITE_URL}/video/{booking.video_token}",
        "reception_address": None,
        "personal_info": None,
    }
    assert (booking.client, booking.therapist, booking.mode, booking.status, booking.price) == (
        erik, anna, "video", "confirmed", 1000,
    )
    assert (booking.start_at, booking.end_at, booking.created_by) == (at("2027-01-12 09:00"), at("2027-01-12 09:45"), anna.user)
    assert len(booking.video_token) >= 20
    assert AuditEntry.objects.filter(action="booking.created", target_id=booking.pk).exists()


def test_it_sends_the_client_a_confirmation(anna_api, slot, erik):
    booking_id = anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": erik.pk, "mode": "video"}).json()["id"]

    mail = OutboundEmail.objects.get(booking_id=booking_id)
    assert (mail.kind, mail.to) == ("booking_confirmed", erik.email)
    assert Booking.objects.get(pk=booking_id).video_url in mail.body
    assert "BEGIN:VCALENDAR" in mail.ics


def test_an_onsite_booking_carries_the_address_and_the_personal_information(anna_api, anna, slot, erik):
    anna_api.patch("/therapist/settings", {"reception_address": "Storgatan 1, Stockholm", "personal_info": "Ring på."})

    response = anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": erik.pk, "mode": "onsite"})

    assert response.status_code == 201
    body = response.json()
    assert (body["mode"], body["video_url"]) == ("onsite", None)
    assert (body["reception_address"], body["personal_info"]) == ("Storgatan 1, Stockholm", "Ring på.")
    assert Booking.objects.get(pk=body["id"]).mode == "onsite"


def test_the_calendar_then_shows_the_slot_booked(anna_api, slot, erik):
    anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": erik.pk, "mode": "video"})

    [entry] = anna_api.get("/therapist/calendar", start="2027-01-12T00:00:00+01:00", end="2027-01-13T00:00:00+01:00").json()

    assert (entry["status"], entry["color"], entry["booking"]["client"]["id"]) == ("booked", "yellow", erik.pk)


def test_she_may_book_an_existing_only_slot(anna_api, anna, erik):
    slot = slot_for(anna, "2027-01-12 09:00", audience="existing")

    assert anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": erik.pk, "mode": "video"}).status_code == 201


def test_booking_her_client_does_not_change_how_she_came(anna_api, anna, slot, erik):
    anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": erik.pk, "mode": "video"})

    assert ClientLink.objects.get(therapist=anna, client=erik).source == "own"


def test_it_refuses_a_slot_already_booked(anna_api, anna, slot, erik, make_client):
    booked(slot, erik)
    other = make_client(first="Frida", therapist=anna)

    assert_conflict(anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": other.pk, "mode": "video"}), "slot_taken")
    assert Booking.objects.filter(slot=slot).count() == 1


def test_it_refuses_a_client_not_on_her_list(anna_api, slot, nora):
    response = anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": nora.pk, "mode": "video"})

    assert_conflict(response, "client_not_on_list")
    assert not Booking.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_it_refuses_another_therapists_client(anna_api, bo, slot, make_client):
    bos = make_client(first="Bertil", therapist=bo)

    response = anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": bos.pk, "mode": "video"})

    assert_conflict(response, "client_not_on_list")


@pytest.mark.parametrize("client_id", [999999, 10**18, 10**20, 0, -1])
def test_an_unknown_client_answers_like_one_not_on_her_list(anna_api, slot, client_id):
    response = anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": client_id, "mode": "video"})

    assert_conflict(response, "client_not_on_list")


def test_it_refuses_a_kind_the_slot_does_not_offer(anna_api, anna, erik):
    slot = slot_for(anna, "2027-01-12 09:00", modes=["video"])

    response = anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": erik.pk, "mode": "onsite"})

    assert_conflict(response, "mode_not_offered")
    assert not Booking.objects.exists()


def test_it_refuses_a_slot_in_the_past(anna_api, anna, erik):
    slot = past_slot(anna, "2027-01-11 07:30")

    assert_conflict(anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": erik.pk, "mode": "video"}), "slot_in_past")
    assert not Booking.objects.exists()


def test_another_therapists_slot_is_not_found(bo_api, bo, slot, make_client):
    bos = make_client(first="Bertil", therapist=bo)

    assert_not_found(bo_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": bos.pk, "mode": "video"}))
    assert not Booking.objects.exists()


@pytest.mark.parametrize("slot_id", ["999999", str(10**20)])
def test_a_missing_slot_is_not_found(anna_api, erik, slot_id):
    assert_not_found(anna_api.post(f"/therapist/slots/{slot_id}/booking", {"client_id": erik.pk, "mode": "video"}))


def test_a_slot_not_hers_is_not_found_before_an_unknown_client_is_refused(bo_api, slot):
    assert_not_found(bo_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": 999999, "mode": "video"}))
    assert_not_found(bo_api.post("/therapist/slots/999999/booking", {"client_id": 999999, "mode": "video"}))


@pytest.mark.parametrize(
    "field, value",
    [("mode", "phone"), ("mode", None), ("mode", ["video"]), ("client_id", "erik"), ("client_id", None), ("client_id", 1.5)],
)
def test_it_refuses_bad_input_naming_the_field(anna_api, slot, erik, field, value):
    body = {"client_id": erik.pk, "mode": "video", field: value}

    response = anna_api.post(f"/therapist/slots/{slot.pk}/booking", body)

    assert_invalid(response, field)
    assert not Booking.objects.exists()


@pytest.mark.parametrize("field", ["client_id", "mode"])
def test_it_needs_the_client_and_the_kind(anna_api, slot, erik, field):
    body = {"client_id": erik.pk, "mode": "video"}
    del body[field]

    assert_invalid(anna_api.post(f"/therapist/slots/{slot.pk}/booking", body), field)


def test_it_refuses_malformed_json(anna_api, slot):
    assert anna_api.post(f"/therapist/slots/{slot.pk}/booking", "{'client_id': 1}").status_code == 400


def test_a_client_may_not_book_as_a_therapist(erik_api, slot, erik):
    assert erik_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": erik.pk, "mode": "video"}).status_code == 403
    assert not Booking.objects.exists()


def test_booking_for_a_client_needs_a_login(anon_api, slot, erik):
    assert anon_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": erik.pk, "mode": "video"}).status_code == 401
    assert not Booking.objects.exists()
