"""The therapist's pages with Django's test client: login required, therapists only, another
therapist's objects are 404, forms give per-field errors, and the feed is private."""

import re

import pytest
from django.test import Client as HttpClient

from conftest import at
from domain.models import AuditEntry, Booking, ClientLink, Slot, Therapist
from domain.services import booking_create_by_therapist, slot_create


@pytest.fixture
def browser_of():
    def make(user):
        http = HttpClient()
        http.force_login(user)
        return http

    return make


@pytest.fixture
def anna_web(anna, browser_of, now):
    return browser_of(anna.user)


@pytest.fixture
def slot(anna, now):
    return slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"))


PAGES = ["/kalender/", "/kalender/klienter/", "/kalender/installningar/"]


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_need_a_login(db, path):
    response = HttpClient().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/logga-in/")


@pytest.mark.parametrize("path", PAGES)
def test_a_client_may_not_see_the_therapist_pages(erik, browser_of, path):
    assert browser_of(erik.user).get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_a_therapist_sees_her_pages_in_swedish(anna_web, path):
    response = anna_web.get(path)

    assert response.status_code == 200
    assert 'lang="sv"' in response.content.decode()


def test_the_calendar_page_has_no_inline_script(anna_web):
    body = anna_web.get("/kalender/").content.decode()

    assert 'id="calendar-config" type="application/json"' in body
    assert "<script>" not in body and " onclick=" not in body


def test_the_booking_view_of_another_therapists_slot_is_404(bo, slot, browser_of):
    bo_web = browser_of(bo.user)

    assert bo_web.get(f"/kalender/tider/{slot.pk}/").status_code == 404
    assert bo_web.post(f"/kalender/tider/{slot.pk}/ta-bort/").status_code == 404
    assert bo_web.post(f"/kalender/tider/{slot.pk}/andra/", {"date": "2027-01-13", "time": "10:00"}).status_code == 404
    assert Slot.objects.filter(pk=slot.pk).exists()


def test_the_booking_view_shows_the_slot_and_its_history(anna_web, slot):
    body = anna_web.get(f"/kalender/tider/{slot.pk}/").content.decode()

    assert "09:00–09:45" in body
    assert "1000 kr" in body
    assert "Ändra" in body and "Ta bort" in body and "Boka med klient" in body


def test_edit_takes_a_local_time_and_re_prices_by_length(anna_web, slot):
    response = anna_web.post(f"/kalender/tider/{slot.pk}/andra/", {
        "date": "2027-01-13", "time": "10:00", "duration_minutes": "90", "price": "1000",
        "kinds": ["video"], "audience": "existing",
    })

    assert response.status_code == 200, response.content
    slot.refresh_from_db()
    assert slot.start_at == at("2027-01-13 10:00")
    assert (slot.duration_minutes, slot.price, slot.modes, slot.audience) == (90, 2000, ["video"], "existing")


def test_a_price_typed_by_hand_wins(anna_web, slot):
    anna_web.post(f"/kalender/tider/{slot.pk}/andra/", {
        "date": "2027-01-12", "time": "09:00", "duration_minutes": "90", "price": "1500", "price_typed": "True",
        "kinds": ["video", "onsite"], "audience": "all",
    })

    slot.refresh_from_db()
    assert (slot.duration_minutes, slot.price) == (90, 1500)


def test_edit_refuses_a_time_that_summer_time_skips(anna_web, slot):
    response = anna_web.post(f"/kalender/tider/{slot.pk}/andra/", {
        "date": "2027-03-28", "time": "02:30", "duration_minutes": "45", "kinds": ["video"], "audience": "all",
    })

    assert response.status_code == 422
    assert "time" in response.json()["errors"]
    slot.refresh_from_db()
    assert slot.start_at == at("2027-01-12 09:00")


def test_an_overlapping_edit_is_refused_with_the_reason(anna, anna_web, slot):
    other = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 11:00"))

    response = anna_web.post(f"/kalender/tider/{other.pk}/andra/", {
        "date": "2027-01-12", "time": "09:30", "duration_minutes": "45", "kinds": ["video"], "audience": "all",
    })

    assert response.status_code == 409
    assert response.json()["code"] == "slot_overlap"


