"""GET and PATCH /therapist/settings: the defaults of new slots, the zone times are shown in,
what clients are told, how they reach her and whether she is mailed of their bookings
(R2, R5–R7, R19, R22, R30)."""

import pytest

from api.tests.helpers import assert_invalid, slot_for
from domain.models import Therapist

pytestmark = pytest.mark.usefixtures("now")

SETTINGS_KEYS = {
    "default_duration_minutes", "default_price", "timezone", "reception_address", "personal_info",
    "default_modes", "default_audience", "client_booster", "notify_by_email", "contact_email", "contact_phone",
    "min_notice_hours", "booking_horizon_days",
    "busy_calendar_url", "busy_show_titles", "busy_synced_at", "busy_error",  # R38 (api/tests/test_busy.py)
}


def test_it_answers_the_defaults(anna_api):
    response = anna_api.get("/therapist/settings")

    assert response.status_code == 200
    assert response.json() == {
        "default_duration_minutes": 45,
        "default_price": 1000,
        "timezone": "Europe/Stockholm",
        "reception_address": "",
        "personal_info": "",
        "default_modes": ["video", "onsite"],
        "default_audience": "all",
        "client_booster": True,
        "notify_by_email": True,
        "contact_email": "",
        "contact_phone": "",
        # conftest's therapists take any time (R35's own defaults, 12 and 90: test_booking_window.py).
        "min_notice_hours": 0,
        "booking_horizon_days": 730,
        "busy_calendar_url": "",
        "busy_show_titles": False,
        "busy_synced_at": None,
        "busy_error": "",
    }


def test_it_answers_client_booster_off_for_bo(bo_api):
    assert bo_api.get("/therapist/settings").json()["client_booster"] is False


def test_it_changes_every_setting(anna_api, anna):
    changes = {
        "default_duration_minutes": 60,
        "default_price": 1200,
        "timezone": "Europe/Helsinki",
        "reception_address": "Storgatan 1, 111 22 Stockholm",
        "personal_info": "Ring på porttelefonen, plan 3.",
        "default_modes": ["onsite"],
        "default_audience": "existing",
        "notify_by_email": False,
        "contact_email": "mottagning@example.se",
        "contact_phone": "+46 8-123 456 78",
        "min_notice_hours": 24,
        "booking_horizon_days": 60,
        "busy_calendar_url": "https://calendar.example.com/secret/basic.ics",
        "busy_show_titles": True,
    }

    response = anna_api.patch("/therapist/settings", changes)

    assert response.status_code == 200
    assert response.json() == {**changes, "client_booster": True, "busy_synced_at": None, "busy_error": ""}
    anna.refresh_from_db()
    assert anna.default_duration_minutes == 60
    assert anna.default_price == 1200
    assert anna.timezone == "Europe/Helsinki"
    assert anna.reception_address == "Storgatan 1, 111 22 Stockholm"
    assert anna.personal_info == "Ring på porttelefonen, plan 3."
    assert (anna.default_video, anna.default_onsite) == (False, True)
    assert anna.default_audience == "existing"
    assert (anna.notify_by_email, anna.contact_email, anna.contact_phone) == (False, "mottagning@example.se",
                                                                              "+46 8-123 456 78")
    assert anna.contact_address == "mottagning@example.se"
    assert (anna.min_notice_hours, anna.booking_horizon_days) == (24, 60)
    assert anna_api.get("/therapist/settings").json() == response.json()


def test_an_empty_contact_address_means_her_log_in_address(anna_api, anna):
    anna_api.patch("/therapist/settings", {"contact_email": " Mottagning@Example.SE ", "contact_phone": "08-123 45"})

    response = anna_api.patch("/therapist/settings", {"contact_email": "", "contact_phone": ""})

    assert response.status_code == 200
    assert (response.json()["contact_email"], response.json()["contact_phone"]) == ("", "")
    anna.refresh_from_db()
    assert anna.contact_address == "anna@example.se"


def test_it_changes_only_what_is_sent(anna_api, anna):
    response = anna_api.patch("/therapist/settings", {"default_price": 900})

    assert response.status_code == 200
    assert response.json()["default_price"] == 900
    assert response.json()["default_duration_minutes"] == 45
    anna.refresh_from_db()
    assert (anna.default_price, anna.default_duration_minutes, anna.timezone) == (900, 45, "Europe/Stockholm")


def test_client_booster_cannot_be_switched_by_the_therapist(bo_api, bo):
    response = bo_api.patch("/therapist/settings", {"client_booster": True, "default_price": 800})

    assert response.status_code == 200
    assert response.json()["client_booster"] is False
    bo.refresh_from_db()
    assert bo.client_booster is False
    assert bo.default_price == 800


