"""The forms of the therapist's pages: they parse what was typed; every rule is the domain's.
A date and a time typed in the therapist's zone become an instant only through
`domain.timezones.local_to_utc`, which refuses the wall-clock times summer time skips or
repeats (R22)."""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from domain.models import (
    BUSY_URL_MAX_LENGTH,
    CITY_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    MAX_BOOKING_HORIZON_DAYS,
    MAX_CANCELLATION_CUTOFF_HOURS,
    MAX_DURATION_MINUTES,
    MAX_MIN_NOTICE_HOURS,
    MAX_PRICE,
    MAX_SERIES_WEEKS,
    MIN_BOOKING_HORIZON_DAYS,
    MIN_DURATION_MINUTES,
    MIN_SERIES_WEEKS,
    NAME_MAX_LENGTH,
    PERSONAL_INFO_MAX_LENGTH,
    PERSONNUMMER_TYPED_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    PRESENTATION_MAX_LENGTH,
    RECEPTION_ADDRESS_MAX_LENGTH,
    TIME_OFF_NOTE_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Audience,
    Mode,
)
from domain.services.slots import MAX_REPEAT_WEEKS
from domain.timezones import YEARS, in_range, local_to_utc, timezone_choices

KIND_CHOICES = Mode.choices  # the labels live with the model (domain/models.py)
AUDIENCE_CHOICES = Audience.choices
# The languages a therapist most often offers in Sweden; stored as ISO 639 codes.
LANGUAGE_CHOICES = [
    ("sv", _("Swedish")), ("en", _("English")), ("ar", _("Arabic")), ("fa", _("Persian")), ("fi", _("Finnish")),
    ("de", _("German")), ("es", _("Spanish")), ("fr", _("French")), ("pl", _("Polish")), ("so", _("Somali")),
    ("tr", _("Turkish")), ("bs", _("Bosnian")), ("ti", _("Tigrinya")), ("ku", _("Kurdish")), ("da", _("Danish")),
    ("no", _("Norwegian")),
]


class LocalStartMixin:
    """`date` + `time` in the therapist's zone → `start` as a UTC instant, or an error on
    the time field naming the summer-time problem."""

    def local_start(self, tz):
        day, clock = self.cleaned_data.get("date"), self.cleaned_data.get("time")
        if day is None or clock is None:
            return None
        try:
            return local_to_utc(datetime.combine(day, clock), tz, field="time")
        except ValidationError as e:
            for field, messages in e.message_dict.items():
                self.add_error(field, messages)
            return None


class SlotForm(LocalStartMixin, forms.Form):
    """Ändra (R4): date, time, length and price typed by hand, kinds (R6) and audience (R7).
    `price_typed` says the price was typed by hand; otherwise a new length re-prices (R5)."""

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M"))
    duration_minutes = forms.IntegerField(
        label=_("Length (minutes)"), min_value=MIN_DURATION_MINUTES, max_value=MAX_DURATION_MINUTES,
        widget=forms.NumberInput(attrs={"step": 5}),
    )
    price = forms.IntegerField(label=_("Price (kr)"), min_value=0, max_value=MAX_PRICE, required=False)
    price_typed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    kinds = forms.MultipleChoiceField(
        label=_("Kind of meeting"), choices=KIND_CHOICES, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose video, on site or both.")},
    )
    audience = forms.ChoiceField(label=_("Who can book"), choices=AUDIENCE_CHOICES)

    def clean_date(self):
        """A date outside the domain's range would overflow on its way to an instant (a 500)."""
        day = self.cleaned_data["date"]
        if not in_range(day):
            raise ValidationError(_("The date must lie between the years %(first)d and %(last)d.") % YEARS)
        return day

    def changes(self, tz) -> dict:
        """The keyword arguments for slot_create/slot_update, or {} when the form is invalid."""
        if not self.is_valid():
            return {}
        start = self.local_start(tz)
        if start is None:
            return {}
        changes = {
            "start": start,
            "duration_minutes": self.cleaned_data["duration_minutes"],
            "modes": self.cleaned_data["kinds"],
            "audience": self.cleaned_data["audience"],
        }
        if self.cleaned_data["price_typed"] and self.cleaned_data["price"] is not None:
            changes["price"] = self.cleaned_data["price"]
        return changes


class NewSlotForm(SlotForm):
    """Ny tid: a slot as in Ändra, and if `weeks` is given, copies of it at the same time in
    each of the next `weeks` weeks (what the booking view's "Repeat weekly" does afterwards):
    2 makes 3 slots, and the label and help say so. Empty or 0: the one slot."""

    weeks = forms.IntegerField(
        label=_("Also the following weeks (how many)"), min_value=0, max_value=MAX_REPEAT_WEEKS, required=False,
        help_text=_("Empty: this slot only. 2 gives this slot and the same time in each of the 2 following weeks, "
                    "3 slots in all. Weeks where the time is taken are skipped."),
    )


