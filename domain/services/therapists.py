"""A therapist's settings: the defaults of new slots (R2, R5–R7), where and how clients meet
her (R19), her time zone (R22), her public profile (R9: the listing and matching), how long
before a visit a client may still cancel (R18), her booking window (R35), whether she is mailed when a client books,
cancels or moves (R30), how clients reach her (the Reply-To of their mails), and her private
calendar feed."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import (
    CITY_MAX_LENGTH,
    MAX_BOOKING_HORIZON_DAYS,
    MAX_CANCELLATION_CUTOFF_HOURS,
    MAX_MIN_NOTICE_HOURS,
    MIN_BOOKING_HORIZON_DAYS,
    PERSONAL_INFO_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    PRESENTATION_MAX_LENGTH,
    RECEPTION_ADDRESS_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Therapist,
    User,
    new_token,
)
from ..text import clean_text, has_control_characters
from ..timezones import valid_timezone
from .audit import audit_write
from .clients import clean_email
from .listing import listing_refresh
from .slots import validate_audience, validate_duration, validate_modes, validate_price

SETTINGS_FIELDS = (
    "default_duration_minutes",
    "default_price",
    "timezone",
    "reception_address",
    "personal_info",
    "default_modes",
    "default_audience",
    "title",
    "presentation",
    "city",
    "languages",
    "areas",
    "cancellation_cutoff_hours",
    "min_notice_hours",
    "booking_horizon_days",
    "notify_by_email",
    "contact_email",
    "contact_phone",
)

# Free text: the longest each may be (domain/models.py's constants, which the forms and the API read too).
TEXT_LIMITS = {
    "reception_address": RECEPTION_ADDRESS_MAX_LENGTH, "personal_info": PERSONAL_INFO_MAX_LENGTH,
    "title": TITLE_MAX_LENGTH, "presentation": PRESENTATION_MAX_LENGTH, "city": CITY_MAX_LENGTH,
}
# Of those, the ones that may hold line breaks.
MULTI_LINE = {"reception_address", "personal_info", "presentation"}
MAX_LANGUAGES, MAX_AREAS, MAX_AREA_LENGTH = 20, 20, 60
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
# A phone number as people write one: "+46 70-123 45 67", "08-123 456 78", "(0)8 123 45".
PHONE = re.compile(r"^\+?[0-9 ()-]+$")
PHONE_MIN_DIGITS = 5


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
        "title": therapist.title,
        "presentation": therapist.presentation,
        "city": therapist.city,
        "languages": list(therapist.languages),
        "areas": list(therapist.areas),
        "cancellation_cutoff_hours": therapist.cancellation_cutoff_hours,
        "min_notice_hours": therapist.min_notice_hours,
        "booking_horizon_days": therapist.booking_horizon_days,
        "notify_by_email": therapist.notify_by_email,
        "contact_email": therapist.contact_email,
        "contact_phone": therapist.contact_phone,
    }


def _clean_text(value, field: str) -> str:
    return clean_text(value, field, max_length=TEXT_LIMITS[field], multiline=field in MULTI_LINE)


def _clean_languages(value) -> list[str]:
    """ISO 639 codes ("sv", "en", "fa"), lower-case, each once, in the order given."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValidationError({"languages": _("Give the languages as a list of language codes.")})
    codes = []
    for item in value:
        code = str(item).strip().lower()
        if not LANGUAGE_CODE.match(code):
            raise ValidationError({"languages": _("Unknown language code: %(code)s.") % {"code": str(item)[:20]}})
        if code not in codes:
            codes.append(code)
    if len(codes) > MAX_LANGUAGES:
        raise ValidationError({"languages": _("At most %(max)d languages.") % {"max": MAX_LANGUAGES}})
    return codes


