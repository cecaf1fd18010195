"""R24 in the logs: no personnummer reaches a log line, whatever logged it.

A log record factory, so it works for every logger and every handler (also the SQL that
`django.db.backends` logs at DEBUG, whose parameters hold the personnummer a therapist types
in, and pytest's caplog): the message is formatted once and any personnummer or
samordningsnummer in it, in any written form, becomes `[personnummer]`. Over-redacting a
ten-digit number that only looks like one is the price."""

import logging
import re

# YYYYMMDD-NNNN, YYMMDD-NNNN, YYMMDD+NNNN and the same without separator; samordningsnummer
# add 60 to the day, which the month/day digits here allow.
PERSONNUMMER = re.compile(r"(?<!\d)(?:18|19|20)?\d{2}[01]\d\d{2}[-+]?\d{4}(?!\d)")
REPLACEMENT = "[personnummer]"

_installed = False


def redact(text: str) -> str:
    return PERSONNUMMER.sub(REPLACEMENT, text)


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
