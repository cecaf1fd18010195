"""Reading and showing times in a therapist's zone (R22). Stored times are UTC; these are the
only places a local wall-clock time becomes an instant or back."""

import functools
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import formats, timezone, translation
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


def zone(name: str) -> zoneinfo.ZoneInfo:
    """A therapist's zone from its stored IANA name (`Therapist.tz`, and rows read as values)."""
    return zoneinfo.ZoneInfo(name)


def local(moment: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    """An instant on the wall clock of `tz` (to show it, or to read its local date)."""
    return moment.astimezone(tz)


def local_today(tz: zoneinfo.ZoneInfo, moment: datetime | None = None) -> date:
    """The local date in `tz` of `moment` (default: now)."""
    return local(moment or timezone.now(), tz).date()


def monday_of(day: date) -> date:
    """The Monday of `day`'s week: weeks start on Monday (ISO 8601, as in Sweden)."""
    return day - timedelta(days=day.weekday())


def day_start(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    """Midnight at the start of `day` on the wall clock of `tz`, as an aware instant."""
    return datetime.combine(day, time(0), tzinfo=tz)


def week_start(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    """The first moment (Monday 00:00 in `tz`) of the week that holds `day`."""
    return day_start(monday_of(day), tz)


def week_bounds(day: date, tz: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) in `tz` of the week that holds `day`."""
    monday = monday_of(day)
    return day_start(monday, tz), day_start(monday + timedelta(days=7), tz)


def local_to_utc(naive: datetime, tz: zoneinfo.ZoneInfo, field: str = "start") -> datetime:
    """A wall-clock time typed in the therapist's zone, as an aware instant. A time that does
    not exist (the hour skipped in spring) or exists twice (the hour repeated in autumn) is
    refused rather than guessed. A day outside `in_range` is refused too: near years 1 and
    9999 the UTC form would overflow (a 500, not a refusal)."""
    if not in_range(naive.date()):
        raise ValidationError({field: _("The date must lie between the years %(first)d and %(last)d.") % YEARS})
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


# The time-zone picker (therapist settings). The stored value is always the IANA name; what a
# person reads is the city and the zone's name in her language, from CLDR through Babel (the
# maintained source of such names): "Stockholm (centraleuropeisk tid)".
COMMON_ZONES = ["Europe/Stockholm"]  # first, whatever the language: Tidbok's own zone
NORDIC_ZONES = ["Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki", "Atlantic/Reykjavik", "Europe/Mariehamn"]
EUROPEAN_CAPITALS = [
    "Europe/London", "Europe/Dublin", "Europe/Amsterdam", "Europe/Brussels", "Europe/Luxembourg", "Europe/Berlin",
    "Europe/Paris", "Europe/Madrid", "Europe/Lisbon", "Europe/Rome", "Europe/Vienna", "Europe/Zurich",
    "Europe/Warsaw", "Europe/Prague", "Europe/Bratislava", "Europe/Budapest", "Europe/Ljubljana", "Europe/Zagreb",
    "Europe/Belgrade", "Europe/Sarajevo", "Europe/Bucharest", "Europe/Sofia", "Europe/Athens", "Europe/Tallinn",
    "Europe/Riga", "Europe/Vilnius", "Europe/Kyiv", "Europe/Istanbul",
]
REGIONS = {
    "Europe": _("Europe"), "America": _("America"), "Asia": _("Asia"), "Africa": _("Africa"),
    "Australia": _("Australia"), "Pacific": _("Pacific Ocean"), "Atlantic": _("Atlantic Ocean"),
    "Indian": _("Indian Ocean"), "Antarctica": _("Antarctica"), "Arctic": _("Arctic"),
}
# Swedish sorts å, ä, ö after z, in that order; other accents sort with their letter.
_SWEDISH_LAST = str.maketrans({"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}"})


def _sort_key(text: str, language: str) -> str:
    import unicodedata

    folded = text.casefold()
    if language == "sv":
        folded = folded.translate(_SWEDISH_LAST)
    return "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))


def _zone_names() -> list[str]:
    """One zone per country region (IANA's zone.tab, shipped with the pinned tzdata package):
    the names people look for, without the many old aliases `available_timezones()` holds."""
    from importlib.resources import files

    try:
        table = (files("tzdata.zoneinfo") / "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return sorted(z for z in zoneinfo.available_timezones() if z.split("/")[0] in REGIONS)
    return sorted({line.split("\t")[2] for line in table.splitlines() if line and not line.startswith("#")})


@functools.cache
def zone_label(name: str, language: str) -> str:
    """'Stockholm (centraleuropeisk tid)' in Swedish, 'Stockholm (Central European Time)' in
    English. Where CLDR has no generic name for a zone (it then gives "Country (City) Time"),
    the standard name is used; the IANA name only when Babel knows nothing of the zone."""
    from babel.core import UnknownLocaleError
    from babel.dates import get_timezone_location, get_timezone_name

    try:
        city = get_timezone_location(name, locale=language, return_city=True)
        zone = get_timezone_name(name, "long", zone_variant="generic", locale=language)
        if "(" in zone:
            zone = get_timezone_name(name, "long", zone_variant="standard", locale=language)
    except (LookupError, UnknownLocaleError, ValueError):
        return name.replace("_", " ")
    if name == "UTC" or "(" in zone or city.casefold() in zone.casefold():
        return zone if "(" not in zone else city
    return f"{city} ({zone})"


@functools.cache
def _choices(language: str) -> list[tuple[str, list[tuple[str, str]]]]:
    def ordered(names):
        return sorted(((n, zone_label(n, language)) for n in names), key=lambda c: _sort_key(c[1], language))

    common = [(n, zone_label(n, language)) for n in COMMON_ZONES] + ordered(NORDIC_ZONES) + ordered(EUROPEAN_CAPITALS)
    taken = {n for n, _label in common}
    groups = {}
    for name in _zone_names():
        if name not in taken and name.split("/")[0] in REGIONS:
            groups.setdefault(name.split("/")[0], []).append(name)
    regions = sorted(groups, key=lambda r: _sort_key(str(REGIONS[r]), language))
    return [(str(_("Common time zones")), common)] + [(str(REGIONS[r]), ordered(groups[r])) for r in regions]


def timezone_choices(language: str, current: str | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The picker's groups in `language` (sv or en): the common zones first (Stockholm, the
    Nordic capitals, the European capitals), then every other zone by region, each sorted by
    what it says. A stored zone that is not among them (an old alias, UTC) is kept at the top,
    so that saving the form never changes it unasked."""
    language = "en" if (language or "").startswith("en") else "sv"
    with translation.override(language):
        choices = _choices(language)
    listed = {name for _group, options in choices for name, _label in options}
    if current and current not in listed:
        (group, common), *rest = choices
        return [(group, [(current, zone_label(current, language)), *common]), *rest]
    return choices
