"""R32 on the therapist's pages: "Boka varje vecka" in an open slot's booking view leads to a
page listing every week (refused ones marked in words); "Boka alla N" books them all, and is
absent when a week is refused; a series booking's view offers "Avboka denna" and "Avboka denna
och följande". Time is Monday 2027-01-11 08:00 in Stockholm."""

import pytest
from django.test import Client as HttpClient

from conftest import at
from domain.models import Booking, BookingSeries, OutboundEmail, TimeOff
from domain.services import series_create, slot_create

AJAX = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def anna_web(anna, now):
    http = HttpClient()
    http.force_login(anna.user)
    return http


@pytest.fixture
def slot(anna, now):
    return slot_create(therapist=anna, actor=anna.user, start=at("2027-01-18 10:00"))


def preview_url(slot, erik, weeks=10, mode="video"):
    return f"/kalender/tider/{slot.pk}/serie/?client={erik.pk}&mode={mode}&weeks={weeks}"


def test_the_booking_view_of_an_open_slot_offers_book_every_week(anna_web, slot):
    body = anna_web.get(f"/kalender/tider/{slot.pk}/").content.decode()

    assert "Boka varje vecka" in body
    assert f'formaction="/kalender/tider/{slot.pk}/boka-varje-vecka/"' in body
    assert 'name="weeks"' in body and 'min="2"' in body and 'max="52"' in body


def test_starting_answers_where_the_weeks_are_shown_and_books_nothing(anna_web, slot, erik):
    response = anna_web.post(f"/kalender/tider/{slot.pk}/boka-varje-vecka/",
                             {"client": erik.pk, "mode": "video", "weeks": "10"}, **AJAX)

    assert response.status_code == 200
    assert response.json()["redirect"] == preview_url(slot, erik)
    assert not Booking.objects.exists()


@pytest.mark.parametrize("weeks", ["1", "53", "0", "x", ""])
def test_starting_with_bad_weeks_names_the_field(anna_web, slot, erik, weeks):
    response = anna_web.post(f"/kalender/tider/{slot.pk}/boka-varje-vecka/",
                             {"client": erik.pk, "mode": "video", "weeks": weeks}, **AJAX)

    assert response.status_code == 422 and "weeks" in response.json()["errors"]


def test_the_page_lists_every_week_and_books_all_of_them(anna_web, slot, erik):
    body = anna_web.get(preview_url(slot, erik)).content.decode()

    assert body.count('class="week-ok"') == 10 and "week-refused" not in body
    assert "Boka alla 10" in body
    assert not Booking.objects.exists()

    response = anna_web.post(f"/kalender/tider/{slot.pk}/serie/", {"client": erik.pk, "mode": "video", "weeks": "10"})

    assert response.status_code == 302 and response["Location"] == "/kalender/?datum=2027-01-18"
    series = BookingSeries.objects.get()
    assert series.bookings.filter(status="confirmed").count() == 10
    assert series.bookings.get(start_at=slot.start_at).slot_id == slot.pk  # her slot, not a copy
    assert list(OutboundEmail.objects.values_list("kind", flat=True)) == ["series_booked"]
    page = anna_web.get(response["Location"]).content.decode()
    assert "Bokat varje vecka: Erik Eriksson, 10 gånger" in page


def test_a_refused_week_is_named_in_words_and_there_is_no_book_all(anna_web, anna, slot, erik):
    TimeOff.objects.create(therapist=anna, start_at=at("2027-02-01 00:00"), end_at=at("2027-02-02 00:00"))

    response = anna_web.get(preview_url(slot, erik))

    body = response.content.decode()
    assert body.count('class="week-refused"') == 1
    assert "Nej:" in body and "ledighet" in body.lower()
    assert "Boka alla" not in body
    assert "1 vecka kan inte bokas" in body