def test_booking_needs_a_client_on_her_list(anna, anna_web, slot, make_client, bo):
    strangers_client = make_client(first="Sara", therapist=bo)

    response = anna_web.post(f"/kalender/tider/{slot.pk}/boka/", {"client": strangers_client.pk, "mode": "video"})

    assert response.status_code == 409
    assert response.json()["code"] == "client_not_on_list"
    assert not Booking.objects.exists()


def test_book_and_cancel(anna_web, slot, erik):
    response = anna_web.post(f"/kalender/tider/{slot.pk}/boka/", {"client": erik.pk, "mode": "onsite"})
    assert response.status_code == 200, response.content
    booking = Booking.objects.get()
    assert (booking.client, booking.mode, booking.status) == (erik, "onsite", "confirmed")

    response = anna_web.post(f"/kalender/bokningar/{booking.pk}/avboka/")

    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.status == "cancelled"


def test_another_therapists_booking_cannot_be_cancelled(anna, slot, erik, bo, browser_of):
    booking = booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)

    assert browser_of(bo.user).post(f"/kalender/bokningar/{booking.pk}/avboka/").status_code == 404
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_repeat_says_which_weeks_it_skipped(anna, anna_web, slot):
    slot_create(therapist=anna, actor=anna.user, start=at("2027-01-19 09:00"))

    response = anna_web.post(f"/kalender/tider/{slot.pk}/upprepa/", {"weeks": "3"})

    assert response.status_code == 200
    assert response.json()["skipped"] == ["2027-01-19"]
    assert "19 januari" in response.json()["message"]
    assert Slot.objects.filter(therapist=anna).count() == 4


NEW_SLOT = {"date": "2027-01-12", "time": "09:00", "duration_minutes": "60", "kinds": ["onsite"], "audience": "existing"}


def test_the_new_slot_form_offers_a_weekly_repeat(anna_web):
    body = anna_web.get("/kalender/").content.decode()

    assert 'id="new-slot-dialog"' in body
    assert '<label for="id_weeks">Även de följande veckorna (antal)</label>' in body
    assert 'aria-describedby="id_weeks_helptext"' in body and 'id="id_weeks_helptext"' in body


def test_a_new_slot_is_made_with_its_weekly_repeats_in_one_step(anna, anna_web):
    response = anna_web.post("/kalender/tider/ny/", {**NEW_SLOT, "weeks": "3"})

    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["message"].startswith("Ny tid ")
    assert "Skapade 3 kopior." in answer["message"]
    assert (answer["created"], answer["skipped"]) == (3, [])
    slots = list(Slot.objects.filter(therapist=anna).order_by("start_at"))
    assert [s.start_at for s in slots] == [
        at(day + " 09:00") for day in ("2027-01-12", "2027-01-19", "2027-01-26", "2027-02-02")
    ]
    assert answer["slot"] == slots[0].pk
    assert {(s.duration_minutes, s.price, tuple(s.modes), s.audience) for s in slots} == {
        (60, 1333, ("onsite",), "existing")
    }


def test_the_repeats_of_a_new_slot_skip_the_taken_weeks_and_say_which(anna, anna_web):
    taken = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-26 09:30"))

    response = anna_web.post("/kalender/tider/ny/", {**NEW_SLOT, "weeks": "3"})

    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["created"], answer["skipped"]) == (2, ["2027-01-26"])
    assert "Skapade 2 kopior." in answer["message"]
    assert "Hoppade över: 26 januari (upptagen)." in answer["message"]
    assert Slot.objects.filter(therapist=anna).exclude(pk=taken.pk).count() == 3


@pytest.mark.parametrize("weeks", ["", "0"])
def test_a_new_slot_without_weeks_is_one_slot(anna, anna_web, weeks):
    response = anna_web.post("/kalender/tider/ny/", {**NEW_SLOT, "weeks": weeks})

    assert response.status_code == 200, response.content
    assert "created" not in response.json()
    assert "kopi" not in response.json()["message"]
    assert Slot.objects.filter(therapist=anna).count() == 1


