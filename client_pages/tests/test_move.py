"""R33's pages: "Flytta" on Mina bokningar and on the booking's page while she may still
cancel; the open times of her therapist a week at a time; the question; the move; the booking's
page with a message. Another's booking, a time she may not see and a refusal never give a 500.
Time is Monday 2027-01-11 08:00, Stockholm; both databases. The browser test is
client_pages/tests/test_move_browser.py."""

import pytest
from django.test import Client as Browser

from conftest import at
from domain.models import AuditEntry, Booking
from domain.services import booking_create_by_client, booking_create_by_therapist, booking_move, slot_create

pytestmark = pytest.mark.usefixtures("now")


def browser_for(user) -> Browser:
    b = Browser()
    b.force_login(user)
    return b


def slot(therapist, start, **kw):
    return slot_create(therapist=therapist, actor=therapist.user, start=at(start), **kw)


@pytest.fixture
def booking(anna, erik):
    return booking_create_by_client(client=erik, slot=slot(anna, "2027-01-13 10:00"), mode="video", actor=erik.user)


@pytest.fixture
def target(anna):
    return slot(anna, "2027-01-14 14:00", price=1200)


def test_flytta_is_offered_on_my_bookings_and_the_booking_page(erik, booking):
    b = browser_for(erik.user)
    link = f'href="/mina-bokningar/{booking.pk}/flytta/"'

    assert link in b.get("/mina-bokningar/").content.decode()
    assert link in b.get(f"/mina-bokningar/{booking.pk}/").content.decode()


def test_after_the_cut_off_there_is_no_flytta_but_the_cut_off_text(erik, booking, now, target):
    now.move_to(at("2027-01-12 10:30"))
    b = browser_for(erik.user)

    for path in ("/mina-bokningar/", f"/mina-bokningar/{booking.pk}/"):
        page = b.get(path).content.decode()
        assert "/flytta/" not in page and "Det är för sent att avboka här" in page
    page = b.get(f"/mina-bokningar/{booking.pk}/flytta/").content.decode()
    assert "Bokningen kan inte flyttas här" in page and f"/flytta/{target.pk}/" not in page
    # The question redirects to that page, and a POST moves nothing.
    response = b.post(f"/mina-bokningar/{booking.pk}/flytta/{target.pk}/", {"mode": "video"})
    assert response.status_code == 302 and response["Location"] == f"/mina-bokningar/{booking.pk}/flytta/"
    assert Booking.objects.get(pk=booking.pk).slot_id == booking.slot_id


def test_the_page_lists_her_therapists_open_times_she_may_book_a_week_at_a_time(anna, bo, erik, booking, target):
    hidden_far = slot(anna, "2027-01-20 10:00")  # the next week
    bos = slot(bo, "2027-01-14 10:00")
    b = browser_for(erik.user)

    page = b.get(f"/mina-bokningar/{booking.pk}/flytta/").content.decode()

    assert f'href="/mina-bokningar/{booking.pk}/flytta/{target.pk}/"' in page
    assert f"/flytta/{booking.slot_id}/" not in page  # her own time is booked: not offered
    assert f"/flytta/{bos.pk}/" not in page and f"/flytta/{hidden_far.pk}/" not in page
    assert "?vecka=2027-01-18" in page
    page = b.get(f"/mina-bokningar/{booking.pk}/flytta/?vecka=2027-01-18").content.decode()
    assert f"/flytta/{hidden_far.pk}/" in page and f"/flytta/{target.pk}/" not in page


def test_the_question_then_the_move_then_her_booking_page_with_a_message(erik, booking, target):
    b = browser_for(erik.user)

    question = b.get(f"/mina-bokningar/{booking.pk}/flytta/{target.pk}/")
    assert question.status_code == 200
    text = question.content.decode()
    assert "onsdag 13 januari 2027, 10:00" in text and "torsdag 14 januari 2027, 14:00" in text
    assert Booking.objects.get(pk=booking.pk).slot_id == booking.slot_id  # GET moves nothing

    response = b.post(f"/mina-bokningar/{booking.pk}/flytta/{target.pk}/", {"mode": "video"}, follow=True)

    assert response.redirect_chain == [(f"/mina-bokningar/{booking.pk}/", 302)]
    page = response.content.decode()
    assert "Din bokning är flyttad" in page and "torsdag 14 januari 2027, 14:00" in page
    saved = Booking.objects.get(pk=booking.pk)
    assert saved.slot_id == target.pk and saved.sequence == booking.sequence + 1 and saved.price == 1200
    assert AuditEntry.objects.filter(action="booking.moved", actor=erik.user).count() == 1
    # Her booking's page tells the move (R33), as it tells one her therapist made (R18).
    assert "Du flyttade den från onsdag 13 januari 10:00 till torsdag 14 januari 14:00." in page


