"""The client's pages through Django's test client: what each shows, to whom, and that bad
input gives clear per-field errors, never a 500. Time is Monday 2027-01-11 08:00, Stockholm."""

import re

import pytest
from django.test import Client as Browser

from conftest import at, mailed_link, pnr, process_account_requests
from domain.models import AccountRequest, AuditEntry, Booking, Client, ClientLink, OutboundEmail, User
from domain.services import booking_create_by_therapist, client_add, slot_create

pytestmark = pytest.mark.usefixtures("now")


def without_tokens(page: str) -> str:
    """The page without its CSRF tokens (the forms', and the one the passkey script is given)."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return re.sub(r'"csrfToken": "[^"]+"', "", page)


def browser_for(user=None) -> Browser:
    b = Browser()
    if user is not None:
        b.force_login(user)
    return b


def slot(therapist, start="2027-01-12 09:00", **kw):
    return slot_create(therapist=therapist, actor=therapist.user, start=at(start), **kw)


def field_errors(page: str) -> list[str]:
    """The texts shown under the form's fields."""
    return re.findall(r'<div class="field-error">(.*?)</div>', page, re.S)


@pytest.fixture
def open_and_hidden(anna):
    return slot(anna, "2027-01-12 09:00"), slot(anna, "2027-01-12 11:00", audience="existing")


# Hitta terapeut -------------------------------------------------------------------------------


def test_the_listing_shows_boosted_therapists_with_their_next_open_time(anna, bo):
    slot(anna)
    slot(bo)

    page = browser_for().get("/hitta-terapeut/").content.decode()

    assert "Anna Andersson" in page and "Bo Berg" not in page
    assert "tisdag 12 januari 09:00" in page


@pytest.mark.parametrize("query", ["mode=phone", "city=Atlantis", "language=xx", "area=%00", "mode=%00"])
def test_the_listing_refuses_odd_filters_by_field(anna, query):
    response = browser_for().get(f"/hitta-terapeut/?{query}")

    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()


def test_the_listing_pages_keep_their_filters_to_the_last_page(make_therapist, monkeypatch):
    """R9 at scale: "Visa fler" leads page by page through exactly the filtered listing (the
    language and area filters are SQL, so no page comes up short or repeats anyone)."""
    from domain.selectors import therapist_listing

    monkeypatch.setattr("client_pages.views.FIND_PAGE", 2)
    for i in range(30):
        t = make_therapist(
            email=f"p{i}@example.se", first=f"Person{i:02d}", last=f"Efternamn{i % 7}",
            city=["Stockholm", "Uppsala"][i % 2], languages=[["sv"], ["sv", "en"], ["en"]][i % 3],
            areas=[["Ångest"], ["stress"]][i % 4 == 0],
        )
        if i % 5:
            slot(t, f"2027-01-{12 + i % 3} {9 + i % 4:02d}:00")
    expected = [t.full_name for t in therapist_listing(city="stockholm", language="SV", area="angest")]
    # Stockholm (even), Swedish (i % 3 < 2), Ångest (i % 4 != 0): the folded filters match
    assert sorted(expected) == sorted(f"Person{i:02d} Efternamn{i % 7}" for i in (6, 10, 18, 22))

    shown, url = [], "/hitta-terapeut/?city=Stockholm&language=sv&area=%C3%85ngest"
    while url:
        response = browser_for().get(url)
        page = response.content.decode()
        assert response.status_code == 200
        shown += dict.fromkeys(re.findall(r"Person\d\d Efternamn\d", page))  # a card names her twice
        more = re.search(r'<a href="(\?[^"]+)" rel="next"', page)
        url = more and "/hitta-terapeut/" + more.group(1).replace("&amp;", "&")
        assert not more or "Visa fler" in page

    assert shown == expected


def test_the_listing_refuses_a_cursor_it_did_not_make(anna):
    response = browser_for().get("/hitta-terapeut/?city=&cursor=made-up")

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    # No "0 therapists" under the error, as if the listing were empty.
    assert 'role="status"' not in response.content.decode()