def test_a_week_refused_after_the_preview_books_nothing_and_says_why(anna_web, anna, slot, erik):
    TimeOff.objects.create(therapist=anna, start_at=at("2027-02-01 00:00"), end_at=at("2027-02-02 00:00"))

    response = anna_web.post(f"/kalender/tider/{slot.pk}/serie/", {"client": erik.pk, "mode": "video", "weeks": "10"})

    assert response.status_code == 409
    assert 'role="alert"' in response.content.decode()
    assert not BookingSeries.objects.exists() and not Booking.objects.exists()


def test_a_client_not_on_her_list_or_another_therapists_slot(anna_web, bo, slot, nora, erik, now):
    assert anna_web.get(preview_url(slot, nora)).status_code == 409
    assert anna_web.post(f"/kalender/tider/{slot.pk}/serie/",
                         {"client": nora.pk, "mode": "video", "weeks": "3"}).status_code == 409
    bos = slot_create(therapist=bo, actor=bo.user, start=at("2027-01-18 10:00"))
    assert anna_web.get(preview_url(bos, erik)).status_code == 404
    assert not Booking.objects.exists()


def test_a_series_booking_offers_cancel_this_and_this_and_following(anna_web, anna, erik):
    series = series_create(therapist=anna, client=erik, start=at("2027-01-18 10:00"), weeks=10, mode="video",
                           actor=anna.user)
    fifth = series.bookings.order_by("start_at")[4]

    body = anna_web.get(f"/kalender/tider/{fifth.slot_id}/").content.decode()

    assert "Avboka denna" in body and "Avboka denna och följande" in body
    assert "↻" in body and "6 bokningar" in body
    assert "Bokad av Erik Eriksson (video), varje vecka." in body  # the slot's history

    response = anna_web.post(f"/kalender/bokningar/{fifth.pk}/avboka-foljande/", **AJAX)

    assert response.status_code == 200 and "6 bokningar" in response.json()["message"]
    statuses = list(series.bookings.order_by("start_at").values_list("status", flat=True))
    assert statuses == ["confirmed"] * 4 + ["cancelled"] * 6


def test_the_count_offered_is_what_cancel_this_and_following_cancels(anna_web, anna, erik):
    """From the booking's date on, as `series_cancel` takes it: a week moved by the client to
    earlier that same day (R33) is counted and cancelled too."""
    from domain.services import booking_move

    series = series_create(therapist=anna, client=erik, start=at("2027-01-18 10:00"), weeks=4, mode="video",
                           actor=anna.user)
    second, third = series.bookings.order_by("start_at")[1:3]
    booking_move(booking=third, slot=slot_create(therapist=anna, actor=anna.user, start=at("2027-01-25 08:00")),
                 actor=erik.user)

    body = anna_web.get(f"/kalender/tider/{second.slot_id}/").content.decode()
    response = anna_web.post(f"/kalender/bokningar/{second.pk}/avboka-foljande/", **AJAX)

    assert "3 bokningar" in body and "3 bokningar" in response.json()["message"]
    assert series.bookings.live().count() == 1


def test_cancel_this_and_following_of_a_booking_in_no_series_is_not_found(anna_web, anna, erik, slot):
    from domain.services import booking_create_by_therapist

    booking = booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)

    assert anna_web.post(f"/kalender/bokningar/{booking.pk}/avboka-foljande/", **AJAX).status_code == 404
    assert Booking.objects.get(pk=booking.pk).is_confirmed


def test_the_calendar_marks_a_series_booking(anna_web, anna, erik):
    series = series_create(therapist=anna, client=erik, start=at("2027-01-18 10:00"), weeks=2, mode="video",
                           actor=anna.user)

    from conftest import api_for

    [entry] = [e for e in api_for(anna.user).get("/therapist/calendar", start="2027-01-18T00:00:00+01:00").json()
               if e["booking"]]
    assert entry["booking"]["series_id"] == series.pk
    config = anna_web.get("/kalender/").content.decode()
    assert "bokad varje vecka" in config
