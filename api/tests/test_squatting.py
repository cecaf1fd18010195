"""Finding 1, as the attacker played it: a stranger signs up with someone else's personnummer
before the person's therapist adds her. Before R26 the therapist was silently linked to the
stranger's record; now the stranger gets nothing, and the person joins by her invitation."""

from datetime import timedelta

import pytest
from django.test import Client as HttpClient

from conftest import Api, at, mailed_link, pnr, process_account_requests
from domain.models import Booking, Client, OutboundEmail, Slot

pytestmark = pytest.mark.usefixtures("now")

VICTIM_PNR = pnr("19850620", "428")
PASSWORD = "a long and unusual passphrase"


def sign_up_and_log_in(email: str, personnummer: str | None) -> Api:
    body = {"role": "client", "email": email, "password": PASSWORD, "first_name": "Vera", "last_name": "Ek"}
    if personnummer:
        body["personnummer"] = personnummer
    assert Api().post("/auth/signup", body).status_code == 202
    process_account_requests()
    assert HttpClient().post(mailed_link("email_verification", to=email), {"password": PASSWORD}).status_code == 302
    return Api(Api().post("/auth/token", {"email": email, "password": PASSWORD}).json()["token"])


def test_a_squatter_gets_nothing_and_the_person_joins_by_her_invitation(anna, anna_api):
    squatter = sign_up_and_log_in("squatter@example.se", VICTIM_PNR)

    # Her therapist adds the real person, with her real address, and books a video visit.
    added = anna_api.post("/therapist/clients", {"first_name": "Vera", "last_name": "Ek", "personnummer": VICTIM_PNR,
                                                 "email": "vera@example.se"})
    assert added.status_code == 201
    start = at("2027-01-12 09:00")
    slot = Slot.objects.create(therapist=anna, start_at=start, end_at=start + timedelta(minutes=45), price=1000)
    booked = anna_api.post(f"/therapist/slots/{slot.pk}/booking", {"client_id": added.json()["id"], "mode": "video"})
    assert booked.status_code == 201
    booking = Booking.objects.get(pk=booked.json()["id"])

    # The squatter sees no booking, and the video link (a key whoever holds it, R29) never
    # reaches her: it is mailed only to the address the therapist typed.
    assert squatter.get("/client/bookings").json() == []
    assert [m.to for m in OutboundEmail.objects.all() if booking.video_token in m.body] == ["vera@example.se"]
    assert booking.client.user is None

    # The real person can still sign up, and joins the record through her invitation.
    vera = sign_up_and_log_in("vera@example.se", VICTIM_PNR)
    assert vera.get("/client/bookings").json() == []
    browser = HttpClient()
    browser.force_login(Client.objects.get(user__email="vera@example.se").user)
    assert browser.post(mailed_link("client_invitation", to="vera@example.se")).status_code == 302

    [mine] = vera.get("/client/bookings").json()
    assert mine["id"] == booking.pk and mine["video_url"]
    assert squatter.get("/client/bookings").json() == []
    assert anna_api.get("/therapist/clients").json()[0]["email"] == "vera@example.se"