def test_matching_shows_reasons_in_words(anna):
    anna.areas, anna.languages = ["stress"], ["sv"]
    anna.save()
    slot(anna, "2027-01-13 17:30")

    page = browser_for().get("/hitta-terapeut/matchning/?area=stress&mode=video&language=sv&days=2&parts=evening&sok=1")

    text = page.content.decode()
    assert page.status_code == 200
    assert "Arbetar med stress." in text and "Talar svenska." in text
    assert browser_for().get("/hitta-terapeut/matchning/?days=9&parts=night").status_code == 400


# The profile and booking (R7, R8, R17) ---------------------------------------------------------


def test_a_visitor_and_a_new_client_never_see_an_existing_only_slot(anna, nora, open_and_hidden):
    shown, hidden = open_and_hidden
    for user in (None, nora.user):
        b = browser_for(user)
        page = b.get(f"/terapeut/{anna.pk}/?vecka=2027-01-11").content.decode()
        assert f"/boka/{shown.pk}/" in page and f"/boka/{hidden.pk}/" not in page
        assert "11:00" not in page
        assert b.get(f"/boka/{hidden.pk}/").status_code == 404
        gone = b.get(f"/boka/{hidden.pk}/").content.decode().replace(f"/boka/{hidden.pk}/", "/boka/0/")
        assert without_tokens(gone) == without_tokens(b.get("/boka/0/").content.decode())  # nothing tells it from none


def test_an_existing_client_sees_and_books_an_existing_only_slot(anna, erik, open_and_hidden):
    _, hidden = open_and_hidden
    b = browser_for(erik.user)
    assert f"/boka/{hidden.pk}/" in b.get(f"/terapeut/{anna.pk}/?vecka=2027-01-11").content.decode()

    response = b.post(f"/boka/{hidden.pk}/", {"mode": "onsite"})

    booking = Booking.objects.get(slot=hidden)
    assert response.status_code == 302 and response["Location"] == f"/mina-bokningar/{booking.pk}/"
    assert (booking.client, booking.mode) == (erik, "onsite")
    assert OutboundEmail.objects.filter(kind="booking_confirmed", booking=booking).exists()


def test_the_profile_of_a_therapist_without_client_booster_is_not_found_by_a_stranger(bo, nora):
    assert browser_for().get(f"/terapeut/{bo.pk}/").status_code == 404
    assert browser_for(nora.user).get(f"/terapeut/{bo.pk}/").status_code == 404


@pytest.mark.parametrize("week", [
    "nonsense", "2027-13-01", "2027-02-30", "%00", "2027-01-11%00",
    # outside the years 1900 to 9000
    "0001-01-01", "0001-01-07", "9999-12-31", "1899-12-31", "9000-01-01",
])
def test_an_odd_week_shows_the_coming_week_and_says_so(anna, week):
    slot(anna, "2027-01-13 09:00")

    response = browser_for().get(f"/terapeut/{anna.pk}/?vecka={week}")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Det är inget datum; visar kommande vecka i stället." in page
    assert "Lediga tider, veckan från 11 januari 2027" in page
    assert "09:00–09:45" in page


def test_a_visitor_choosing_a_time_is_sent_to_sign_up_with_the_choice_kept(anna):
    s = slot(anna)

    response = browser_for().get(f"/boka/{s.pk}/?mode=video&account=signup")

    assert response.status_code == 302
    assert response["Location"] == f"/skapa-konto/?next=%2Fboka%2F{s.pk}%2F%3Fmode%3Dvideo"


def test_a_visitor_must_choose_a_kind_first(anna):
    s = slot(anna)

    response = browser_for().get(f"/boka/{s.pk}/?account=login")

    assert response.status_code == 400 and 'class="form-errors"' in response.content.decode()