class RangeForm(forms.Form):
    """A stretch of time marked in the calendar, as instants with their offsets."""

    start = forms.DateTimeField()
    end = forms.DateTimeField()


class RepeatForm(forms.Form):
    """Copies of a slot in the following weeks. `weeks` counts the copies, not the slot: the
    words say so ("the following weeks"), in both forms, as `slot_repeat_weekly` does."""

    weeks = forms.IntegerField(
        label=_("Also the following weeks (how many)"), min_value=1, max_value=MAX_REPEAT_WEEKS, initial=4
    )


class BookForm(forms.Form):
    """Boka med klient (R13): the client chosen among the suggestions, and the kind."""

    client = forms.IntegerField(
        widget=forms.HiddenInput, error_messages={"required": _("Choose a client among the suggestions.")}
    )
    mode = forms.ChoiceField(
        label=_("Kind of meeting"), choices=KIND_CHOICES, widget=forms.RadioSelect,
        error_messages={"required": _("Choose video or on site.")},
    )


class SeriesForm(forms.Form):
    """R32 "Boka varje vecka": how many weeks, the booked one included."""

    weeks = forms.IntegerField(
        label=lazy(lambda: _("Number of weeks (%(min)d–%(max)d)") % {"min": MIN_SERIES_WEEKS, "max": MAX_SERIES_WEEKS},
                   str)(),
        min_value=MIN_SERIES_WEEKS, max_value=MAX_SERIES_WEEKS, initial=10,
        error_messages={"required": _("Give the number of weeks.")},
    )


class SeriesStartForm(BookForm, SeriesForm):
    """The client and kind of `BookForm` and the weeks of `SeriesForm`: what a series needs."""


class ClientForm(forms.Form):
    """Add an own client (R12). The personnummer and e-mail are checked by `client_add`."""

    first_name = forms.CharField(label=_("First name"), max_length=NAME_MAX_LENGTH)
    last_name = forms.CharField(label=_("Last name"), max_length=NAME_MAX_LENGTH)
    personnummer = forms.CharField(
        label=_("Personnummer"), max_length=PERSONNUMMER_TYPED_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "placeholder": "ÅÅÅÅMMDD-NNNN"}),
    )
    email = forms.CharField(label=_("E-mail address"), max_length=EMAIL_MAX_LENGTH, widget=forms.EmailInput)
    phone = forms.CharField(label=_("Phone (optional)"), max_length=PHONE_MAX_LENGTH, required=False,
                            widget=forms.TextInput(attrs={"type": "tel"}))


