"""The one domain exception and the one registry of its codes. Every broken rule raises
`DomainError(Code.…)`; the API answers it as 409 JSON (`api.schemas.Conflict` lists `CODES`,
docs/api.md the same), the pages show it as a message (pretix's OrderError is the model)."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Code(StrEnum):
    """The stable codes of docs/api.md ("Conflict codes"): part of the API, never renamed."""

    SLOT_OVERLAP = "slot_overlap"
    SLOT_TAKEN = "slot_taken"
    SLOT_BOOKED = "slot_booked"
    SLOT_IN_PAST = "slot_in_past"
    CLIENT_NOT_ON_LIST = "client_not_on_list"
    MODE_NOT_OFFERED = "mode_not_offered"
    ALREADY_CANCELLED = "already_cancelled"
    CANCELLATION_CLOSED = "cancellation_closed"
    BOOKING_LIMIT = "booking_limit"
    NOT_A_VIDEO_BOOKING = "not_a_video_booking"
    ACCOUNT_NOT_ERASABLE = "account_not_erasable"
    VISIT_NOT_STARTED = "visit_not_started"
    OUTSIDE_BOOKING_WINDOW = "outside_booking_window"
    SERIES_CONFLICT = "series_conflict"
    TIME_OFF = "time_off"
    SLOT_BUSY = "slot_busy"


# Every code, as plain strings in the order above (the API's schema and the tests read this).
CODES = tuple(code.value for code in Code)

MESSAGES = {
    Code.SLOT_OVERLAP: _("The time overlaps another slot in your calendar."),
    Code.SLOT_TAKEN: _("The time has already been booked."),
    Code.SLOT_BOOKED: _("The slot is booked; cancel the booking before removing the slot."),
    Code.SLOT_IN_PAST: _("The time has already passed."),
    Code.CLIENT_NOT_ON_LIST: _("The client is not on your client list."),
    Code.MODE_NOT_OFFERED: _("The slot does not offer that kind of meeting."),
    Code.ALREADY_CANCELLED: _("The booking is already cancelled."),
    Code.CANCELLATION_CLOSED: _("The booking can no longer be cancelled here; contact the therapist."),
    Code.NOT_A_VIDEO_BOOKING: _("The booking is not a video call, so it has no video link."),
    Code.BOOKING_LIMIT: _(
        "You already have as many upcoming bookings with this therapist as can be booked here. "
        "Cancel one, or ask the therapist to book you."
    ),
    Code.ACCOUNT_NOT_ERASABLE: _(
        "A therapist's or staff account cannot be erased here: a practice's records must be kept. "
        "Contact Tidbok's staff."
    ),
    Code.VISIT_NOT_STARTED: _("The visit has not started yet; its outcome can be recorded once it has begun."),
    Code.OUTSIDE_BOOKING_WINDOW: _(
        "This time cannot be booked here: it is too soon or too far ahead for the therapist's booking window."
    ),
    Code.SERIES_CONFLICT: _("Some weeks of the series cannot be booked, so none was booked."),
    Code.TIME_OFF: _("The time falls in your time off."),
    Code.SLOT_BUSY: _("The therapist is busy at that time; choose another time."),
}
assert set(MESSAGES) == set(Code), "every code has its message"


class DomainError(Exception):
    """A rule of docs/rules.md refused the change. `code` (a `Code`) is stable and part of the API."""

    def __init__(self, code: Code, detail: str | None = None):
        self.code = Code(code)  # a string that is no code is a ValueError here, at the raise
        self.detail = detail or MESSAGES[self.code]
        super().__init__(f"{self.code}: {self.detail}")
