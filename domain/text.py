"""Text that people type, cleaned once before anything stores it.

No stored text holds a control character (C0, DEL, C1, and the Unicode line and paragraph
separators): a line break in a name injects lines into mail bodies and headers, a carriage
return makes the mail unsendable, a NUL cannot even be stored by PostgreSQL. Multi-line fields
(an address, a presentation) keep their line breaks, normalised to "\\n". Everything is refused
with an error naming the field, never silently changed: the person sees what was wrong."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# C0, DEL and C1, plus U+2028/U+2029, which mail programs and JavaScript treat as line breaks;
# multi-line text may hold "\n" (a lone "\r" is refused: it is what broke mail headers). And
# the invisible characters that make text read other than it is: bidirectional overrides,
# embeddings and isolates (U+202A–U+202E, U+2066–U+2069: "\u202emloH" shows as "Holm"),
# the direction marks, the zero-width space and the byte order mark. The zero-width joiner
# and non-joiner stay: Persian and Indic names need them.
_INVISIBLE = "\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff"
SINGLE_LINE_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_INVISIBLE}]")
MULTI_LINE_FORBIDDEN = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029{_INVISIBLE}]")


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    if multiline:
        value = value.replace("\r\n", "\n")
    return bool((MULTI_LINE_FORBIDDEN if multiline else SINGLE_LINE_FORBIDDEN).search(value))


def clean_text(value, field: str, *, max_length: int, required: bool = False, multiline: bool = False) -> str:
    """`value` as a stripped string, or a ValidationError naming `field`: missing when
    required, too long, or holding a control character (a line break only in multi-line
    text, where "\\r\\n" becomes "\\n")."""
    value = str(value if value is not None else "").strip()
    if multiline:
        value = value.replace("\r\n", "\n")
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if has_control_characters(value, multiline=multiline):
        message = (
            _("Remove the invisible control characters (only line breaks are allowed here).")
            if multiline
            else _("Remove the line breaks and other invisible control characters.")
        )
        raise ValidationError({field: message})
    if len(value) > max_length:
        raise ValidationError({field: _("At most %(max)d characters.") % {"max": max_length}})
    return value