NOT_A_CHOICE = "Välj ett giltigt alternativ. {} finns inte bland tillgängliga alternativ."


@pytest.mark.parametrize("mode, error", [
    ("", "Fältet måste fyllas i."),
    ("phone", NOT_A_CHOICE.format("phone")),
    ("onsite", NOT_A_CHOICE.format("onsite")),  # a kind there is, but not at this time
    ("\x00", NOT_A_CHOICE.format("\x00")),
], ids=["empty", "phone", "not-offered", "nul"])
def test_booking_with_a_bad_kind_says_so(anna, erik, mode, error):
    s = slot(anna, modes=["video"])

    response = browser_for(erik.user).post(f"/boka/{s.pk}/", {"mode": mode})

    assert response.status_code == 400
    page = response.content.decode()
    assert field_errors(page) == [error]  # under the field
    assert f'<a href="#">Typ av besök</a>: {error}' in page  # and in the summary above the form
    assert not Booking.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert not AuditEntry.objects.filter(action="booking.created").exists()


def test_booking_a_taken_time_says_so(anna, erik, nora):
    s = slot(anna)
    booking = booking_create_by_therapist(therapist=anna, slot=s, client=erik, mode="video", actor=anna.user)
    mails = list(OutboundEmail.objects.values_list("pk", flat=True))

    response = browser_for(nora.user).post(f"/boka/{s.pk}/", {"mode": "video"})

    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Tiden går inte att boka</h1>" in page
    assert "Den här tiden går inte (längre) att boka. Välj en annan tid." in page
    # Erik's booking stands, and Nora got nothing: no booking, no mail, no place on Anna's list.
    assert list(Booking.objects.values_list("pk", "client", "status")) == [(booking.pk, erik.pk, "confirmed")]
    assert list(OutboundEmail.objects.values_list("pk", flat=True)) == mails
    assert not ClientLink.objects.filter(client=nora).exists()


def test_an_anonymous_post_is_asked_to_log_in(anna):
    s = slot(anna)

    response = browser_for().post(f"/boka/{s.pk}/", {"mode": "video"})

    assert response.status_code == 302 and response["Location"].startswith("/logga-in/")
    assert not Booking.objects.exists()


# Mina bokningar (R21) ---------------------------------------------------------------------------


@pytest.fixture
def eriks(anna, erik):
    anna.reception_address = "Sveavägen 1"
    anna.save()
    upcoming = booking_create_by_therapist(therapist=anna, slot=slot(anna, "2027-01-13 09:00"), client=erik,
                                           mode="onsite", actor=anna.user)
    soon = booking_create_by_therapist(therapist=anna, slot=slot(anna, "2027-01-11 15:00"), client=erik,
                                       mode="video", actor=anna.user)
    return upcoming, soon


def test_my_bookings_needs_a_login():
    response = browser_for().get("/mina-bokningar/")

    assert response.status_code == 302 and response["Location"].startswith("/logga-in/")


def test_my_bookings_show_details_and_who_may_cancel(erik, eriks):
    upcoming, soon = eriks

    page = browser_for(erik.user).get("/mina-bokningar/").content.decode()

    assert "Sveavägen 1" in page and soon.video_url in page
    assert f"/mina-bokningar/{upcoming.pk}/avboka/" in page
    assert f"/mina-bokningar/{soon.pk}/avboka/" not in page
    assert "Kontakta Anna Andersson" in page


def test_another_clients_booking_is_not_found(nora, eriks):
    upcoming, _ = eriks
    b = browser_for(nora.user)

    assert b.get(f"/mina-bokningar/{upcoming.pk}/").status_code == 404
    assert b.post(f"/mina-bokningar/{upcoming.pk}/avboka/").status_code == 404
    assert Booking.objects.get(pk=upcoming.pk).status == "confirmed"


