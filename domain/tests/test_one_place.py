"""Issue 12, "one rule, one place": the small rules that were written several times now have one
definition each, and every surface reads it. These tests fail when a surface gets a copy of its
own again (a literal where the constant belongs, a code missing from the registry), and check
the shared helpers' behaviour where they replaced hand-made copies."""

import re
import zoneinfo
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation

from api import schemas
from client_pages.forms import MODE_CHOICES, SignupForm
from conftest import at
from domain import models, services
from domain.errors import CODES, MESSAGES, Code, DomainError
from domain.models import Booking, Slot, Therapist
from domain.timezones import day_start, local_today, monday_of, week_bounds, week_start
from therapist_pages.forms import AUDIENCE_CHOICES, ClientForm, SettingsForm

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


# Error codes: one registry -------------------------------------------------------------------


def test_the_conflict_codes_are_the_registry_and_docs_api_lists_exactly_those():
    documented = re.findall(r"^\| `([a-z_]+)` \| 409 \|", (Path(settings.BASE_DIR) / "docs/api.md").read_text(), re.M)

    assert sorted(documented) == sorted(CODES)
    assert set(MESSAGES) == set(Code)
    assert set(schemas.Conflict.model_json_schema()["properties"]["code"]["enum"]) == set(CODES)


def test_a_code_that_is_not_in_the_registry_is_refused_where_it_is_raised():
    with pytest.raises(ValueError):
        DomainError("slot_taken_typo")
    assert DomainError("slot_taken").code is Code.SLOT_TAKEN  # the API's string still works


# Text limits: one number each ----------------------------------------------------------------

LIMITS = [
    # (constant, model field, form field, API schema field)
    (models.TITLE_MAX_LENGTH, (Therapist, "title"), (SettingsForm, "title"), None),
    (models.CITY_MAX_LENGTH, (Therapist, "city"), (SettingsForm, "city"), None),
    (models.RECEPTION_ADDRESS_MAX_LENGTH, None, (SettingsForm, "reception_address"),
     (schemas.SettingsPatch, "reception_address")),
    (models.PERSONAL_INFO_MAX_LENGTH, None, (SettingsForm, "personal_info"), (schemas.SettingsPatch, "personal_info")),
    (models.PRESENTATION_MAX_LENGTH, None, (SettingsForm, "presentation"), None),
    (models.PHONE_MAX_LENGTH, (Therapist, "contact_phone"), (SettingsForm, "contact_phone"),
     (schemas.SettingsPatch, "contact_phone")),
    (models.PHONE_MAX_LENGTH, (models.Client, "phone"), (ClientForm, "phone"), (schemas.ClientIn, "phone")),
    (models.NAME_MAX_LENGTH, (models.Client, "first_name"), (ClientForm, "first_name"), (schemas.ClientIn, "first_name")),
    (models.NAME_MAX_LENGTH, (models.Client, "last_name"), (SignupForm, "last_name"), (schemas.SignupIn, "last_name")),
    (models.EMAIL_MAX_LENGTH, (models.Client, "email"), (SignupForm, "email"), (schemas.SignupIn, "email")),
    (models.PERSONNUMMER_TYPED_MAX_LENGTH, None, (ClientForm, "personnummer"), (schemas.ClientIn, "personnummer")),
    (models.TIMEZONE_MAX_LENGTH, (Therapist, "timezone"), None, (schemas.SettingsPatch, "timezone")),
]


def _schema_max_length(schema, field: str) -> int:
    prop = schema.model_json_schema()["properties"][field]
    return prop.get("maxLength") or next(o["maxLength"] for o in prop["anyOf"] if "maxLength" in o)


@pytest.mark.parametrize(("limit", "model", "form", "schema"), LIMITS,
                         ids=[f"{(m or f or s)[0].__name__}.{(m or f or s)[1]}" for _l, m, f, s in LIMITS])
def test_each_text_limit_is_one_number_for_the_model_the_form_and_the_api(limit, model, form, schema):
    if model:
        assert model[0]._meta.get_field(model[1]).max_length == limit
    if form:
        assert form[0].base_fields[form[1]].max_length == limit
    if schema:
        assert _schema_max_length(schema[0], schema[1]) == limit


@pytest.mark.django_db
def test_the_settings_service_refuses_one_character_past_the_same_limits(anna):
    for field in ("title", "city", "reception_address", "personal_info", "presentation"):
        limit = SettingsForm.base_fields[field].max_length
        services.therapist_settings_update(therapist=anna, actor=anna.user, **{field: "a" * limit})
        with pytest.raises(ValidationError) as caught:
            services.therapist_settings_update(therapist=anna, actor=anna.user, **{field: "a" * (limit + 1)})
        assert field in caught.value.message_dict


# The cancellation cut-off: one bound --------------------------------------------------------