class DialogClientForm(ClientForm):
    """The same fields in the calendar's "Boka med klient", where they sit inside the booking
    form: each names the form it belongs to (`form_id`, the HTML `form` attribute), since
    forms cannot nest."""

    def __init__(self, *args, form_id: str, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["form"] = form_id


class BusyCalendarForm(forms.Form):
    """R38: her other calendar's iCalendar address (`services.busy` checks it) and whether her
    week shows its events' titles."""

    busy_calendar_url = forms.CharField(
        label=_("Address of your other calendar (iCalendar)"), required=False, max_length=BUSY_URL_MAX_LENGTH,
        help_text=_("In Google Calendar: the calendar's settings, \"Secret address in iCal format\". In Outlook: "
                    "Settings, Calendar, Shared calendars, Publish a calendar, the ICS link. Empty: none."),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"}),
    )
    busy_show_titles = forms.BooleanField(
        label=_("Show the events' titles in my week (otherwise only \"Busy\")"), required=False
    )


class SettingsForm(forms.Form):
    """Inställningar: the defaults of new slots, where and how clients meet her, her zone,
    her public profile, the cancellation cut-off, the booking window (R35), how clients reach her and whether she is
    mailed of their bookings (R30). The domain checks every value."""

    default_duration_minutes = forms.IntegerField(
        label=_("Default length (minutes)"), min_value=MIN_DURATION_MINUTES, max_value=MAX_DURATION_MINUTES
    )
    default_price = forms.IntegerField(label=_("Default price (kr)"), min_value=0, max_value=MAX_PRICE)
    default_modes = forms.MultipleChoiceField(
        label=_("Default kinds of meeting"), choices=KIND_CHOICES, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose video, on site or both.")},
    )
    default_audience = forms.ChoiceField(label=_("Default audience"), choices=AUDIENCE_CHOICES)
    reception_address = forms.CharField(
        label=_("Reception address"), required=False, max_length=RECEPTION_ADDRESS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    personal_info = forms.CharField(
        label=_("Information for on-site visits"), required=False, max_length=PERSONAL_INFO_MAX_LENGTH,
        help_text=_("Sent with every on-site booking: door code, floor, where to wait."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    timezone = forms.ChoiceField(label=_("Time zone"))
    title = forms.CharField(label=_("Professional title"), required=False, max_length=TITLE_MAX_LENGTH)
    city = forms.CharField(label=_("City"), required=False, max_length=CITY_MAX_LENGTH)
    presentation = forms.CharField(
        label=_("Presentation"), required=False, max_length=PRESENTATION_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 5})
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages you offer"), required=False, choices=LANGUAGE_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    areas = forms.CharField(
        label=_("Areas of help"), required=False, max_length=2000,
        help_text=_("Separated by commas, e.g. anxiety, stress, relationships."),
    )
    cancellation_cutoff_hours = forms.IntegerField(
        label=_("Clients may cancel themselves up to (hours before)"), min_value=0, max_value=MAX_CANCELLATION_CUTOFF_HOURS
    )
    # R35: the booking window (the bounds are the model's, as the service's and the database's).
    min_notice_hours = forms.IntegerField(
        label=_("Clients may book up to (hours before the start)"), min_value=0, max_value=MAX_MIN_NOTICE_HOURS,
        help_text=_("0: until the start. Your calendar marks open slots that clients cannot book yet or any more."),
    )
    booking_horizon_days = forms.IntegerField(
        label=_("Clients may book at most (days ahead)"), min_value=MIN_BOOKING_HORIZON_DAYS,
        max_value=MAX_BOOKING_HORIZON_DAYS,
    )
    contact_email = forms.CharField(
        label=_("Contact e-mail for clients"), required=False, max_length=EMAIL_MAX_LENGTH, widget=forms.EmailInput,
        help_text=_("Clients' replies to their booking e-mails go here. Leave it empty to use your log-in address."),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone for clients (optional)"), required=False, max_length=PHONE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    notify_by_email = forms.BooleanField(
        label=_("E-mail me when a client books, cancels or moves a time"), required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Names in her language, common zones first; the value stays the IANA name (R22).
        self.fields["timezone"].choices = timezone_choices(get_language(), current=self.initial.get("timezone"))

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        data["areas"] = [a for a in (p.strip() for p in data["areas"].split(",")) if a]
        return data


def settings_initial(therapist) -> dict:
    return {
        "default_duration_minutes": therapist.default_duration_minutes,
        "default_price": therapist.default_price,
        "default_modes": therapist.default_modes,
        "default_audience": therapist.default_audience,
        "reception_address": therapist.reception_address,
        "personal_info": therapist.personal_info,
        "timezone": therapist.timezone,
        "title": therapist.title,
        "city": therapist.city,
        "presentation": therapist.presentation,
        "languages": list(therapist.languages),
        "areas": ", ".join(therapist.areas),
        "cancellation_cutoff_hours": therapist.cancellation_cutoff_hours,
        "min_notice_hours": therapist.min_notice_hours,
        "booking_horizon_days": therapist.booking_horizon_days,
        "contact_email": therapist.contact_email,
        "contact_phone": therapist.contact_phone,
        "notify_by_email": therapist.notify_by_email,
    }




class TimeOffForm(forms.Form):
    """R36: Ledighet, from a date to a date (inclusive), whole days unless she gives times for a
    part day; the service (`time_off_create`) holds the rules."""

    from_date = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    to_date = forms.DateField(label=_("To and including"),
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    from_time = forms.TimeField(
        label=_("From time (optional)"), required=False, help_text=_("Empty: from the start of the day."),
        widget=forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M"),
    )
    to_time = forms.TimeField(
        label=_("To time (optional)"), required=False, help_text=_("Empty: to the end of the day."),
        widget=forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M"),
    )
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=TIME_OFF_NOTE_MAX_LENGTH,
                           help_text=_("Shown in your calendar only, e.g. \"Christmas\"."))

    # The service's fields, as this form names them.
    FIELDS = {"start": "from_date", "end": "to_date", "note": "note"}

    def bounds(self, tz) -> tuple:
        """(start, end) for `time_off_create`: a date, or an instant when a time is given.
        Call after is_valid(); a wall-clock time that does not exist once is a field error."""
        data = self.cleaned_data
        start, end = data["from_date"], data["to_date"]
        if data.get("from_time") is not None:
            start = local_to_utc(datetime.combine(start, data["from_time"]), tz, "from_time")
        if data.get("to_time") is not None:
            end = local_to_utc(datetime.combine(end, data["to_time"]), tz, "to_time")
        return start, end

    def add_service_errors(self, error) -> None:
        for field, msgs in error.message_dict.items():
            target = self.FIELDS.get(field, field)
            self.add_error(target if target in self.fields else None, msgs)