def test_the_client_cancels_and_is_told_when_it_is_too_late(erik, eriks):
    upcoming, soon = eriks
    b = browser_for(erik.user)

    b.post(f"/mina-bokningar/{upcoming.pk}/avboka/")
    response = b.post(f"/mina-bokningar/{soon.pk}/avboka/", follow=True)

    assert Booking.objects.get(pk=upcoming.pk).status == "cancelled"
    assert Booking.objects.get(pk=soon.pk).status == "confirmed"
    assert "kontakta din terapeut" in response.content.decode()


def test_avboka_asks_first_and_only_a_post_cancels(erik, eriks):
    upcoming, _ = eriks
    b = browser_for(erik.user)

    question = b.get(f"/mina-bokningar/{upcoming.pk}/avboka/")

    assert question.status_code == 200
    page = question.content.decode()
    assert "Vill du avboka?" in page and "Ja, avboka" in page and "Sveavägen 1" in page
    assert Booking.objects.get(pk=upcoming.pk).status == "confirmed"
    assert b.put(f"/mina-bokningar/{upcoming.pk}/avboka/").status_code == 405


# Accounts --------------------------------------------------------------------------------------


SIGNUP = {"first_name": "Åse", "last_name": "Larsson", "personnummer": pnr("19800505", "246"),
          "email": "ase@example.se", "password": "lingon-sylt-1987", "accept_privacy_policy": "on"}


def test_a_visitor_signs_up_confirms_her_address_and_is_back_where_she_was(db):
    b = browser_for()

    response = b.post("/skapa-konto/", {**SIGNUP, "next": "/hitta-terapeut/"})

    assert response.status_code == 200 and "Kolla din e-post" in response.content.decode()
    assert "ase@example.se" in response.content.decode()
    assert not User.objects.filter(email="ase@example.se").exists()  # the worker decides
    process_account_requests()
    link = mailed_link("email_verification")
    assert b.get("/mina-bokningar/").status_code == 302  # not logged in yet
    page = b.get(link)
    assert page.status_code == 200 and "Bekräfta och fortsätt" in page.content.decode()
    done = b.post(link, {"password": SIGNUP["password"]})
    assert done.status_code == 302 and done["Location"] == "/hitta-terapeut/"
    assert Client.objects.get(email="ase@example.se").user.email_verified
    assert b.get("/mina-bokningar/").status_code == 200
    assert b.post(link, {"password": SIGNUP["password"]}).status_code == 400  # used once


def test_a_personnummer_is_optional_at_sign_up(db):
    response = browser_for().post("/skapa-konto/", {**SIGNUP, "personnummer": ""})

    assert response.status_code == 200
    process_account_requests()
    assert Client.objects.get(email="ase@example.se").personnummer == ""


@pytest.mark.parametrize(("field", "value"), [
    ("personnummer", "19800505-2461"), ("email", "nope"), ("password", "123"), ("first_name", ""), ("first_name", "a\x00"),
    ("first_name", "Åse\nBcc: x@example.se"), ("last_name", "Lars\x07son"),
])
def test_sign_up_names_the_field_that_is_wrong(db, field, value):
    response = browser_for().post("/skapa-konto/", {**SIGNUP, field: value})

    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    assert re.search(f'aria-describedby="[^"]*id_{field}_error"', page)
    assert not AccountRequest.objects.exists()


def test_the_verification_link_never_sends_her_elsewhere(db):
    browser_for().post("/skapa-konto/", {**SIGNUP, "next": "https://evil.example/"})
    process_account_requests()

    done = browser_for().post(mailed_link("email_verification"), {"password": SIGNUP["password"]})

    assert done["Location"] == "/mina-bokningar/"