def test_new_slots_take_the_new_defaults(anna_api, anna):
    anna_api.patch("/therapist/settings", {"default_duration_minutes": 60, "default_price": 1200,
                                            "default_modes": ["video"], "default_audience": "existing"})

    entry = anna_api.post("/therapist/slots", {"start": "2027-01-12T09:00:00+01:00"}).json()

    assert entry["duration_minutes"] == 60
    assert entry["price"] == 1200
    assert entry["modes"] == ["video"]
    assert entry["audience"] == "existing"
    assert entry["color"] == "blue"


def test_slots_already_made_keep_their_price(anna_api, anna):
    slot = slot_for(anna, "2027-01-12 09:00")

    anna_api.patch("/therapist/settings", {"default_price": 2000})

    slot.refresh_from_db()
    assert slot.price == 1000


def test_times_are_answered_in_the_new_zone(anna_api, anna):
    slot_for(anna, "2027-01-12 09:00")  # 08:00 UTC

    anna_api.patch("/therapist/settings", {"timezone": "America/New_York"})

    entries = anna_api.get("/therapist/calendar", start="2027-01-12T00:00:00-05:00", end="2027-01-13T00:00:00-05:00").json()
    assert entries[0]["start"] == "2027-01-12T03:00:00-05:00"


@pytest.mark.parametrize(
    "field, value",
    [
        ("default_duration_minutes", 0),
        ("default_duration_minutes", 4),
        ("default_duration_minutes", 12 * 60 + 1),
        ("default_duration_minutes", "long"),
        ("default_duration_minutes", 45.5),
        ("default_price", -1),
        ("default_price", 10**20),
        ("default_price", "gratis"),
        ("default_price", 999.5),
        ("timezone", "Europe/Nowhere"),
        ("timezone", "../../etc/passwd"),
        ("timezone", ""),
        ("timezone", 5),
        ("default_modes", []),
        ("default_modes", ["phone"]),
        ("default_modes", "video"),
        ("default_audience", "friends"),
        ("reception_address", "x" * 2001),
        ("personal_info", {"text": "hej"}),
        ("personal_info", "Ring\x00 på"),  # PostgreSQL cannot store a NUL
        ("reception_address", "\x00"),
        ("notify_by_email", "yes"),
        ("notify_by_email", 1),
        ("notify_by_email", "false"),
        ("contact_email", "mottagning"),
        ("contact_email", "a@b"),
        ("contact_email", '"ring mig"@example.se'),
        ("contact_email", "anna@example.se\nBcc: x@example.se"),
        ("contact_email", "a" * 250 + "@example.se"),
        ("contact_email", ["anna@example.se"]),
        ("contact_phone", "ring mig"),
        ("contact_phone", "123"),
        ("contact_phone", "+46 70\n123 45 67"),
        ("contact_phone", "1" * 41),
        ("contact_phone", 4670123),
    ],
)
def test_it_refuses_bad_settings_naming_the_field(anna_api, anna, field, value):
    before = anna_api.get("/therapist/settings").json()

    response = anna_api.patch("/therapist/settings", {field: value})

    assert_invalid(response, field)
    assert anna_api.get("/therapist/settings").json() == before


def test_it_refuses_malformed_json(anna_api):
    response = anna_api.patch("/therapist/settings", '{"default_price": 12')

    assert response.status_code == 400
    assert Therapist.objects.get(user__email="anna@example.se").default_price == 1000


@pytest.mark.parametrize("method", ["get", "patch"])
def test_a_client_may_not_use_the_settings(erik_api, method):
    if method == "get":
        response = erik_api.get("/therapist/settings")
    else:
        response = erik_api.patch("/therapist/settings", {"default_price": 1})

    assert response.status_code == 403


@pytest.mark.parametrize("method", ["get", "patch"])
def test_the_settings_need_a_login(anon_api, method):
    if method == "get":
        response = anon_api.get("/therapist/settings")
    else:
        response = anon_api.patch("/therapist/settings", {"default_price": 1})

    assert response.status_code == 401


def test_each_therapist_has_her_own_settings(anna_api, bo_api, bo):
    anna_api.patch("/therapist/settings", {"default_price": 1500})

    assert bo_api.get("/therapist/settings").json()["default_price"] == 1000
    bo.refresh_from_db()
    assert bo.default_price == 1000


@pytest.mark.parametrize("body", ["0", "[]", '"text"', "true", "null", "{not json"])
def test_a_body_that_is_not_a_json_object_is_refused_by_name(anna_api, anna, body):
    response = anna_api.patch("/therapist/settings", body)
    assert response.status_code == 400
    assert "JSON-objekt" in response.json()["detail"]
