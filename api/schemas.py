"""The shapes of docs/api.md, as pydantic schemas (they make the OpenAPI document)."""

from datetime import date, datetime, time
from typing import Literal

from ninja import Field, Schema
from pydantic import StrictBool, StrictInt

from domain.errors import CODES
from domain.models import (
    BUSY_URL_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PERSONAL_INFO_MAX_LENGTH,
    PERSONNUMMER_TYPED_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    RECEPTION_ADDRESS_MAX_LENGTH,
    TIME_OFF_NOTE_MAX_LENGTH,
    TIMEZONE_MAX_LENGTH,
    Outcome,
)

ModeName = Literal["video", "onsite"]
AudienceName = Literal["all", "existing"]
OutcomeName = Literal[tuple(Outcome.values)]  # R34: domain/models.py's `Outcome`, the one list


class Error(Schema):
    code: str | None = None
    detail: str


class Conflict(Schema):
    code: Literal[CODES]  # domain/errors.py's registry, the one list of codes
    detail: str


class HealthOut(Schema):
    status: Literal["ok"]


class SignupIn(Schema):
    role: Literal["therapist", "client"]
    email: str = Field(max_length=EMAIL_MAX_LENGTH)
    password: str = Field(max_length=PASSWORD_MAX_LENGTH)
    first_name: str = Field(max_length=NAME_MAX_LENGTH)
    last_name: str = Field(max_length=NAME_MAX_LENGTH)
    personnummer: str | None = Field(None, max_length=PERSONNUMMER_TYPED_MAX_LENGTH)
    language: Literal["sv", "en"] = "sv"
    accept_privacy_policy: str | None = Field(
        None, max_length=20,
        description="The version of the privacy policy the person accepted (GET /privacy-policy: `version`). "
        "Optional, so that older programs still sign up; without it the account records no consent.",
    )


class EraseIn(Schema):
    password: str = Field(max_length=PASSWORD_MAX_LENGTH)


class PrivacyPolicyOut(Schema):
    version: str
    date: str
    url: str


class Accepted(Schema):
    detail: str


class TokenIn(Schema):
    email: str = Field(max_length=EMAIL_MAX_LENGTH)
    password: str = Field(max_length=PASSWORD_MAX_LENGTH)
    label: str | None = Field(None, max_length=100, description="Names the token in GET /auth/tokens")
    otp: str | None = Field(
        None, max_length=32,
        description="For an account with a second factor (R42): a code from its authenticator app, or a recovery code",
    )


class TokenInfo(Schema):
    id: int
    created: datetime
    last_used: datetime | None
    label: str


class TokenOut(Schema):
    token: str
    role: str | None


class MeOut(Schema):
    id: int
    role: str | None
    email: str
    first_name: str
    last_name: str


class SettingsOut(Schema):
    default_duration_minutes: int
    default_price: int
    timezone: str
    reception_address: str
    personal_info: str
    default_modes: list[ModeName]
    default_audience: AudienceName
    client_booster: bool
    min_notice_hours: int = Field(description="R35: clients may book a slot only this many hours before its start or earlier")
    booking_horizon_days: int = Field(description="R35: clients may book a slot at most this many days ahead")
    notify_by_email: bool = Field(description="R30: mail her when a client books, cancels or moves a time")
    contact_email: str = Field(
        description="Where clients' replies to their booking mails go (Reply-To); empty: her log-in address"
    )
    contact_phone: str
    busy_calendar_url: str = Field(
        "", description="R38: her external calendar's iCalendar address (a secret: Google's or Outlook's); empty: none"
    )
    busy_show_titles: bool = Field(False, description="R38: her week shows the busy times' titles, not only 'Upptagen'")
    busy_synced_at: datetime | None = Field(None, description="R38: when the calendar was last fetched well (read-only)")
    busy_error: str = Field("", description="R38: why the last fetch failed (the last good copy is kept); empty: it worked")


