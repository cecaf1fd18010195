"""R24 in the logs: no personnummer and no key of a secret link reaches a log line, whatever
logged it.

A log record factory, so it works for every logger and every handler (gunicorn's access log,
whose request line holds the path and the query string; the SQL that `django.db.backends`
logs at DEBUG, whose parameters hold the personnummer a therapist types in; pytest's caplog):
the message is formatted once, then

- the path segments after a secret prefix (`SECRET_PATH_PREFIXES`: a calendar feed, a video
  page, a set-password link, …) become `[token]`, also where the path is URL-encoded (a
  login's `?next=%2Fvideo%2F…`) or inside a longer URL;
- any personnummer or samordningsnummer in it, in any written form, becomes `[personnummer]`:
  12 or 10 digits, with `-`, `+` or a space before the last four (and a `+` or space after
  the year), and those separators URL-encoded (`%2D`, `%2B`, `%20`) as a query string has them.

Over-redacting is the price: a ten-digit number that only looks like a personnummer, and a
public page under a secret prefix (`/losenord/klart/`)."""

import logging
import re

# Where a URL's next path segments are a key: whoever holds the link opens what it guards.
# A new private or one-time link gets its prefix here, and no log line shows its key.
SECRET_PATH_PREFIXES = (
    "/kalender/feed/",  # a therapist's private calendar feed: <token>.ics
    "/video/",  # a booking's video page: <token>
    "/losenord/",  # set a password: <uidb64>/<token>/, then Django's <uidb64>/set-password/
    "/bekrafta/",  # confirm an e-mail address: <uidb64>/<token>/
    "/inbjudan/",  # a client's invitation: <token>/
)
TOKEN = "[token]"
REPLACEMENT = "[personnummer]"

_SLASH = r"(?:/|%2[Ff])"
# A key's characters: our tokens, Django's uidb64 and reset tokens, and signed values with
# their `:` (plain or URL-encoded as %3A): anything up to the next slash, plain or encoded.
_SEGMENT = r"(?:[\w~:=-]|%(?!2[Ff])[0-9A-Fa-f]{2})+"
SECRET_PATH = re.compile(
    "(?P<prefix>" + "|".join(_SLASH.join(map(re.escape, p.split("/"))) for p in SECRET_PATH_PREFIXES) + ")"
    + f"(?P<secret>{_SEGMENT}(?:{_SLASH}{_SEGMENT})*)"
)

# A separator in a written personnummer, plain or URL-encoded (space, +, -).
_SEP = r"(?:[-+ ]|%2[0BbDd])"
PERSONNUMMER = re.compile(
    # Not inside a longer number, but right after a URL-encoded character (`Anna%20199002…`);
    # never starting inside the encoding itself.
    r"(?<!%)(?:(?<=%[0-9A-Fa-f]{2})|(?<!\d))"
    # YYYY (maybe followed by a separator) or YY, then MMDD (samordningsnummer add 60 to the
    # day, which these digits allow), maybe a separator, and the last four digits.
    rf"(?:(?:18|19|20)\d{{2}}{_SEP}?|\d{{2}})[01]\d\d{{2}}{_SEP}?\d{{4}}(?!\d)"
)

_installed = False


def _hide_segments(match: re.Match) -> str:
    parts = re.split(f"({_SLASH})", match["secret"])
    return match["prefix"] + "".join(part if i % 2 else TOKEN for i, part in enumerate(parts))


def redact(text: str) -> str:
    # Links first: a token's digits could otherwise look like a personnummer and be cut in two.
    return PERSONNUMMER.sub(REPLACEMENT, SECRET_PATH.sub(_hide_segments, text))


def install() -> None:
    """Wrap the current log record factory once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it for the handler to report
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(factory)