def _clean_areas(value) -> list[str]:
    """Areas of help as short phrases ("ångest", "stress"), each once whatever its case."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValidationError({"areas": _("Give the areas as a list of words or short phrases.")})
    areas, seen = [], set()
    for item in value:
        if has_control_characters(str(item)):
            raise ValidationError({"areas": _("Remove the line breaks and other invisible control characters.")})
        area = " ".join(str(item).split())
        if not area:
            continue
        if len(area) > MAX_AREA_LENGTH:
            raise ValidationError({"areas": _("Each area may be at most %(max)d characters.") % {"max": MAX_AREA_LENGTH}})
        if area.casefold() not in seen:
            seen.add(area.casefold())
            areas.append(area)
    if len(areas) > MAX_AREAS:
        raise ValidationError({"areas": _("At most %(max)d areas.") % {"max": MAX_AREAS}})
    return areas


def _clean_cutoff(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CANCELLATION_CUTOFF_HOURS:
        raise ValidationError(
            {"cancellation_cutoff_hours": _("The cancellation cut-off must be a whole number of hours from 0 to %(max)d.")
             % {"max": MAX_CANCELLATION_CUTOFF_HOURS}}
        )
    return value


def _clean_window(value, field: str) -> int:
    """R35: the minimum notice (hours) and the horizon (days), each a whole number within the
    bounds of domain/models.py (which the check constraints hold too)."""
    low, high = {
        "min_notice_hours": (0, MAX_MIN_NOTICE_HOURS),
        "booking_horizon_days": (MIN_BOOKING_HORIZON_DAYS, MAX_BOOKING_HORIZON_DAYS),
    }[field]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        message = {
            "min_notice_hours": _("The minimum notice must be a whole number of hours from %(min)d to %(max)d."),
            "booking_horizon_days": _("How far ahead clients may book must be a whole number of days from %(min)d to %(max)d."),
        }[field]
        raise ValidationError({field: message % {"min": low, "max": high}})
    return value


def _clean_notify(value) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({"notify_by_email": _("Choose on or off (true or false).")})
    return value


def _clean_contact_email(value) -> str:
    """Empty: clients reach her at her log-in address."""
    if value is None or str(value).strip() == "":
        return ""
    return clean_email(value, "contact_email")


def _clean_contact_phone(value) -> str:
    phone = clean_text(value, "contact_phone", max_length=PHONE_MAX_LENGTH)
    if phone and (not PHONE.match(phone) or sum(c.isdigit() for c in phone) < PHONE_MIN_DIGITS):
        raise ValidationError(
            {"contact_phone": _("Enter a phone number: digits, spaces, + - and brackets, e.g. +46 70-123 45 67.")}
        )
    return phone


def therapist_settings_update(*, therapist: Therapist, actor: User | None, **changes) -> Therapist:
    """Change any of SETTINGS_FIELDS; the rest stay. Slots already made keep their values.
    Every field is checked before anything is saved, so a refusal changes nothing."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    assert not unknown, unknown
    before = therapist_settings_snapshot(therapist)
    values = {}
    if "default_duration_minutes" in changes:
        values["default_duration_minutes"] = validate_duration(changes["default_duration_minutes"], "default_duration_minutes")
    if "default_price" in changes:
        values["default_price"] = validate_price(changes["default_price"], "default_price")
    if "timezone" in changes:
        values["timezone"] = valid_timezone(str(changes["timezone"]))
    if "default_modes" in changes:
        values["default_video"], values["default_onsite"] = validate_modes(changes["default_modes"], "default_modes")
    if "default_audience" in changes:
        values["default_audience"] = validate_audience(changes["default_audience"], "default_audience")
    for field in TEXT_LIMITS:
        if field in changes:
            values[field] = _clean_text(changes[field], field)
    if "languages" in changes:
        values["languages"] = _clean_languages(changes["languages"])
    if "areas" in changes:
        values["areas"] = _clean_areas(changes["areas"])
    if "cancellation_cutoff_hours" in changes:
        values["cancellation_cutoff_hours"] = _clean_cutoff(changes["cancellation_cutoff_hours"])
    for field in ("min_notice_hours", "booking_horizon_days"):
        if field in changes:
            values[field] = _clean_window(changes[field], field)
    notice = values.get("min_notice_hours", therapist.min_notice_hours)
    horizon = values.get("booking_horizon_days", therapist.booking_horizon_days)
    if notice >= horizon * 24:
        # A window that never opens would silently take her out of the listing and matching.
        raise ValidationError({"min_notice_hours": _(
            "The minimum notice must be shorter than how far ahead clients may book (%(days)d days)."
        ) % {"days": horizon}})
    if "notify_by_email" in changes:
        values["notify_by_email"] = _clean_notify(changes["notify_by_email"])
    if "contact_email" in changes:
        values["contact_email"] = _clean_contact_email(changes["contact_email"])
    if "contact_phone" in changes:
        values["contact_phone"] = _clean_contact_phone(changes["contact_phone"])
    for field, value in values.items():
        setattr(therapist, field, value)
    after = therapist_settings_snapshot(therapist)
    if after != before:
        with transaction.atomic():
            therapist.save(update_fields=list(values))
            audit_write(
                actor=actor, action="therapist.settings", target=therapist, therapist_id=therapist.pk,
                before=before, after=after,
            )
            if LISTED_BY & set(values):
                listing_refresh([therapist.pk])  # R9: last, see services.listing
    return therapist


# The settings the listing depends on (R9, R35): its rows are computed again when one changes.
LISTED_BY = {"min_notice_hours", "booking_horizon_days", "default_video", "default_onsite"}


def therapist_feed_token_regenerate(*, therapist: Therapist, actor: User | None) -> Therapist:
    """A new secret for the private calendar feed: the old address stops working at once
    (for a phone that was lost, or an address shared by mistake). The audit entry says that
    it happened, never the token."""
    with transaction.atomic():
        therapist.calendar_feed_token = new_token()
        therapist.save(update_fields=["calendar_feed_token"])
        audit_write(actor=actor, action="therapist.feed_token", target=therapist, therapist_id=therapist.pk)
    return therapist