@pytest.mark.parametrize("weeks", ["53", "-1", "två"])
def test_a_bad_number_of_weeks_is_refused_on_its_field_and_nothing_is_made(anna, anna_web, weeks):
    response = anna_web.post("/kalender/tider/ny/", {**NEW_SLOT, "weeks": weeks})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["weeks"]
    assert not Slot.objects.filter(therapist=anna).exists()


def test_a_refused_new_slot_makes_no_repeats_and_says_why(anna, anna_web):
    slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 09:30"))

    response = anna_web.post("/kalender/tider/ny/", {**NEW_SLOT, "weeks": "3"})

    assert response.status_code == 409
    assert response.json()["code"] == "slot_overlap"
    assert response.json()["detail"] == "Tiden krockar med en annan tid i din kalender."
    assert Slot.objects.filter(therapist=anna).count() == 1


def test_a_client_cannot_make_slots(anna, erik, browser_of):
    response = browser_of(erik.user).post("/kalender/tider/ny/", {**NEW_SLOT, "weeks": "3"})

    assert response.status_code == 403
    assert not Slot.objects.exists()


def test_the_price_follows_the_length(anna_web):
    assert anna_web.get("/kalender/pris/?minuter=90").json() == {"price": 2000}
    assert anna_web.get("/kalender/pris/?minuter=x").status_code == 422


def test_adding_a_client_with_a_bad_personnummer_names_the_field(anna, anna_web):
    response = anna_web.post("/kalender/klienter/", {
        "first_name": "Lisa", "last_name": "Lund", "personnummer": "19850312-1230", "email": "lisa@example.se",
    })

    assert response.status_code == 422
    assert "personnummer" in response.context["form"].errors
    assert not ClientLink.objects.filter(therapist=anna).exists()


def test_the_client_page_of_someone_not_on_her_list_is_404(anna_web, make_client, bo):
    other = make_client(first="Sara", therapist=bo)

    assert anna_web.get(f"/kalender/klienter/{other.pk}/").status_code == 404


def test_the_client_page_shows_only_her_own_bookings_with_this_therapist(anna, anna_web, erik, bo, now):
    own = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"))
    booking_create_by_therapist(therapist=anna, slot=own, client=erik, mode="video", actor=anna.user)
    ClientLink.objects.create(therapist=bo, client=erik, source="own")
    bos = slot_create(therapist=bo, actor=bo.user, start=at("2027-01-14 15:00"))
    booking_create_by_therapist(therapist=bo, slot=bos, client=erik, mode="video", actor=bo.user)

    body = anna_web.get(f"/kalender/klienter/{erik.pk}/").content.decode()

    assert "12 januari 2027 09:00" in body
    assert "14 januari" not in body


def test_settings_are_saved(anna, anna_web):
    response = anna_web.post("/kalender/installningar/", {
        "default_duration_minutes": "60", "default_price": "1200", "default_modes": ["onsite"],
        "default_audience": "existing", "reception_address": "Storgatan 1", "personal_info": "Ring på.",
        "timezone": "Europe/Stockholm", "title": "Leg. psykolog", "city": "Lund", "presentation": "",
        "languages": ["sv", "en"], "areas": "ångest, stress", "cancellation_cutoff_hours": "48",
        "min_notice_hours": "12", "booking_horizon_days": "90",
    })

    assert response.status_code == 302
    anna = Therapist.objects.get(pk=anna.pk)
    assert (anna.default_duration_minutes, anna.default_price, anna.default_modes) == (60, 1200, ["onsite"])
    assert (anna.city, anna.languages, anna.areas, anna.cancellation_cutoff_hours) == (
        "Lund", ["sv", "en"], ["ångest", "stress"], 48)


