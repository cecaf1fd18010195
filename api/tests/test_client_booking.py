"""POST /slots/{id}/book (a client books herself, R17) and GET /client/bookings (her bookings,
with what the confirmation said: R19, R21)."""

import pytest

from api.tests.helpers import assert_conflict, assert_invalid, assert_not_found, booked, past_slot, slot_for
from conftest import api_for, at
from domain import services
from domain.models import Booking, ClientLink, OutboundEmail

pytestmark = pytest.mark.usefixtures("now")


@pytest.fixture
def slot(anna):
    return slot_for(anna, "2027-01-12 09:00")


@pytest.fixture
def existing_only(anna):
    return slot_for(anna, "2027-01-12 11:00", audience="existing")


# Booking ------------------------------------------------------------------------------------
def test_her_client_books_a_video_time(erik_api, anna, erik, slot, settings):
    response = erik_api.post(f"/slots/{slot.pk}/book", {"mode": "video"})

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
    assert (booking.client, booking.therapist, booking.mode, booking.status, booking.created_by) == (
        erik, anna, "video", "confirmed", erik.user,
    )
    assert (booking.start_at, booking.price) == (at("2027-01-12 09:00"), 1000)
    mails = OutboundEmail.objects.filter(booking=booking).order_by("pk")
    assert [(m.kind, m.to) for m in mails] == [
        ("booking_confirmed", erik.email), ("therapist_booking_created", anna.user.email),  # R30
    ]


def test_an_onsite_booking_answers_the_address_and_personal_information(erik_api, anna, slot):
    services.therapist_settings_update(therapist=anna, actor=None, reception_address="Storgatan 1", personal_info="Porten: 1234")

    body = erik_api.post(f"/slots/{slot.pk}/book", {"mode": "onsite"}).json()

    assert (body["mode"], body["video_url"], body["reception_address"], body["personal_info"]) == (
        "onsite", None, "Storgatan 1", "Porten: 1234",
    )


def test_her_client_books_an_existing_only_time(erik_api, erik, existing_only):
    assert erik_api.post(f"/slots/{existing_only.pk}/book", {"mode": "video"}).status_code == 201
    assert Booking.objects.get(slot=existing_only).client == erik


def test_a_new_client_books_and_joins_the_list_from_the_platform(nora_api, anna_api, anna, nora, slot):
    response = nora_api.post(f"/slots/{slot.pk}/book", {"mode": "video"})

    assert response.status_code == 201
    assert response.json()["first_visit"] is True
    assert ClientLink.objects.get(therapist=anna, client=nora).source == "platform"
    listed = {c["id"]: c for c in anna_api.get("/therapist/clients").json()}
    assert listed[nora.pk]["source"] == "platform"
    assert listed[nora.pk]["personnummer"] == nora.personnummer


def test_a_booking_by_her_own_client_keeps_the_source_own(erik_api, anna, erik, slot):
    erik_api.post(f"/slots/{slot.pk}/book", {"mode": "video"})

    assert ClientLink.objects.get(therapist=anna, client=erik).source == "own"


def test_a_client_who_met_another_therapist_is_no_first_visit(nora_api, anna, make_therapist, nora, slot):
    cecilia = make_therapist(email="cecilia@example.se", first="Cecilia")
    nora_api.post(f"/slots/{slot_for(cecilia, '2027-01-11 12:00').pk}/book", {"mode": "video"})

    response = nora_api.post(f"/slots/{slot.pk}/book", {"mode": "video"})

    assert response.json()["first_visit"] is False


def test_a_new_client_cannot_see_an_existing_only_time(nora_api, nora, existing_only):
    response = nora_api.post(f"/slots/{existing_only.pk}/book", {"mode": "video"})

    assert_not_found(response)
    assert not Booking.objects.exists()
    assert not ClientLink.objects.filter(client=nora).exists()


def test_a_new_client_cannot_see_a_time_of_a_therapist_without_client_booster(nora_api, bo):
    assert_not_found(nora_api.post(f"/slots/{slot_for(bo, '2027-01-12 09:00').pk}/book", {"mode": "video"}))
    assert not Booking.objects.exists()


def test_her_own_client_books_a_therapist_without_client_booster(bo, make_client):
    bertil = make_client(first="Bertil", therapist=bo)
    slot = slot_for(bo, "2027-01-12 09:00", audience="existing")

    assert api_for(bertil.user).post(f"/slots/{slot.pk}/book", {"mode": "onsite"}).status_code == 201


def test_a_hidden_time_answers_exactly_like_a_missing_one(nora_api, existing_only):
    hidden = nora_api.post(f"/slots/{existing_only.pk}/book", {"mode": "video"})
    missing = nora_api.post("/slots/999999/book", {"mode": "video"})

    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())


def test_a_hidden_booked_time_answers_not_found_rather_than_taken(nora_api, erik, existing_only):
    booked(existing_only, erik)

    assert_not_found(nora_api.post(f"/slots/{existing_only.pk}/book", {"mode": "video"}))


def test_it_refuses_a_time_already_taken(nora_api, erik, slot):
    booked(slot, erik)

    assert_conflict(nora_api.post(f"/slots/{slot.pk}/book", {"mode": "video"}), "slot_taken")
    assert Booking.objects.get(slot=slot).client == erik