def test_sign_up_looks_the_same_whatever_exists(anna, erik):
    """Finding 3: an address with an account, a personnummer on file and a therapist's record
    all get the page anyone gets."""
    client_add(therapist=anna, actor=anna.user, first_name="Åse", last_name="Larsson",
               personnummer=SIGNUP["personnummer"], email="ase@example.se")
    pages = [
        browser_for().post("/skapa-konto/", {**SIGNUP, "email": "new@example.se"}),
        browser_for().post("/skapa-konto/", {**SIGNUP, "email": erik.email}),
        browser_for().post("/skapa-konto/", {**SIGNUP, "email": "thief@example.se"}),
        browser_for().post("/skapa-konto/", {**SIGNUP, "personnummer": erik.personnummer, "email": "x@example.se"}),
    ]

    assert {p.status_code for p in pages} == {200}
    shapes = {without_tokens(p.content.decode()).replace(p.wsgi_request.POST["email"], "ADDRESS") for p in pages}
    assert len(shapes) == 1


def test_a_new_account_cannot_log_in_before_its_link_and_is_told_alike(db):
    browser_for().post("/skapa-konto/", SIGNUP)
    process_account_requests()

    unverified = browser_for().post("/logga-in/", {"email": "ase@example.se", "password": SIGNUP["password"]})
    unknown = browser_for().post("/logga-in/", {"email": "nobody@example.se", "password": SIGNUP["password"]})

    assert unverified.status_code == unknown.status_code == 400
    assert without_tokens(unverified.content.decode()).replace("ase@example.se", "X") == without_tokens(
        unknown.content.decode()).replace("nobody@example.se", "X")
    assert OutboundEmail.objects.filter(kind="email_verification").count() == 2  # a fresh link for her


def test_the_password_reset_mail_goes_through_the_outbox(erik):
    response = browser_for().post("/glomt-losenord/", {"email": erik.email.upper()})

    assert response.status_code == 302
    process_account_requests()
    [mail] = OutboundEmail.objects.filter(kind="password_reset")
    assert mail.to == erik.email and "/losenord/" in mail.body


def test_an_unknown_address_gets_the_same_answer_and_no_mail(db):
    response = browser_for().post("/glomt-losenord/", {"email": "nobody@example.se"})

    assert response.status_code == 302
    process_account_requests()
    assert not OutboundEmail.objects.exists()


def test_too_many_reset_requests_from_one_address_are_refused(erik, settings):
    settings.ACCOUNT_REQUESTS_PER_HOUR = 2
    for _ in range(2):
        assert browser_for().post("/glomt-losenord/", {"email": erik.email}).status_code == 302

    response = browser_for().post("/glomt-losenord/", {"email": erik.email})

    assert response.status_code == 429 and "Försök igen om en timme" in response.content.decode()


def test_an_invited_client_accepts_with_a_password_and_sees_her_booking(anna):
    client = client_add(therapist=anna, actor=anna.user, first_name="Åse", last_name="Larsson",
                        personnummer=SIGNUP["personnummer"], email="ase@example.se")
    booking_create_by_therapist(therapist=anna, slot=slot(anna), client=client, mode="video", actor=anna.user)
    link = mailed_link("client_invitation")
    b = browser_for()

    form = b.get(link)
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    assert "Anna Andersson har lagt till dig" in form.content.decode()
    done = b.post(link, {"new_password1": "lingon-sylt-1987", "new_password2": "lingon-sylt-1987"})

    assert done.status_code == 302 and done["Location"] == "/mina-bokningar/"
    page = b.get("/mina-bokningar/").content.decode()
    assert "Anna Andersson" in page and "tisdag 12 januari 2027" in page
    assert User.objects.get(email="ase@example.se").email_verified
    assert browser_for().get(link).status_code == 400  # used once


def test_an_invitation_to_an_address_with_an_account_asks_her_to_log_in_then_joins(anna, bo, make_client):
    erik = make_client(therapist=bo)
    record = client_add(therapist=anna, actor=anna.user, first_name="Erik", last_name="E",
                        personnummer=pnr("19700101", "111"), email=erik.email)
    link = mailed_link("client_invitation")

    stranger = browser_for()
    assert "Logga in" in stranger.get(link).content.decode()
    assert stranger.post(link)["Location"].startswith("/logga-in/")
    assert Client.objects.filter(pk=record.pk).exists()

    owner = browser_for(erik.user)
    assert "Koppla till mitt konto" in owner.get(link).content.decode()
    assert owner.post(link).status_code == 302
    assert not Client.objects.filter(pk=record.pk).exists()
    assert ClientLink.objects.filter(therapist=anna, client=erik).exists()


