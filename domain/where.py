"""What a booking tells its reader about where the visit happens, per mode: one definition
for the mails, the calendar invitation (`services.emails.booking_ics`), the API's booking
(`api.serializers.booking_out`) and the client's booking pages (`_booking_details.html`).

A video call: the reader's own link (the client's or the therapist's, R29), which opens
`opens_minutes_before` the start (R20). On site: the therapist's reception address ("" when
she gave none: each surface says so in its own words) and, for the client only, what the
therapist wrote for on-site visits."""

from dataclasses import dataclass

from .models import VIDEO


@dataclass(frozen=True)
class Where:
    video_url: str | None = None
    opens_minutes_before: int | None = None
    address: str | None = None
    personal_info: str | None = None


def booking_where(booking, *, for_therapist: bool = False) -> Where:
    if booking.mode == VIDEO:
        return Where(
            video_url=booking.therapist_video_url if for_therapist else booking.video_url,
            opens_minutes_before=booking.video_opens_minutes,
        )
    therapist = booking.therapist
    return Where(address=therapist.reception_address, personal_info=None if for_therapist else therapist.personal_info)
