"""A therapist's settings: the defaults of new slots (R2, R5–R7), where and how clients meet
her (R19), and her time zone (R22)."""

from django.db import transaction

from ..models import Therapist, User
from ..timezones import valid_timezone
from .audit import audit_write
from .clients import reject_nul
from .slots import validate_audience, validate_duration, validate_modes, validate_price

SETTINGS_FIELDS = (
    "default_duration_minutes",
    "default_price",
    "timezone",
    "reception_address",
    "personal_info",
    "default_modes",
    "default_audience",
)


def therapist_settings_snapshot(therapist: Therapist) -> dict:
    return {
        "default_duration_minutes": therapist.default_duration_minutes,
        "default_price": therapist.default_price,
        "timezone": therapist.timezone,
        "reception_address": therapist.reception_address,
        "personal_info": therapist.personal_info,
        "default_modes": therapist.default_modes,
        "default_audience": therapist.default_audience,
        "client_booster": therapist.client_booster,
    }


def therapist_settings_update(*, therapist: Therapist, actor: User | None, **changes) -> Therapist:
    """Change any of SETTINGS_FIELDS; the rest stay. Slots already made keep their values."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    assert not unknown, unknown
    before = therapist_settings_snapshot(therapist)
    if "default_duration_minutes" in changes:
        therapist.default_duration_minutes = validate_duration(changes["default_duration_minutes"], "default_duration_minutes")
    if "default_price" in changes:
        therapist.default_price = validate_price(changes["default_price"], "default_price")
    if "timezone" in changes:
        therapist.timezone = valid_timezone(str(changes["timezone"]))
    if "default_modes" in changes:
        therapist.default_video, therapist.default_onsite = validate_modes(changes["default_modes"], "default_modes")
    if "default_audience" in changes:
        therapist.default_audience = validate_audience(changes["default_audience"], "default_audience")
    for field in ("reception_address", "personal_info"):
        if field in changes:
            reject_nul(str(changes[field] or ""), field)
            setattr(therapist, field, str(changes[field] or "").strip()[:2000])
    after = therapist_settings_snapshot(therapist)
    if after != before:
        with transaction.atomic():
            therapist.save()
            audit_write(
                actor=actor, action="therapist.settings", target=therapist, therapist_id=therapist.pk,
                before=before, after=after,
            )
    return therapist
