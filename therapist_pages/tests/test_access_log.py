"""R39 on the therapist's pages: her client page, the client list and its search, the booking
view (and its history), booking and cancelling from it, and the calendar feed each write one
access record per client shown; pages that show no client write none."""

import pytest
from django.test import Client as HttpClient

from api.tests.helpers import booked, slot_for, statements
from domain.models import AccessRecord
from domain.services import booking_cancel

pytestmark = pytest.mark.usefixtures("now")


@pytest.fixture
def anna_web(anna):
    http = HttpClient()
    http.force_login(anna.user)
    return http


def log() -> list[tuple]:
    return list(AccessRecord.objects.order_by("id").values_list("actor_id", "role", "client_id", "what", "surface"))


def test_her_client_page_is_logged_for_that_client(anna, anna_web, erik, make_client):
    make_client(first="Ella", therapist=anna)

    assert anna_web.get(f"/kalender/klienter/{erik.pk}/").status_code == 200

    assert log() == [(anna.user.pk, "therapist", erik.pk, "client_page", "page")]


def test_another_therapists_client_page_is_a_404_and_logs_nothing(bo, erik):
    http = HttpClient()
    http.force_login(bo.user)
    assert http.get(f"/kalender/klienter/{erik.pk}/").status_code == 404
    assert log() == []


def test_the_client_list_logs_every_client_on_it_and_a_search_those_found(anna, anna_web, erik, make_client):
    ella = make_client(first="Ella", therapist=anna)

    with statements() as sql:
        assert anna_web.get("/kalender/klienter/").status_code == 200
    assert anna_web.get("/kalender/klienter/", {"q": "ell"}).status_code == 200
    assert anna_web.get("/kalender/klienter/", {"q": "nobody"}).status_code == 200

    a = anna.user.pk
    assert sorted(log()) == sorted([
        (a, "therapist", erik.pk, "client_list", "page"), (a, "therapist", ella.pk, "client_list", "page"),
        (a, "therapist", ella.pk, "search", "page"),
    ])
    assert sum("accessrecord" in q for q in sql) == 1


def test_the_booking_view_logs_the_booked_client_and_the_clients_its_history_names(
    anna, anna_web, erik, make_client
):
    ella = make_client(first="Ella", therapist=anna)
    first = booked(slot_for(anna, "2027-01-12 09:00"), ella)
    booking_cancel(booking=first, actor=anna.user)
    booked(first.slot, erik)

    response = anna_web.get(f"/kalender/tider/{first.slot_id}/")

    assert response.status_code == 200
    assert "Ella" in response.content.decode()  # the history names her
    assert sorted(log()) == sorted([
        (anna.user.pk, "therapist", erik.pk, "booking", "page"), (anna.user.pk, "therapist", ella.pk, "booking", "page"),
    ])


def test_an_open_slots_view_logs_nothing(anna, anna_web):
    slot = slot_for(anna, "2027-01-12 09:00")
    assert anna_web.get(f"/kalender/tider/{slot.pk}/").status_code == 200
    assert log() == []


def test_booking_and_cancelling_from_the_view_are_logged(anna, anna_web, erik):
    slot = slot_for(anna, "2027-01-12 09:00")
    assert anna_web.post(f"/kalender/tider/{slot.pk}/boka/", {"client": erik.pk, "mode": "video"}).status_code == 200
    booking = slot.bookings.get()
    assert anna_web.post(f"/kalender/bokningar/{booking.pk}/avboka/").status_code == 200

    assert [row[2:] for row in log()] == [(erik.pk, "booking", "page"), (erik.pk, "booking", "page")]


def test_the_calendar_page_itself_shows_no_client_and_logs_nothing(anna, anna_web, erik):
    booked(slot_for(anna, "2027-01-12 09:00"), erik)
    assert anna_web.get("/kalender/").status_code == 200  # its entries come from the API (logged there)
    assert anna_web.get("/kalender/installningar/").status_code == 200
    assert log() == []


def test_the_feed_names_clients_so_each_fetch_is_logged_as_hers(anna, erik, make_client):
    ella = make_client(first="Ella", therapist=anna)
    booked(slot_for(anna, "2027-01-12 09:00"), erik)
    booked(slot_for(anna, "2027-01-13 09:00"), ella)
    booked(slot_for(anna, "2027-01-14 09:00"), ella)
    slot_for(anna, "2027-01-15 09:00")

    with statements() as sql:
        response = HttpClient().get(f"/kalender/feed/{anna.calendar_feed_token}.ics")

    assert response.status_code == 200 and "Ella" in response.content.decode()
    assert sorted(log()) == sorted([
        (anna.user.pk, "therapist", erik.pk, "calendar", "feed"), (anna.user.pk, "therapist", ella.pk, "calendar", "feed"),
    ])
    assert sum("accessrecord" in q for q in sql) == 1


def test_a_wrong_feed_key_logs_nothing(anna, erik):
    booked(slot_for(anna, "2027-01-12 09:00"), erik)
    assert HttpClient().get("/kalender/feed/not-the-key.ics").status_code == 404
    assert log() == []