def test_her_booking_page_tells_who_moved_it(anna, erik, booking, target):
    from domain.services import slot_update

    booking_move(booking=booking, slot=target, actor=erik.user)
    slot_update(slot=target, actor=anna.user, start=at("2027-01-14 16:00"))

    page = browser_for(erik.user).get(f"/mina-bokningar/{booking.pk}/").content.decode()

    assert "Du flyttade den från onsdag 13 januari 10:00 till torsdag 14 januari 14:00." in page
    assert "Anna Andersson flyttade den från torsdag 14 januari 14:00 till torsdag 14 januari 16:00." in page
    assert page.index("Du flyttade") < page.index("Anna Andersson flyttade")


def test_a_refusal_is_said_on_the_question(anna, erik, make_client, booking, target):
    b = browser_for(erik.user)
    b.get(f"/mina-bokningar/{booking.pk}/flytta/{target.pk}/")
    other = make_client(first="Olle", last="Olsson", therapist=anna)
    booking_create_by_therapist(therapist=anna, slot=target, client=other, mode="video", actor=anna.user)

    response = b.post(f"/mina-bokningar/{booking.pk}/flytta/{target.pk}/", {"mode": "video"})

    # The time went while she looked: it is no longer one she may move to.
    assert response.status_code == 404 and "Tiden går inte att boka" in response.content.decode()
    assert Booking.objects.get(pk=booking.pk).slot_id == booking.slot_id


def test_a_kind_the_time_does_not_offer_is_a_field_error(anna, erik, booking):
    onsite_only = slot(anna, "2027-01-15 10:00", modes=["onsite"])
    b = browser_for(erik.user)

    page = b.get(f"/mina-bokningar/{booking.pk}/flytta/{onsite_only.pk}/").content.decode()
    assert 'value="onsite"' in page and 'value="video"' not in page
    response = b.post(f"/mina-bokningar/{booking.pk}/flytta/{onsite_only.pk}/", {"mode": "video"})

    assert response.status_code == 400
    assert Booking.objects.get(pk=booking.pk).slot_id == booking.slot_id
    response = b.post(f"/mina-bokningar/{booking.pk}/flytta/{onsite_only.pk}/", {"mode": "onsite"})
    assert response.status_code == 302 and Booking.objects.get(pk=booking.pk).mode == "onsite"


def test_another_clients_booking_or_another_therapists_time_is_missing(anna, bo, erik, nora, booking, target):
    nora_b = browser_for(nora.user)
    assert nora_b.get(f"/mina-bokningar/{booking.pk}/flytta/").status_code == 404
    assert nora_b.post(f"/mina-bokningar/{booking.pk}/flytta/{target.pk}/", {"mode": "video"}).status_code == 404
    b = browser_for(erik.user)
    for slot_id in (slot(bo, "2027-01-14 10:00").pk, booking.slot_id, 999999):
        assert b.get(f"/mina-bokningar/{booking.pk}/flytta/{slot_id}/").status_code == 404
        assert b.post(f"/mina-bokningar/{booking.pk}/flytta/{slot_id}/", {"mode": "video"}).status_code == 404
    assert browser_for(anna.user).get(f"/mina-bokningar/{booking.pk}/flytta/").status_code == 404
    assert Booking.objects.get(pk=booking.pk).slot_id == booking.slot_id
    assert not AuditEntry.objects.filter(action="booking.moved").exists()


def test_logged_out_goes_to_log_in(booking, target):
    response = Browser().get(f"/mina-bokningar/{booking.pk}/flytta/")
    assert response.status_code == 302 and "/logga-in/" in response["Location"]