def test_a_reset_for_a_sign_up_nobody_confirmed_sends_her_to_sign_up_again(db):
    browser_for().post("/skapa-konto/", SIGNUP)
    process_account_requests()
    browser_for().post("/glomt-losenord/", {"email": "ase@example.se"})
    process_account_requests()

    body = OutboundEmail.objects.filter(kind="password_reset").get().body
    assert "/skapa-konto/" in body and "/losenord/" not in body
    assert not User.objects.get(email="ase@example.se").email_verified


def test_the_pages_speak_english_on_request(anna, erik):
    b = browser_for(erik.user)
    b.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert "Find a therapist" in b.get("/hitta-terapeut/").content.decode()
    page = b.get("/mina-bokningar/").content.decode()
    assert '<html lang="en">' in page and "My bookings" in page and "Upcoming" in page


def test_asking_again_and_again_sends_one_reset_link_per_ten_minutes(erik, now):
    from datetime import timedelta

    for _ in range(3):
        browser_for().post("/glomt-losenord/", {"email": erik.email})
    process_account_requests()
    now.shift(timedelta(minutes=11))
    browser_for().post("/glomt-losenord/", {"email": erik.email})
    process_account_requests()

    assert OutboundEmail.objects.filter(kind="password_reset").count() == 2


def test_the_verification_page_names_the_address_and_wants_the_sign_ups_password(db):
    browser_for().post("/skapa-konto/", SIGNUP)
    process_account_requests()
    link = mailed_link("email_verification")
    b = browser_for()

    page = b.get(link).content.decode()
    assert "ase@example.se" in page and 'name="password"' in page
    wrong = b.post(link, {"password": "not-the-one-99"})
    assert wrong.status_code == 400 and "Det är inte lösenordet som kontot skapades med." in wrong.content.decode()
    assert not User.objects.get(email="ase@example.se").email_verified
    assert b.get("/mina-bokningar/").status_code == 302  # not logged in by the link alone
    assert b.post(link, {"password": SIGNUP["password"]}).status_code == 302


def test_someone_logged_in_as_another_is_told_to_log_out_before_accepting(anna, nora):
    client_add(therapist=anna, actor=anna.user, first_name="Åse", last_name="Larsson",
               personnummer=SIGNUP["personnummer"], email="ase@example.se")
    link = mailed_link("client_invitation")
    b = browser_for(nora.user)

    page = b.get(link).content.decode()
    assert f"Du är inloggad som {nora.email}, men inbjudan gäller ase@example.se" in page
    refused = b.post(link, {"new_password1": "lingon-sylt-1987", "new_password2": "lingon-sylt-1987"})

    assert refused.status_code == 409
    assert not User.objects.filter(email="ase@example.se").exists()


def test_her_history_shows_the_outcome_of_a_past_visit(anna, erik, now):
    """R34: she sees in her own history what her therapist recorded."""
    from domain.services import booking_outcome_set

    booking = booking_create_by_therapist(therapist=anna, slot=slot(anna, "2027-01-11 09:00"), client=erik,
                                          mode="onsite", actor=anna.user)
    now.move_to(at("2027-01-11 10:00"))
    b = browser_for(erik.user)
    assert "Utfall" not in b.get("/mina-bokningar/").content.decode()

    booking_outcome_set(booking=booking, outcome="no_show", actor=anna.user)

    for path in ("/mina-bokningar/", f"/mina-bokningar/{booking.pk}/"):
        page = b.get(path).content.decode()
        assert re.search(r"Utfall</dt>\s*<dd[^>]*>Uteblev</dd>", page), path