def test_she_chooses_how_clients_reach_her_and_whether_she_is_mailed(anna, anna_web):
    page = anna_web.get("/kalender/installningar/").content.decode()
    assert 'name="notify_by_email" id="id_notify_by_email" checked' in page  # on until she says no
    assert "Mejla mig när en klient bokar, avbokar eller flyttar en tid" in page
    assert "E-postadress för klienter" in page and "Telefonnummer för klienter (valfritt)" in page

    response = anna_web.post("/kalender/installningar/", {
        "default_duration_minutes": "45", "default_price": "1000", "default_modes": ["video", "onsite"],
        "default_audience": "all", "timezone": "Europe/Stockholm", "cancellation_cutoff_hours": "24",
        "min_notice_hours": "12", "booking_horizon_days": "90", "areas": "",
        "contact_email": "Mottagning@Example.se", "contact_phone": "+46 8-123 456 78",
        # notify_by_email unticked: a browser sends nothing for it
    })

    assert response.status_code == 302
    anna = Therapist.objects.get(pk=anna.pk)
    assert (anna.notify_by_email, anna.contact_email, anna.contact_phone) == (
        False, "mottagning@example.se", "+46 8-123 456 78")
    page = anna_web.get("/kalender/installningar/").content.decode()
    assert 'value="mottagning@example.se"' in page and "checked" not in page.split('name="notify_by_email"')[1][:40]


@pytest.mark.parametrize("field, value, message", [
    ("contact_email", "mottagning", "Ange en giltig e-postadress."),
    ("contact_phone", "ring mig", "Skriv ett telefonnummer med siffror, mellanslag, + - och parenteser, t.ex. "
                                  "+46 70-123 45 67."),
])
def test_a_bad_contact_address_or_phone_is_refused_naming_the_field(anna, anna_web, field, value, message):
    response = anna_web.post("/kalender/installningar/", {
        "default_duration_minutes": "45", "default_price": "1000", "default_modes": ["video"],
        "default_audience": "all", "timezone": "Europe/Stockholm", "cancellation_cutoff_hours": "24",
        "min_notice_hours": "12", "booking_horizon_days": "90", "areas": "",
        "notify_by_email": "on", field: value,
    })

    assert response.status_code == 422
    assert response.context["form"].errors == {field: [message]}
    assert message in response.content.decode()
    anna = Therapist.objects.get(pk=anna.pk)
    assert (anna.contact_email, anna.contact_phone, anna.default_modes) == ("", "", ["video", "onsite"])


