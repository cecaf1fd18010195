"""The one domain exception. Every broken rule raises it with a stable `code` that the API
answers as 409 JSON and the pages show as a message (pretix's OrderError is the model)."""

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "slot_overlap": _("The time overlaps another slot in your calendar."),
    "slot_taken": _("The time has already been booked."),
    "slot_booked": _("The slot is booked; cancel the booking before removing the slot."),
    "slot_in_past": _("The time has already passed."),
    "client_not_on_list": _("The client is not on your client list."),
    "mode_not_offered": _("The slot does not offer that kind of meeting."),
    "already_cancelled": _("The booking is already cancelled."),
    "cancellation_closed": _("The booking can no longer be cancelled here; contact the therapist."),
    "not_a_video_booking": _("The booking is not a video call, so it has no video link."),
    "booking_limit": _(
        "You already have as many upcoming bookings with this therapist as can be booked here. "
        "Cancel one, or ask the therapist to book you."
    ),
    "account_not_erasable": _(
        "A therapist's or staff account cannot be erased here: a practice's records must be kept. "
        "Contact Tidbok's staff."
    ),
}


class DomainError(Exception):
    """A rule of docs/rules.md refused the change. `code` is stable and part of the API."""

    def __init__(self, code: str, detail: str | None = None):
        assert code in MESSAGES, code
        self.code = code
        self.detail = detail or MESSAGES[code]
        super().__init__(f"{code}: {self.detail}")