def test_it_refuses_a_kind_the_time_does_not_offer(erik_api, anna):
    slot = slot_for(anna, "2027-01-12 09:00", modes=["onsite"])

    assert_conflict(erik_api.post(f"/slots/{slot.pk}/book", {"mode": "video"}), "mode_not_offered")
    assert not Booking.objects.exists()


def test_it_refuses_a_time_in_the_past(erik_api, anna):
    slot = past_slot(anna, "2027-01-11 07:45")

    assert_conflict(erik_api.post(f"/slots/{slot.pk}/book", {"mode": "video"}), "slot_in_past")
    assert not Booking.objects.exists()


@pytest.mark.parametrize("slot_id", ["999999", str(10**20)])
def test_a_missing_time_is_not_found(erik_api, slot_id):
    assert_not_found(erik_api.post(f"/slots/{slot_id}/book", {"mode": "video"}))


@pytest.mark.parametrize("mode", ["phone", None, "", ["video"], 1])
def test_it_refuses_an_unknown_kind_naming_mode(erik_api, slot, mode):
    assert_invalid(erik_api.post(f"/slots/{slot.pk}/book", {"mode": mode}), "mode")
    assert not Booking.objects.exists()


def test_it_needs_a_kind(erik_api, slot):
    assert_invalid(erik_api.post(f"/slots/{slot.pk}/book", {}), "mode")


def test_it_refuses_malformed_json(erik_api, slot):
    assert erik_api.post(f"/slots/{slot.pk}/book", '{"mode": video}').status_code == 400


def test_a_therapist_may_not_book_as_a_client(anna_api, bo_api, slot):
    assert anna_api.post(f"/slots/{slot.pk}/book", {"mode": "video"}).status_code == 403
    assert bo_api.post(f"/slots/{slot.pk}/book", {"mode": "video"}).status_code == 403
    assert not Booking.objects.exists()


def test_booking_needs_a_login(anon_api, slot):
    assert anon_api.post(f"/slots/{slot.pk}/book", {"mode": "video"}).status_code == 401
    assert not Booking.objects.exists()


# Her bookings -------------------------------------------------------------------------------
def test_she_sees_her_bookings_upcoming_and_past_newest_first(erik_api, anna, erik, settings, now):
    services.therapist_settings_update(therapist=anna, actor=None, reception_address="Storgatan 1", personal_info="Ring på.")
    early = booked(slot_for(anna, "2027-01-11 09:00"), erik, mode="onsite")
    late = booked(slot_for(anna, "2027-01-14 09:00"), erik, mode="video")
    now.move_to(at("2027-01-12 12:00"))  # the first is past now

    response = erik_api.get("/client/bookings")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": late.pk, "slot_id": late.slot_id, "start": "2027-01-14T09:00:00+01:00", "end": "2027-01-14T09:45:00+01:00",
            "mode": "video", "price": 1000, "status": "confirmed", "first_visit": False, "outcome": None, "series_id": None,
            "therapist": {"id": anna.pk, "first_name": "Anna", "last_name": "Andersson"},
            "client": {"id": erik.pk, "first_name": "Erik", "last_name": "Eriksson"},
            "video_url": f"{settings.SITE_URL}/video/{late.video_token}", "reception_address": None, "personal_info": None,
        },
        {
            "id": early.pk, "slot_id": early.slot_id, "start": "2027-01-11T09:00:00+01:00", "end": "2027-01-11T09:45:00+01:00",
            "mode": "onsite", "price": 1000, "status": "confirmed", "first_visit": True, "outcome": None, "series_id": None,
            "therapist": {"id": anna.pk, "first_name": "Anna", "last_name": "Andersson"},
            "client": {"id": erik.pk, "first_name": "Erik", "last_name": "Eriksson"},
            "video_url": None, "reception_address": "Storgatan 1", "personal_info": "Ring på.",
        },
    ]


def test_she_sees_a_cancelled_booking_as_cancelled(erik_api, anna, erik):
    booking = booked(slot_for(anna, "2027-01-12 09:00"), erik)
    services.booking_cancel(booking=booking, actor=anna.user)

    [entry] = erik_api.get("/client/bookings").json()

    assert (entry["id"], entry["status"]) == (booking.pk, "cancelled")


def test_she_sees_only_her_own_bookings(erik_api, nora_api, anna, erik, nora):
    mine = booked(slot_for(anna, "2027-01-12 09:00"), erik)
    services.booking_create_by_client(client=nora, slot=slot_for(anna, "2027-01-12 11:00"), mode="video", actor=nora.user)

    assert [b["id"] for b in erik_api.get("/client/bookings").json()] == [mine.pk]
    assert erik_api.get("/client/bookings").json()[0]["client"]["id"] == erik.pk
    assert [b["client"]["id"] for b in nora_api.get("/client/bookings").json()] == [nora.pk]


def test_a_client_without_bookings_sees_none(nora_api):
    response = nora_api.get("/client/bookings")

    assert (response.status_code, response.json()) == (200, [])


def test_a_therapist_has_no_client_bookings(anna_api):
    assert anna_api.get("/client/bookings").status_code == 403


def test_client_bookings_need_a_login(anon_api):
    assert anon_api.get("/client/bookings").status_code == 401
