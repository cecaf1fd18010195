"""R36 on the therapist's pages: Ledighet from the calendar's toolbar, a form, a confirmation
that lists the open slots that go and the bookings inside (each linking to its booking view),
then set; her time off listed with "Ta bort"; the calendar's forms say `time_off` in words.
Time starts at Monday 2027-01-11 08:00 in Stockholm."""

import json
import re

import pytest
from django.test import Client as HttpClient

from conftest import at
from domain.models import AuditEntry, Slot, TimeOff
from domain.services import booking_create_by_therapist, slot_create, time_off_create
from therapist_pages.colours import TIME_OFF

PAGE = "/kalender/ledighet/"
WEEK = {"from_date": "2027-01-18", "to_date": "2027-01-24", "note": "Fjällen"}


def web(user):
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def anna_web(anna, now):
    return web(anna.user)


@pytest.fixture
def week(anna, erik, now):
    """An open slot and a booking of Erik's in the week of 18 jan, an open slot after it."""
    inside = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-19 09:00"))
    booked = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-20 10:00"))
    booking = booking_create_by_therapist(therapist=anna, slot=booked, client=erik, mode="video", actor=anna.user)
    after = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-26 09:00"))
    return inside, booking, after


def config_of(body: str) -> dict:
    return json.loads(re.search(r'id="calendar-config" type="application/json">(.*?)</script>', body, re.S).group(1))


def test_the_calendar_has_a_time_off_button_a_legend_entry_and_the_band_source(anna_web):
    body = anna_web.get("/kalender/").content.decode()

    assert re.search(r'<a class="button" id="time-off-button" href="/kalender/ledighet/">Ledighet</a>', body)
    assert "Ledighet: inga tider kan läggas in" in body  # the legend
    config = config_of(body)
    assert config["urls"]["timeOff"] == "/api/v1/therapist/time-off"
    assert config["timeOff"] == {"background": TIME_OFF.background, "text": TIME_OFF.text, "icon": TIME_OFF.icon,
                                 "label": "Ledighet"}


def contrast(a: str, b: str) -> float:
    """WCAG 2's contrast ratio of two #rrggbb colours."""

    def luminance(colour):
        def channel(c):
            c = int(c, 16) / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(colour[i:i + 2]) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("tid", ["١٢", "²", "9" * 30, "-1", "", "1e3"])
def test_a_tid_that_is_no_slot_id_opens_nothing(anna_web, tid):
    # str.isdigit() holds for "²" and "١٢": the script would fetch /kalender/tider/²/.
    assert config_of(anna_web.get("/kalender/", {"tid": tid}).content.decode())["initialSlot"] is None


def test_the_bands_words_have_contrast_on_it():
    assert contrast(TIME_OFF.text, TIME_OFF.background) >= 4.5


def test_the_form_asks_for_dates_optional_times_and_a_note(anna_web):
    body = anna_web.get(PAGE).content.decode()

    for label in ("Från", "Till och med", "Från klockan (valfritt)", "Till klockan (valfritt)", "Anteckning (valfritt)"):
        assert f">{label}</label>" in body, label
    assert "Du har ingen ledighet framför dig." in body


def test_continuing_shows_what_will_happen_and_writes_nothing(anna, anna_web, week):
    inside, booking, after = week

    response = anna_web.post(PAGE, WEEK)

    assert response.status_code == 200
    body = response.content.decode()
    assert "1 ledig tid tas bort" in body and "tis 19 januari 09:00–09:45" in body
    assert "mån 18 januari 2027 00:00 – sön 24 januari 2027 23:59" in body  # as her list shows it
    assert "1 bokning ligger i den" in body
    link = f'href="/kalender/?datum=2027-01-20&amp;tid={booking.slot_id}"'
    assert link in body and "Erik Eriksson" in body
    assert 'name="confirm"' in body and ">Lägg in ledighet</button>" in body
    assert not TimeOff.objects.exists() and Slot.objects.filter(pk=inside.pk).exists()


def test_confirming_sets_it_and_goes_to_the_calendar_at_its_start(anna, anna_web, week):
    inside, booking, after = week

    response = anna_web.post(PAGE, {**WEEK, "confirm": "1"}, follow=True)

    assert response.redirect_chain == [("/kalender/?datum=2027-01-18", 302)]
    body = response.content.decode()
    assert "Ledigheten är inlagd: 1 ledig tid togs bort. 1 bokning ligger i den: flytta eller avboka den." in body
    time_off = TimeOff.objects.get()
    assert (time_off.start_at, time_off.end_at, time_off.note) == (at("2027-01-18 00:00"), at("2027-01-25 00:00"), "Fjällen")
    assert not Slot.objects.filter(pk=inside.pk).exists()
    assert Slot.objects.filter(pk__in=[booking.slot_id, after.pk]).count() == 2
    assert AuditEntry.objects.filter(action="time_off.created", actor=anna.user).exists()


