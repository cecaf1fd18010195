"""The time-zone picker in Inställningar (issue 10, finding 5): zones named in the therapist's
language from CLDR (Babel), Stockholm and the Nordic and European capitals first, every other
zone grouped by region; the value stored stays the IANA name (R22)."""

import re
import zoneinfo

import pytest
from django.test import Client as HttpClient

from domain.models import Therapist
from domain.timezones import timezone_choices

SETTINGS = {
    "default_duration_minutes": "45", "default_price": "1000", "default_modes": ["video", "onsite"],
    "default_audience": "all", "reception_address": "", "personal_info": "", "title": "", "city": "",
    "presentation": "", "areas": "", "cancellation_cutoff_hours": "24", "min_notice_hours": "12", "booking_horizon_days": "90",
}


@pytest.fixture
def anna_web(anna, now):
    http = HttpClient()
    http.force_login(anna.user)
    return http


def picker(page: str) -> tuple[list[str], list[tuple[str, str, bool]]]:
    """The time-zone select's group labels and its options (value, text, selected)."""
    select = re.search(r'<select name="timezone".*?</select>', page, re.S).group(0)
    groups = re.findall(r'<optgroup label="([^"]*)"', select)
    options = [(value, text.strip(), bool(selected))
               for value, selected, text in re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select)]
    return groups, options


def test_the_zones_are_named_in_swedish_with_stockholm_and_the_nordic_capitals_first(anna_web):
    groups, options = picker(anna_web.get("/kalender/installningar/").content.decode())

    assert groups == ["Vanliga tidszoner", "Afrika", "Amerika", "Antarktis", "Arktis", "Asien", "Atlanten",
                      "Australien", "Europa", "Indiska oceanen", "Stilla havet"]
    assert options[0] == ("Europe/Stockholm", "Stockholm (centraleuropeisk tid)", True)
    assert [text for _value, text, _selected in options[1:6]] == [
        "Helsingfors (östeuropeisk tid)", "Köpenhamn (centraleuropeisk tid)", "Mariehamn (östeuropeisk tid)",
        "Oslo (centraleuropeisk tid)", "Reykjavik (Islandtid)"]
    assert ("America/New_York", "New York (östnordamerikansk tid)", False) in options
    assert not [text for _value, text, _selected in options if "/" in text or "_" in text]  # no raw IANA names


def test_the_zones_are_named_in_english_on_request(anna_web):
    anna_web.cookies["tidbok_language"] = "en"
    groups, options = picker(anna_web.get("/kalender/installningar/").content.decode())

    assert groups[:3] == ["Common time zones", "Africa", "America"]
    assert options[0] == ("Europe/Stockholm", "Stockholm (Central European Time)", True)


def test_choosing_a_zone_stores_its_iana_name(anna, anna_web):
    response = anna_web.post("/kalender/installningar/", {**SETTINGS, "timezone": "America/New_York"})

    assert response.status_code == 302
    assert Therapist.objects.get(pk=anna.pk).timezone == "America/New_York"
    _groups, options = picker(anna_web.get("/kalender/installningar/").content.decode())
    assert [value for value, _text, selected in options if selected] == ["America/New_York"]


def test_a_zone_stored_under_an_old_name_stays_chosen_and_saves_unchanged(anna, anna_web):
    Therapist.objects.filter(pk=anna.pk).update(timezone="Europe/Kiev")  # the API takes any IANA name

    _groups, options = picker(anna_web.get("/kalender/installningar/").content.decode())
    response = anna_web.post("/kalender/installningar/", {**SETTINGS, "timezone": "Europe/Kiev"})

    assert options[0] == ("Europe/Kiev", "Kiev (östeuropeisk tid)", True)
    assert response.status_code == 302
    assert Therapist.objects.get(pk=anna.pk).timezone == "Europe/Kiev"


def test_a_zone_not_in_the_list_is_refused_by_name(anna, anna_web):
    response = anna_web.post("/kalender/installningar/", {**SETTINGS, "timezone": "Mars/Olympus_Mons"})

    assert response.status_code == 422
    assert "timezone" in response.context["form"].errors
    assert Therapist.objects.get(pk=anna.pk).timezone == "Europe/Stockholm"


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_zone_is_offered_once_and_is_a_real_zone(language):
    values = [value for _group, options in timezone_choices(language) for value, _label in options]

    assert len(values) == len(set(values)) > 400
    for value in values:
        zoneinfo.ZoneInfo(value)