def test_the_feed_is_private_and_its_address_can_be_renewed(anna, anna_web, slot, erik):
    booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)
    old = anna.calendar_feed_token

    response = HttpClient().get(f"/kalender/feed/{old}.ics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "BEGIN:VEVENT" in body and "Erik E." in body
    assert erik.personnummer not in body and erik.email not in body

    anna_web.post("/kalender/installningar/nytt-kalenderflode/")

    assert HttpClient().get(f"/kalender/feed/{old}.ics").status_code == 404
    new = Therapist.objects.get(pk=anna.pk).calendar_feed_token
    assert HttpClient().get(f"/kalender/feed/{new}.ics").status_code == 200
    assert AuditEntry.objects.filter(action="therapist.feed_token").count() == 1


def test_bad_settings_are_refused_per_field_and_nothing_changes(anna, anna_web):
    response = anna_web.post("/kalender/installningar/", {
        "default_duration_minutes": "3", "default_price": "1200", "default_audience": "all",
        "timezone": "Europe/Stockholm", "cancellation_cutoff_hours": "24",
        "min_notice_hours": "12", "booking_horizon_days": "90", "areas": "",
    })

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "default_duration_minutes" in errors and "default_modes" in errors
    assert "Välj video, på plats eller båda." in response.content.decode()
    assert Therapist.objects.get(pk=anna.pk).default_price == 1000


def test_a_wrong_feed_token_is_404(db):
    assert HttpClient().get("/kalender/feed/not-a-token.ics").status_code == 404


# Dates outside the years anyone may type (1900–8999) ------------------------------------------
FAR_DATES = ["0001-01-01", "1899-12-31", "9000-01-01", "9999-12-31"]
OUT_OF_RANGE = {"date": ["Datumet måste ligga mellan år 1900 och 9000."]}


@pytest.mark.parametrize("day", FAR_DATES)
def test_a_new_slot_on_a_date_outside_the_years_is_refused_on_the_date_field(anna, anna_web, day):
    response = anna_web.post("/kalender/tider/ny/", {**NEW_SLOT, "date": day, "time": "23:55"})

    assert response.status_code == 422, response.content
    assert response.json() == {"errors": OUT_OF_RANGE}
    assert not Slot.objects.exists()


@pytest.mark.parametrize("day", FAR_DATES)
def test_moving_a_slot_to_a_date_outside_the_years_is_refused_on_the_date_field(anna_web, slot, day):
    response = anna_web.post(f"/kalender/tider/{slot.pk}/andra/", {**NEW_SLOT, "date": day, "time": "00:05"})

    assert response.status_code == 422, response.content
    assert response.json() == {"errors": OUT_OF_RANGE}
    slot.refresh_from_db()
    assert (slot.start_at, slot.duration_minutes) == (at("2027-01-12 09:00"), 45)


@pytest.mark.parametrize(("start", "end"), [
    ("0001-01-01T00:00:00+01:00", "0001-01-01T02:00:00+01:00"),
    ("9999-12-31T20:00:00+01:00", "9999-12-31T22:00:00+01:00"),
])
def test_marking_a_stretch_outside_the_years_makes_no_slots(anna, anna_web, start, end):
    response = anna_web.post("/kalender/tider/flera/", {"start": start, "end": end})

    assert response.status_code == 422, response.content
    assert set(response.json()["errors"]) == {"start"}
    assert not Slot.objects.exists()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_calendar_opened_on_a_date_outside_the_years_opens_on_today(anna_web, day):
    import json

    response = anna_web.get(f"/kalender/?datum={day}")

    assert response.status_code == 200
    config = json.loads(re.search(r'id="calendar-config" type="application/json">(.*?)</script>',
                                  response.content.decode(), re.S).group(1))
    assert config["initialDate"] is None


# R29: her own link to a video booking's call ---------------------------------------------


@pytest.fixture
def video_booking(anna, slot, erik):
    return booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)


def test_the_booking_view_of_a_video_booking_gives_her_own_link_and_when_it_opens(anna_web, slot, video_booking):
    body = anna_web.get(f"/kalender/tider/{slot.pk}/").content.decode()

    link = re.search(r'<a href="([^"]+)">Öppna videosamtalet</a>', body)
    assert link and link.group(1) == video_booking.therapist_video_url
    assert "öppnas kl. 08:45, 15 minuter före start" in body  # 09:00 in her zone
    assert video_booking.video_token not in body  # never the client's key
    assert "Ny videolänk" in body


def test_an_onsite_booking_view_has_no_video_link(anna, anna_web, slot, erik):
    booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="onsite", actor=anna.user)

    body = anna_web.get(f"/kalender/tider/{slot.pk}/").content.decode()

    assert "Öppna videosamtalet" not in body and "Ny videolänk" not in body


def test_the_booking_view_says_when_the_call_has_ended(anna_web, slot, video_booking, now):
    now.move_to(at("2027-01-12 09:45"))

    body = anna_web.get(f"/kalender/tider/{slot.pk}/").content.decode()

    assert "Samtalet är avslutat." in body
    assert "Öppna videosamtalet" not in body and "Ny videolänk" not in body


def test_she_renews_her_link_and_only_hers(anna, anna_web, slot, video_booking):
    old, clients = video_booking.therapist_video_token, video_booking.video_token

    response = anna_web.post(f"/kalender/bokningar/{video_booking.pk}/ny-videolank/")

    assert response.status_code == 200
    assert response.json()["message"] == ("Du har fått en ny videolänk. Den gamla fungerar inte längre; "
                                          "klientens länk är oförändrad.")
    video_booking.refresh_from_db()
    assert video_booking.therapist_video_token != old
    assert video_booking.video_token == clients
    body = anna_web.get(f"/kalender/tider/{slot.pk}/").content.decode()
    assert video_booking.therapist_video_url in body and old not in body
    assert "Ny videolänk till terapeuten; den gamla slutade fungera." in body  # the slot's history


