"""Swedish personnummer and samordningsnummer (R24), validated with python-stdnum and kept in
one normal form: 12 digits as YYYYMMDD-NNNN (samordningsnummer keep their day + 60).

python-stdnum's `se.personnummer` checks the form, the date and the Luhn digit, but knows no
samordningsnummer; for those the date is checked with the day less 60 and the Luhn digit on
the number as written."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_errors
from stdnum import luhn
from stdnum.se import personnummer

COORDINATION_DAY_OFFSET = 60


def normalize(value: str) -> str:
    """Validate any common written form (10 or 12 digits, with or without - or +) and
    answer YYYYMMDD-NNNN. Raises ValidationError saying what is wrong."""
    raw = str(value or "").strip()
    try:
        number = personnummer.compact(raw)  # YYYYMMDD-NNNN or YYMMDD-NNNN / YYMMDD+NNNN
    except Exception:
        raise ValidationError(_("A personnummer may contain only digits, - and +."), code="invalid_format")
    digits = number[:-5] + number[-4:]
    if set(number) - set("0123456789-+"):
        raise ValidationError(_("A personnummer may contain only digits, - and +."), code="invalid_format")
    if sum(c.isdigit() for c in number) not in (10, 12):
        raise ValidationError(_("A personnummer has 10 or 12 digits."), code="invalid_length")
    if len(number) not in (11, 13) or number[-5] not in "-+" or not digits.isdigit():
        raise ValidationError(_("A personnummer may contain only digits, - and +."), code="invalid_format")
    day = int(number[-7:-5])
    as_birth = number
    if day > COORDINATION_DAY_OFFSET:
        as_birth = f"{number[:-7]}{day - COORDINATION_DAY_OFFSET:02d}{number[-5:]}"
    try:
        born = personnummer.get_birth_date(as_birth)
    except stdnum_errors.ValidationError:
        raise ValidationError(_("The personnummer does not hold a real date of birth."), code="invalid_date")
    if born > timezone.localdate():
        raise ValidationError(_("The personnummer's date of birth lies in the future."), code="invalid_date")
    try:
        luhn.validate(digits[-10:])
    except stdnum_errors.ValidationError:
        raise ValidationError(_("The personnummer's check digit is wrong."), code="invalid_checksum")
    tail = digits[-10:]
    return f"{born.year // 100:02d}{tail[:6]}-{tail[6:]}"


def is_coordination_number(value: str) -> bool:
    return int(value[6:8]) > COORDINATION_DAY_OFFSET
