"""Reading and showing times in a therapist's zone (R22). Stored times are UTC; these are the
only places a local wall-clock time becomes an instant or back."""

import zoneinfo
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


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