def test_renewing_the_link_of_an_onsite_booking_says_why_not(anna, anna_web, slot, erik):
    booking = booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="onsite", actor=anna.user)

    response = anna_web.post(f"/kalender/bokningar/{booking.pk}/ny-videolank/")

    assert response.status_code == 409
    assert response.json() == {"code": "not_a_video_booking",
                               "detail": "Bokningen är inget videosamtal och har därför ingen videolänk."}


def test_another_therapist_cannot_renew_her_link(slot, video_booking, bo, erik, browser_of):
    old = video_booking.therapist_video_token

    assert browser_of(bo.user).post(f"/kalender/bokningar/{video_booking.pk}/ny-videolank/").status_code == 404
    assert browser_of(erik.user).post(f"/kalender/bokningar/{video_booking.pk}/ny-videolank/").status_code == 403
    video_booking.refresh_from_db()
    assert video_booking.therapist_video_token == old


def test_the_client_page_gives_her_link_to_an_upcoming_video_booking(anna_web, erik, video_booking):
    body = anna_web.get(f"/kalender/klienter/{erik.pk}/").content.decode()

    link = re.search(r'<a href="([^"]+)">Öppna videosamtalet</a>', body)
    assert link and link.group(1) == video_booking.therapist_video_url
    assert "öppnas kl. 08:45" in body
    assert video_booking.video_token not in body


def feed_events(body: bytes) -> list[dict]:
    """The feed's events as Mozilla's ical.js (Thunderbird's parser) reads them."""
    import json
    import subprocess
    from pathlib import Path

    from django.conf import settings

    script = """
    const ICAL = require("ical.js");
    let text = "";
    process.stdin.on("data", d => text += d).on("end", () => {
      const events = new ICAL.Component(ICAL.parse(text)).getAllSubcomponents("vevent");
      console.log(JSON.stringify(events.map(e => ({
        uid: e.getFirstPropertyValue("uid"), summary: e.getFirstPropertyValue("summary"),
        url: e.getFirstPropertyValue("url"), description: e.getFirstPropertyValue("description"),
      }))));
    });"""
    done = subprocess.run(["node", "-e", script], input=body, capture_output=True, cwd=Path(settings.BASE_DIR),
                          timeout=60, check=True)
    return json.loads(done.stdout)


def test_the_feed_carries_her_own_video_link_never_the_clients(anna, slot, erik, video_booking):
    onsite = booking_create_by_therapist(
        therapist=anna, slot=slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 11:00")),
        client=erik, mode="onsite", actor=anna.user,
    )

    body = HttpClient().get(f"/kalender/feed/{anna.calendar_feed_token}.ics").content

    events = {e["uid"]: e for e in feed_events(body)}
    video = events[f"slot-{video_booking.slot_id}@tidbok"]
    assert video["url"] == video_booking.therapist_video_url
    assert video["description"] == ("Din länk till videosamtalet (den öppnas 15 minuter före start): "
                                    f"{video_booking.therapist_video_url}")
    assert events[f"slot-{onsite.slot_id}@tidbok"]["url"].endswith("/kalender/?datum=2027-01-12")
    assert video_booking.video_token.encode() not in body.replace(b"\r\n ", b"")  # unfolded (RFC 5545 3.1)


def test_her_booking_view_and_feed_say_the_minutes_of_the_setting(anna, anna_web, slot, video_booking, settings):
    """R20: the booking view and the feed say VIDEO_OPENS_MINUTES_BEFORE, not a number of their own."""
    settings.VIDEO_OPENS_MINUTES_BEFORE = 1

    body = anna_web.get(f"/kalender/tider/{slot.pk}/").content.decode()
    feed = HttpClient().get(f"/kalender/feed/{anna.calendar_feed_token}.ics").content

    assert "öppnas kl. 08:59, 1 minut före start" in body  # 09:00 in her zone
    [video] = [e for e in feed_events(feed) if e["uid"] == f"slot-{video_booking.slot_id}@tidbok"]
    assert video["description"].startswith("Din länk till videosamtalet (den öppnas 1 minut före start): ")
