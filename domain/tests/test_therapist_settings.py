"""therapist_settings_update (the profile, the cancellation cut-off and the defaults) and
therapist_feed_token_regenerate."""

import pytest
from django.core.exceptions import ValidationError

from conftest import at
from domain.models import AuditEntry, Therapist
from domain.services import slot_create, therapist_feed_token_regenerate, therapist_settings_update


def test_it_saves_the_profile_and_the_cancellation_cut_off(anna):
    therapist_settings_update(
        therapist=anna, actor=anna.user, title="  Leg. psykolog ", presentation="Jag arbetar med KBT.",
        city="Uppsala", languages=["sv", "EN", "sv"], areas=["Ångest", " stress ", "ångest", ""],
        cancellation_cutoff_hours=48,
    )

    anna = Therapist.objects.get(pk=anna.pk)
    assert (anna.title, anna.presentation, anna.city) == ("Leg. psykolog", "Jag arbetar med KBT.", "Uppsala")
    assert anna.languages == ["sv", "en"]
    assert anna.areas == ["Ångest", "stress"]
    assert anna.cancellation_cutoff_hours == 48
    entry = AuditEntry.objects.get(action="therapist.settings")
    assert entry.before["city"] == "" and entry.after["city"] == "Uppsala"


@pytest.mark.parametrize(
    "field, value",
    [
        ("title", "x" * 121),
        ("city", "x" * 81),
        ("presentation", "x" * 5001),
        ("presentation", "a\x00b"),
        ("languages", "sv"),
        ("languages", ["svenska"]),
        ("languages", ["s1"]),
        ("areas", "stress"),
        ("areas", ["x" * 61]),
        ("areas", [f"area {i}" for i in range(21)]),
        ("cancellation_cutoff_hours", -1),
        ("cancellation_cutoff_hours", 14 * 24 + 1),
        ("cancellation_cutoff_hours", "24"),
        ("cancellation_cutoff_hours", True),
    ],
)
def test_it_refuses_bad_profile_values_naming_the_field_and_changes_nothing(anna, field, value):
    with pytest.raises(ValidationError) as caught:
        therapist_settings_update(therapist=anna, actor=anna.user, **{"title": "Psykolog", field: value})

    assert field in caught.value.message_dict
    fresh = Therapist.objects.get(pk=anna.pk)
    assert fresh.title == "" and anna.title == ""
    assert not AuditEntry.objects.filter(action="therapist.settings").exists()


def test_a_changed_default_applies_to_the_next_slot_only(anna, now):
    first = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 09:00"))

    therapist_settings_update(
        therapist=anna, actor=anna.user, default_duration_minutes=60, default_price=1200,
        default_modes=["onsite"], default_audience="existing",
    )
    second = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-12 11:00"))

    first.refresh_from_db()
    assert (first.duration_minutes, first.price, first.modes, first.audience) == (45, 1000, ["video", "onsite"], "all")
    assert (second.duration_minutes, second.price, second.modes, second.audience) == (60, 1200, ["onsite"], "existing")


def test_unchanged_settings_write_no_audit_entry(anna):
    therapist_settings_update(therapist=anna, actor=anna.user, city="", default_price=1000)

    assert not AuditEntry.objects.filter(action="therapist.settings").exists()


def test_a_new_feed_token_revokes_the_old_one(anna):
    old = anna.calendar_feed_token

    therapist_feed_token_regenerate(therapist=anna, actor=anna.user)

    fresh = Therapist.objects.get(pk=anna.pk)
    assert fresh.calendar_feed_token != old and len(fresh.calendar_feed_token) >= 32
    assert not Therapist.objects.filter(calendar_feed_token=old).exists()
    entry = AuditEntry.objects.get(action="therapist.feed_token")
    assert old not in str(entry.before) + str(entry.after)
    assert fresh.calendar_feed_token not in str(entry.before) + str(entry.after)