class SettingsPatch(Schema):
    default_duration_minutes: int | None = None
    default_price: int | None = None
    timezone: str | None = Field(None, max_length=TIMEZONE_MAX_LENGTH)
    reception_address: str | None = Field(None, max_length=RECEPTION_ADDRESS_MAX_LENGTH)
    personal_info: str | None = Field(None, max_length=PERSONAL_INFO_MAX_LENGTH)
    default_modes: list[ModeName] | None = Field(None, min_length=1)
    default_audience: AudienceName | None = None
    min_notice_hours: StrictInt | None = None
    booking_horizon_days: StrictInt | None = None
    notify_by_email: StrictBool | None = None
    contact_email: str | None = Field(None, max_length=EMAIL_MAX_LENGTH)
    contact_phone: str | None = Field(None, max_length=PHONE_MAX_LENGTH)
    busy_calendar_url: str | None = Field(None, max_length=BUSY_URL_MAX_LENGTH)
    busy_show_titles: StrictBool | None = None


class PersonRef(Schema):
    id: int
    first_name: str
    last_name: str


class BookedClient(PersonRef):
    personnummer: str | None
    personnummer_verified: bool = False


class EntryBooking(Schema):
    id: int
    mode: ModeName
    first_visit: bool
    client: BookedClient
    video_url: str | None = Field(None, description="The therapist's own link to the call (video only; R29)")
    outcome: OutcomeName | None = Field(None, description="R34: what happened, once recorded")
    series_id: int | None = Field(None, description="R32: the weekly series it was booked in, if any")


class Entry(Schema):
    id: int
    start: datetime
    end: datetime
    duration_minutes: int
    price: int
    modes: list[ModeName]
    audience: AudienceName
    status: Literal["available", "booked"]
    color: Literal["green", "blue", "red", "yellow"]
    bookable_by_clients: bool = Field(
        description="R35: open, and inside her booking window now, so a client may book it (false: booked, or too "
        "soon or too far ahead for clients, or busy in her external calendar)"
    )
    busy: bool = Field(False, description="R38: it overlaps a busy time of her external calendar")
    booking: EntryBooking | None


class SlotIn(Schema):
    start: datetime
    duration_minutes: int | None = None
    price: int | None = None
    modes: list[ModeName] | None = Field(None, min_length=1)
    audience: AudienceName | None = None


class SlotPatch(Schema):
    start: datetime | None = None
    duration_minutes: int | None = None
    price: int | None = None
    modes: list[ModeName] | None = Field(None, min_length=1)
    audience: AudienceName | None = None


class ClientOut(Schema):
    id: int
    first_name: str
    last_name: str
    personnummer: str | None
    personnummer_verified: bool = False
    email: str
    phone: str = ""
    source: Literal["platform", "own"]


class ClientIn(Schema):
    first_name: str = Field(max_length=NAME_MAX_LENGTH)
    last_name: str = Field(max_length=NAME_MAX_LENGTH)
    personnummer: str = Field(max_length=PERSONNUMMER_TYPED_MAX_LENGTH)
    email: str = Field(max_length=EMAIL_MAX_LENGTH)
    phone: str | None = Field(None, max_length=PHONE_MAX_LENGTH)


class TherapistBookingIn(Schema):
    client_id: int
    mode: ModeName


class BookIn(Schema):
    mode: ModeName


class MoveIn(Schema):
    # A whole number an id can be (the ids are 64-bit): anything else, a string or true
    # included, is 422 naming `slot_id`, not a 404.
    slot_id: StrictInt = Field(ge=1, le=2**63 - 1, description="The open slot of the same therapist to move to")
    mode: ModeName | None = Field(None, description="The kind of meeting there; the booking's own if left out")


class BookingOut(Schema):
    id: int
    slot_id: int | None
    start: datetime
    end: datetime
    mode: ModeName
    price: int
    status: Literal["confirmed", "cancelled"]
    first_visit: bool
    outcome: OutcomeName | None = Field(None, description="R34: attended, no-show or late cancellation, once recorded")
    series_id: int | None = Field(None, description="R32: the weekly series it was booked in, if any")
    therapist: PersonRef
    client: PersonRef
    video_url: str | None = None
    reception_address: str | None = None
    personal_info: str | None = None


