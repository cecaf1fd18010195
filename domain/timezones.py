"""Reading and showing times in a therapist's zone (R22). Stored times are UTC; these are the
only places a local wall-clock time becomes an instant or back."""

import zoneinfo
from datetime import UTC, date, datetime

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext
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


# Times in words, as mails say them (R31) ------------------------------------------------------
# Each names its zone, and a wall-clock time that exists twice (the hour repeated when the
# clocks go back) or a span across a change says which reading it means: "02:30–02:15" alone
# could be a quarter of an hour backwards or forwards.

SWEDEN = "Europe/Stockholm"


def zone_text(tz: zoneinfo.ZoneInfo) -> str:
    """How a mail names the zone of its times: "svensk tid" for Sweden's, else the zone's own
    name (a therapist abroad, or her client reading in another country, must not guess)."""
    if tz.key == SWEDEN:
        return gettext("Swedish time")
    return gettext("time zone %(name)s") % {"name": tz.key.replace("_", " ")}


def _clock(local: datetime) -> str:
    return local.strftime("%H:%M")


def _utc_offset(local: datetime) -> str:
    minutes = int(local.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _other_reading(local: datetime) -> datetime | None:
    """The other instant that this wall-clock time names, when it names two; else None."""
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() == local.utcoffset():
        return None
    back = other.astimezone(UTC).astimezone(local.tzinfo)
    return other if back.replace(tzinfo=None) == local.replace(tzinfo=None) else None


def _reading(local: datetime, other: datetime) -> str:
    """What tells `local` from `other`: summer or winter time, or (for a zone that changed its
    offset for another reason) the offset itself."""
    if bool(local.dst()) != bool(other.dst()):
        return gettext("summer time") if local.dst() else gettext("winter time")
    return _utc_offset(local)


def moment_text(moment: datetime, tz: zoneinfo.ZoneInfo) -> str:
    """"tisdag 1 december 2026 kl. 09:00" in the active language, in `tz`; a time that occurs
    twice that night says which ("kl. 02:30 sommartid")."""
    local = moment.astimezone(tz)
    clock = _clock(local)
    other = _other_reading(local)
    if other is not None:
        clock = f"{clock} {_reading(local, other)}"
    return gettext("%(day)s at %(clock)s") % {"day": formats.date_format(local, "l j F Y"), "clock": clock}


def span_text(start: datetime, end: datetime, tz: zoneinfo.ZoneInfo) -> str:
    """"tisdag 1 december 2026 kl. 09:00–09:45 (svensk tid)" in the active language. Across a
    change of the clocks each end says its reading ("kl. 02:30 sommartid – 02:15 vintertid"),
    and a span in the repeated hour says which one ("kl. 02:10–02:40 vintertid")."""
    s, e = start.astimezone(tz), end.astimezone(tz)
    if s.utcoffset() != e.utcoffset():
        clock = f"{_clock(s)} {_reading(s, e)} – {_clock(e)} {_reading(e, s)}"
    else:
        clock = f"{_clock(s)}–{_clock(e)}"
        for local in (s, e):
            other = _other_reading(local)
            if other is not None:
                clock = f"{clock} {_reading(local, other)}"
                break
    return gettext("%(day)s at %(clock)s (%(zone)s)") % {
        "day": formats.date_format(s, "l j F Y"), "clock": clock, "zone": zone_text(tz),
    }
