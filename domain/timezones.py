"""Reading and showing times in a therapist's zone (R22). Stored times are UTC; these are the
only places a local wall-clock time becomes an instant or back."""

import zoneinfo
from datetime import UTC, date, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The dates and instants anyone may type (a date in a form, a week in a URL, the API's windows
# and starts): one range everywhere, far enough from datetime's own limits (years 1 and 9999)
# that a week's Monday, a slot's end, its UTC form and any zone's offset all exist. Past those
# limits Python raises OverflowError, which is a 500 instead of a refusal.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
YEARS = {"first": EARLIEST.year, "last": LATEST.year}  # for the messages that name the range


def in_range(value: date | datetime) -> bool:
    """Whether an aware instant, or a date as typed (in whatever zone), lies in [EARLIEST, LATEST)."""
    if isinstance(value, datetime):
        return EARLIEST <= value < LATEST
    return EARLIEST.date() <= value < LATEST.date()


def date_from_text(text: str) -> date:
    """A date typed as YYYY-MM-DD (a week or a day in a URL); ValueError when the text is not
    one or the date lies outside the range, so a page treats both alike."""
    day = date.fromisoformat(text)
    if not in_range(day):
        raise ValueError(f"{text} lies outside the years {EARLIEST.year} to {LATEST.year}")
    return day


def valid_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"timezone": _("Unknown time zone: %(name)s") % {"name": name}})
    return name


def local_to_utc(naive: datetime, tz: zoneinfo.ZoneInfo, field: str = "start") -> datetime:
    """A wall-clock time typed in the therapist's zone, as an aware instant. A time that does
    not exist (the hour skipped in spring) or exists twice (the hour repeated in autumn) is
    refused rather than guessed."""
    first = naive.replace(tzinfo=tz, fold=0)
    if first.astimezone(zoneinfo.ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) != naive:
        raise ValidationError({field: _("That time does not exist on this day (clocks are set forward); choose another.")})
    if first.utcoffset() != naive.replace(tzinfo=tz, fold=1).utcoffset():
        raise ValidationError({field: _("That time occurs twice on this day (clocks are set back); choose another.")})
    return first.astimezone(UTC)