class SeriesIn(Schema):
    client_id: int
    start: datetime = Field(description="The first week's start; every week is at this wall-clock time in her zone")
    duration_minutes: int | None = None
    price: int | None = Field(None, description="For the slots made for the series; an open slot there keeps its own")
    mode: ModeName
    weeks: StrictInt = Field(description="2 to 52")


class SeriesOut(Schema):
    id: int
    bookings: list[BookingOut]


class SeriesWeekOut(Schema):
    week: int
    date: date
    start: datetime | None = Field(description="null: the time does not exist or exists twice that day (`dst`)")
    end: datetime | None
    price: int | None
    ok: bool
    code: str | None = Field(description="Why it cannot be booked: a conflict code, or `dst`")
    reason: str | None


class SeriesConflictWeek(Schema):
    date: date
    week: int
    code: str


class SeriesConflictOut(Conflict):
    dates: list[date] = Field(description="Every week that cannot be booked")
    conflicts: list[SeriesConflictWeek]


class SeriesCancelIn(Schema):
    from_: date = Field(alias="from")


class SeriesCancelOut(Schema):
    cancelled: int


class OutcomeIn(Schema):
    outcome: OutcomeName | None  # null: clear it, or withdraw a late cancellation (docs/api.md)


class VideoLinkOut(Schema):
    video_url: str = Field(description="The caller's new link; her old one no longer works")


class ListingOut(Schema):
    id: int
    first_name: str
    last_name: str
    modes: list[ModeName]
    next_available: datetime | None


class OpenSlotOut(Schema):
    id: int
    start: datetime
    end: datetime
    duration_minutes: int
    price: int
    modes: list[ModeName]
    audience: AudienceName


class AccessReader(Schema):
    role: Literal["therapist", "staff"]
    name: str = Field(description="The therapist's name; staff read as \"Tidbok staff\" (in the caller's language)")


class AccessOut(Schema):
    """R39: one read of the caller's personal data by someone else."""

    at: datetime
    who: AccessReader
    what: str = Field(description="What was read and through which surface, in words of the caller's language")


class TimeOffIn(Schema):
    """R36: a bare date is a whole day in her zone, the end date inclusive; a date and time
    (with its UTC offset) is that instant, the end exclusive."""

    start: date | datetime = Field(description="A date (from its first moment in her zone) or a date and time")
    end: date | datetime = Field(description="A date (through its last moment: inclusive) or a date and time (exclusive)")
    note: str = Field("", max_length=TIME_OFF_NOTE_MAX_LENGTH)


class BusyOut(Schema):
    start: datetime = Field(description="In her zone")
    end: datetime = Field(description="In her zone: [start, end)")
    title: str | None = Field(None, description="The event's title, only if she chose to see titles")


class BusyFetched(Schema):
    result: Literal["ok", "not_modified", "failed", "none"]
    busy_synced_at: datetime | None
    busy_error: str


class TimeOffOut(Schema):
    id: int
    start: datetime = Field(description="Its first moment, in her zone")
    end: datetime = Field(description="The moment after it, in her zone: [start, end)")
    note: str


class TimeOffCreated(TimeOffOut):
    removed_slots: int = Field(description="How many of her open slots inside it were removed")
    bookings_inside: list[BookingOut] = Field(description="Her live bookings inside it, for her to move or cancel")


class WaitlistIn(Schema):
    """R37: what suits her; every part may be left out (any day, any time, either kind)."""

    weekdays: list[StrictInt] | None = Field(None, description="ISO weekdays, 1 = Monday … 7 = Sunday; empty: any")
    from_time: time | None = Field(None, description="Local time of day in the therapist's zone, e.g. 09:00")
    to_time: time | None = Field(None, description="A slot must end by then (local time)")
    modes: list[ModeName] | None = Field(None, description="video, onsite; empty: either")


class WaitlistOut(Schema):
    id: int
    therapist_id: int
    therapist_name: str
    weekdays: list[int]
    from_time: time | None
    to_time: time | None
    modes: list[ModeName]
    created_at: datetime