@pytest.mark.django_db
def test_the_settings_form_and_the_service_share_the_cut_off_bound(anna):
    field = SettingsForm.base_fields["cancellation_cutoff_hours"]
    assert (field.min_value, field.max_value) == (0, models.MAX_CANCELLATION_CUTOFF_HOURS)

    services.therapist_settings_update(
        therapist=anna, actor=anna.user, cancellation_cutoff_hours=models.MAX_CANCELLATION_CUTOFF_HOURS
    )
    with pytest.raises(ValidationError):
        services.therapist_settings_update(
            therapist=anna, actor=anna.user, cancellation_cutoff_hours=models.MAX_CANCELLATION_CUTOFF_HOURS + 1
        )


# Mode and audience labels: the model's -------------------------------------------------------


def test_the_forms_offer_the_models_labels():
    assert AUDIENCE_CHOICES == models.Audience.choices
    assert MODE_CHOICES == list(models.MODE_FOR_CLIENTS.items())
    assert [value for value, _label in MODE_CHOICES] == list(models.MODES)


@pytest.mark.parametrize(("video", "onsite", "slot_text", "therapist_text"), [
    (True, True, "Video eller på plats", "Videosamtal och på plats"),
    (True, False, "Videosamtal", "Videosamtal"),
    (False, True, "På plats", "På plats"),
])
def test_what_a_client_reads_of_the_kinds_comes_from_the_model(video, onsite, slot_text, therapist_text):
    slot = Slot(video=video, onsite=onsite, audience=models.EXISTING)
    therapist = Therapist(default_video=video, default_onsite=onsite)

    with translation.override("sv"):
        assert str(slot.kinds_for_client) == slot_text
        assert str(therapist.meets_for_client) == therapist_text
        assert [str(label) for label in slot.mode_labels] == [
            {"video": "Video", "onsite": "På plats"}[m] for m in slot.modes
        ]
        assert slot.get_audience_display() == "Enbart befintliga klienter"
        assert str(Booking(mode=models.VIDEO).mode_for_client) == "Videosamtal"


# Time zones and weeks: domain/timezones.py ---------------------------------------------------


def test_a_week_starts_on_monday_whatever_the_day():
    for offset in range(7):
        assert monday_of(date(2027, 1, 11) + timedelta(days=offset)) == date(2027, 1, 11)
    assert monday_of(date(2027, 1, 10)) == date(2027, 1, 4)  # a Sunday belongs to the week before


def test_the_week_of_the_spring_change_is_an_hour_short_in_the_zone():
    utc = zoneinfo.ZoneInfo("UTC")
    start, end = week_bounds(date(2027, 3, 31), STOCKHOLM)  # the week after the change: 7 whole days

    assert start == datetime(2027, 3, 29, tzinfo=STOCKHOLM) == week_start(date(2027, 4, 4), STOCKHOLM)
    assert (start.utcoffset(), end.utcoffset()) == (timedelta(hours=2), timedelta(hours=2))
    assert end.astimezone(utc) - start.astimezone(utc) == timedelta(hours=168)
    # Clocks go forward on Sunday 28 March 2027: that week, Monday to Monday, is 167 hours.
    start, end = week_bounds(date(2027, 3, 24), STOCKHOLM)
    assert end.astimezone(utc) - start.astimezone(utc) == timedelta(hours=167)


def test_the_local_day_is_the_zones_not_utcs():
    late = at("2027-01-11 23:30")  # 22:30 UTC
    assert local_today(STOCKHOLM, late) == date(2027, 1, 11)
    assert local_today(zoneinfo.ZoneInfo("Asia/Tokyo"), late) == date(2027, 1, 12)
    assert day_start(date(2027, 1, 11), STOCKHOLM) == at("2027-01-11 00:00")


# The therapist books a client: one path, through her list -------------------------------------


@pytest.mark.django_db
def test_a_therapist_books_by_id_only_a_client_on_her_list(anna, bo, erik, nora, make_client, now):
    slot = services.slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 10:00"))
    bos_client = make_client(first="Berit", birth="19700101", therapist=bo)

    for stranger in (nora.pk, bos_client.pk, 10**9):
        with pytest.raises(DomainError) as caught:
            services.booking_create_by_therapist(therapist=anna, slot=slot.pk, client=stranger, mode="video",
                                                 actor=anna.user)
        assert caught.value.code == Code.CLIENT_NOT_ON_LIST
    bos_slot = services.slot_create(therapist=bo, actor=bo.user, start=at("2027-01-12 10:00"))
    with pytest.raises(Slot.DoesNotExist):  # another's slot is missing before any client is looked at
        services.booking_create_by_therapist(therapist=anna, slot=bos_slot.pk, client=nora.pk, mode="video",
                                             actor=anna.user)
    assert not Booking.objects.exists()

    booking = services.booking_create_by_therapist(therapist=anna, slot=slot.pk, client=erik.pk, mode="video",
                                                   actor=anna.user)
    assert booking.client == erik
