"""The words of the API's error answers, in the caller's language (docs/api.md: messages follow
`Accept-Language`, Swedish by default). Our own messages are gettext at the place they are
raised; this module holds the two kinds of text that come from code we do not own:
django-ninja's fixed English ("Unauthorized", "Forbidden", "Cannot parse request body") and
pydantic's validation messages ("Field required", …), which it writes in English only. Both are
replaced by our own msgids here, in one place, keyed by what cannot change with a language:
an exception's class and pydantic's error `type`."""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled

# Pydantic's error types that our schemas can give, each with our message. `loc` and `type`
# stay as pydantic gives them (a program keys on those); only `msg` is put into words.
_DATETIME = gettext_lazy("Input should be a valid date and time with a UTC offset, e.g. 2026-12-01T09:00:00+01:00")
_DATE = gettext_lazy("Input should be a valid date, e.g. 2026-12-01")
_TIME = gettext_lazy("Input should be a valid time, e.g. 09:00")
_INTEGER = gettext_lazy("Input should be a valid integer")
_NUMBER = gettext_lazy("Input should be a valid number")
_BOOLEAN = gettext_lazy("Input should be true or false")
_OBJECT = gettext_lazy("Input should be a JSON object")
PYDANTIC_MESSAGES = {
    "missing": gettext_lazy("Field required"),
    "string_type": gettext_lazy("Input should be a text"),
    "string_too_short": gettext_lazy("The text should have at least %(min_length)s characters"),
    "string_too_long": gettext_lazy("The text should have at most %(max_length)s characters"),
    "string_pattern_mismatch": gettext_lazy("The text does not have the expected form"),
    "int_type": _INTEGER,
    "int_parsing": _INTEGER,
    "int_parsing_size": gettext_lazy("The number is too large"),
    "int_from_float": gettext_lazy("Input should be a whole number, without decimals"),
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "finite_number": _NUMBER,
    "bool_type": _BOOLEAN,
    "bool_parsing": _BOOLEAN,
    "greater_than": gettext_lazy("Input should be greater than %(gt)s"),
    "greater_than_equal": gettext_lazy("Input should be at least %(ge)s"),
    "less_than": gettext_lazy("Input should be less than %(lt)s"),
    "less_than_equal": gettext_lazy("Input should be at most %(le)s"),
    "literal_error": gettext_lazy("Input should be one of: %(expected)s"),
    "enum": gettext_lazy("Input should be one of: %(expected)s"),
    "list_type": gettext_lazy("Input should be a list"),
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "timezone_aware": _DATETIME,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "time_type": _TIME,
    "time_parsing": _TIME,
    "json_invalid": gettext_lazy("Invalid JSON"),
    "json_type": gettext_lazy("Invalid JSON"),
    "extra_forbidden": gettext_lazy("Unknown field"),
    "value_error": gettext_lazy("Invalid value"),
}
# The list-length errors read well only with a plural form (the count is taken from ctx).
PYDANTIC_MESSAGES |= {
    "too_short": ngettext_lazy(
        "Should hold at least %(min_length)s item", "Should hold at least %(min_length)s items", "min_length"
    ),
    "too_long": ngettext_lazy(
        "Should hold at most %(max_length)s item", "Should hold at most %(max_length)s items", "max_length"
    ),
}


def _expected(text: str) -> str:
    """pydantic joins a literal's values with an English "or": "'video' or 'onsite'"."""
    return ", ".join(re.findall(r"'[^']*'|\S+", text.replace(" or ", " ").replace(",", " ")))


def validation_errors(errors: list[dict]) -> list[dict]:
    """pydantic's errors as the API answers them: the same `loc` and `type`, the limits in
    `ctx`, and a `msg` in the caller's language. A type we have no words for gets a plain
    "Invalid value" (pydantic's own English would break a Swedish answer); its `type` still
    says exactly what. The parser's English explanation (`ctx.error`) is left out."""
    answer = []
    for error in errors:
        kind = error.get("type", "")
        ctx = {k: v for k, v in (error.get("ctx") or {}).items() if k != "error"}
        if kind in ("literal_error", "enum") and "expected" in ctx:
            ctx["expected"] = _expected(str(ctx["expected"]))
        try:
            msg = str(PYDANTIC_MESSAGES.get(kind, PYDANTIC_MESSAGES["value_error"]) % ctx)
        except (KeyError, TypeError, ValueError):
            msg = str(PYDANTIC_MESSAGES["value_error"])
        kept = {k: v for k, v in error.items() if k not in ("msg", "ctx")}
        answer.append(kept | {"msg": msg} | ({"ctx": ctx} if ctx else {}))
    return answer


def http_error_detail(exc: HttpError) -> str:
    """The `detail` of an HttpError: ours are already in the caller's language (gettext where
    raised); django-ninja's own carry fixed English, replaced here."""
    text = str(exc)
    if isinstance(exc, AuthenticationError):
        return _("Not logged in: send a valid API key (Authorization: Bearer …) or log in.")
    if isinstance(exc, AuthorizationError):
        return status_detail(403)
    if isinstance(exc, Throttled):
        return status_detail(429)
    if exc.status_code == 400 and text.startswith("Cannot parse request body"):
        return _('The request body must be a JSON object, e.g. {"mode": "video"}.')
    if exc.status_code == 403 and text.startswith("CSRF check"):
        return _("The CSRF check failed: reload the page and try again.")
    return text


def status_detail(status: int) -> str:
    """A plain `detail` for an error answer that no view of ours wrote (an unknown path, a
    method the path does not take, a server error): the status in words."""
    words = {
        400: _("Bad request."),
        401: _("Not logged in: send a valid API key (Authorization: Bearer …) or log in."),
        403: _("You may not do this."),
        404: _("Not found."),
        405: _("This address does not take that method."),
        413: _("The request is too large."),
        429: _("Too many requests; wait a moment and try again."),
        500: _("Something went wrong on our side; try again in a moment."),
        503: _("The service is unavailable for a moment; try again shortly."),
    }
    if status in words:
        return words[status]
    return words[500] if status >= 500 else words[400]