def test_a_part_day_takes_the_times(anna, anna_web):
    response = anna_web.post(PAGE, {"from_date": "2027-01-18", "from_time": "12:00", "to_date": "2027-01-18",
                                    "to_time": "17:00", "confirm": "1"})

    assert response.status_code == 302
    time_off = TimeOff.objects.get()
    assert (time_off.start_at, time_off.end_at) == (at("2027-01-18 12:00"), at("2027-01-18 17:00"))


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"from_date": "2027-01-20", "to_date": "2027-01-18"}, "to_date", "Slutet måste komma efter början."),
    ({"from_date": "2027-01-01", "to_date": "2027-01-10"}, "to_date", "Slutet har redan passerat."),
    ({"from_date": "2027-01-18", "to_date": "2028-01-19"}, "to_date", "Ledigheten kan vara högst 366 dagar lång."),
    ({"from_date": "2027-03-28", "from_time": "02:30", "to_date": "2027-03-28"}, "from_time", "finns inte"),
    ({"from_date": "", "to_date": "2027-01-18"}, "from_date", "Fältet måste fyllas i."),
    ({**WEEK, "note": "x" * 201}, "note", "201"),
])
def test_bad_input_is_shown_by_its_field_and_nothing_is_written(anna_web, week, data, field, message):
    for confirm in ({}, {"confirm": "1"}):
        response = anna_web.post(PAGE, {**data, **confirm})

        assert response.status_code == 422
        assert field in response.context["form"].errors, response.context["form"].errors
        assert message in " ".join(response.context["form"].errors[field])
    assert not TimeOff.objects.exists() and Slot.objects.count() == 3


@pytest.mark.parametrize("zone", ["Europe/Stockholm", "America/New_York"])
@pytest.mark.parametrize(("data", "field"), [
    ({"from_date": "0001-01-01", "from_time": "00:00", "to_date": "0001-01-02", "to_time": "00:00"}, "from_time"),
    ({"from_date": "2027-01-18", "to_date": "9999-12-31", "to_time": "23:30"}, "to_time"),
    ({"from_date": "9999-12-31", "from_time": "23:00", "to_date": "9999-12-31"}, "from_time"),
])
def test_a_date_at_the_ends_of_the_calendar_with_a_time_is_refused_not_a_500(anna, anna_web, data, field, zone):
    anna.timezone = zone
    anna.save(update_fields=["timezone"])
    for confirm in ({}, {"confirm": "1"}):
        response = anna_web.post(PAGE, {**data, **confirm})

        assert response.status_code == 422
        assert "Datumet måste ligga mellan år 1900 och 9000." in " ".join(response.context["form"].errors[field])
    assert not TimeOff.objects.exists()


def test_her_time_off_is_listed_and_removed_with_its_button(anna, bo, anna_web):
    mine = time_off_create(therapist=anna, start=at("2027-01-18 00:00"), end=at("2027-01-25 00:00"), note="Fjällen",
                           actor=None)[0]
    theirs = time_off_create(therapist=bo, start=at("2027-01-18 00:00"), end=at("2027-01-19 00:00"), actor=None)[0]

    body = anna_web.get(PAGE).content.decode()
    assert "mån 18 januari 2027 00:00 – sön 24 januari 2027 23:59: Fjällen" in body
    assert f'action="/kalender/ledighet/{theirs.pk}/ta-bort/"' not in body
    assert anna_web.post(f"/kalender/ledighet/{theirs.pk}/ta-bort/").status_code == 404

    response = anna_web.post(f"/kalender/ledighet/{mine.pk}/ta-bort/", follow=True)

    assert response.redirect_chain == [(PAGE, 302)]
    assert "Ledigheten är borttagen." in response.content.decode()
    assert list(TimeOff.objects.all()) == [theirs]
    assert anna_web.get(f"/kalender/ledighet/{mine.pk}/ta-bort/").status_code == 405


def test_another_role_may_not_see_it(erik, db):
    assert web(erik.user).get(PAGE).status_code == 403
    assert HttpClient().get(PAGE).status_code == 302


# The calendar's forms inside time off: the reason in words ------------------------------------


@pytest.fixture
def week_off(anna, now):
    return time_off_create(therapist=anna, start=at("2027-01-18 00:00"), end=at("2027-01-25 00:00"), actor=None)[0]


REFUSED = {"code": "time_off", "detail": "Tiden ligger under din ledighet."}


def test_a_new_slot_inside_it_is_refused_in_words(anna_web, week_off):
    response = anna_web.post("/kalender/tider/ny/", {"date": "2027-01-19", "time": "09:00", "duration_minutes": "45",
                                                     "kinds": ["video"], "audience": "all"})

    assert (response.status_code, response.json()) == (409, REFUSED)
    assert not Slot.objects.exists()


def test_a_stretch_marked_into_it_is_refused_and_makes_none(anna_web, week_off):
    response = anna_web.post("/kalender/tider/flera/", {"start": "2027-01-17T22:00:00+01:00",
                                                        "end": "2027-01-18T02:00:00+01:00"})

    assert (response.status_code, response.json()) == (409, REFUSED)
    assert not Slot.objects.exists()


def test_a_slot_moved_into_it_is_refused_in_words(anna, anna_web, week_off):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"))

    response = anna_web.post(f"/kalender/tider/{slot.pk}/andra/", {"date": "2027-01-19", "time": "09:00",
                                                                   "duration_minutes": "45", "price": "1000",
                                                                   "kinds": ["video"], "audience": "all"})

    assert (response.status_code, response.json()) == (409, REFUSED)
    assert Slot.objects.get(pk=slot.pk).start_at == at("2027-01-12 09:00")


def test_a_repeat_names_the_week_off_as_skipped(anna, anna_web, week_off):
    slot = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"))

    response = anna_web.post(f"/kalender/tider/{slot.pk}/upprepa/", {"weeks": "2"})

    assert response.status_code == 200, response.content
    assert "Hoppade över: 19 januari (ledighet)." in response.json()["message"]
    assert Slot.objects.count() == 2
