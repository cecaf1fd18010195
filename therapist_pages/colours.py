"""The calendar's colours as the therapist sees them (R2, R7, R14, R15), defined once.

`Slot.color` decides which colour a slot has; this says what each colour looks like and what
it is called. A colour always comes with a shape and words, so that colour is never the only
signal. Everything that shows a colour reads it from here: the legend and the swatches' CSS
(calendar.html), the booking view (_slot.html), the calendar's script (through its
json_script config, `for_script`) and the private feed's event titles (feed.py).

The marks drawn over a colour are defined here too (`MARKS`, R35: an open slot that clients
cannot book now, the calendar API's `bookable_by_clients`): the legend, its CSS and the script
(`marks_for_script`) read them."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from domain.models import Outcome


@dataclass(frozen=True)
class Colour:
    name: str  # as `Slot.color` and the API's `color` say it
    background: str
    text: str  # the text's colour on the background (contrast at least 4.5:1)
    icon: str  # the shape, for whoever cannot tell the colours apart
    label: str | Promise  # short: a slot's title in the calendar and the feed ("Booked: Erik E.")
    meaning: str | Promise  # the legend's and the booking view's words


COLOURS = {
    c.name: c
    for c in (
        Colour("green", "#23704a", "#ffffff", "○", _("Open slot"), _("Open, available to all")),
        Colour("blue", "#2a62a3", "#ffffff", "◐", _("Open slot (existing clients)"), _("Open, existing clients only")),
        Colour("red", "#b0302f", "#ffffff", "●", _("Booked"), _("Booked")),
        Colour("yellow", "#f2c94c", "#1d2433", "★", _("First visit"), _("Booked, the client's first visit")),
    )
}


@dataclass(frozen=True)
class Mark:
    """A mark drawn over a slot's colour, never a colour of its own: a pattern and a shape, and
    words for the legend and for whoever does not see the pattern."""

    name: str  # the class on the slot and the legend's swatch: `slot-<name>`
    pattern: str  # CSS background-image laid over the colour
    icon: str
    label: str | Promise  # said after the slot's title ("Open slot, clients cannot book it now")
    meaning: str | Promise  # the legend's words


# R35: an open slot that clients cannot book now (the calendar API's `bookable_by_clients` is false): sooner
# than her minimum notice, or further ahead than her horizon. Hatched, with its own shape.
CLOSED_TO_CLIENTS = Mark(
    "closed",
    "repeating-linear-gradient(135deg, rgba(255, 255, 255, .2) 0 .2rem, transparent .2rem .7rem)",
    "⊘",
    _("clients cannot book it now"),
    _("Open, but clients cannot book it now: too soon (minimum notice) or too far ahead (booking horizon)"),
)
MARKS = {m.name: m for m in (CLOSED_TO_CLIENTS,)}


# R36: her time off, a band behind the week's slots (a FullCalendar background event); its label
# ("Ledig", or her note) is drawn in `text` on `background`, at least 4.5:1. Not a slot's colour:
# no slot lies inside time off once it is set, but for her bookings, drawn over it.
TIME_OFF = Colour("time-off", "#e4e0f0", "#3b2f66", "☾", _("Time off"), _("Time off: no slots can be made"))


def time_off_for_script() -> dict:
    return {"background": TIME_OFF.background, "text": TIME_OFF.text, "icon": TIME_OFF.icon,
            "label": str(TIME_OFF.label)}


# R38: a busy time of her external calendar, a grey band behind the week's slots ("Upptagen",
# or the event's title if she chose to see titles); the open slots over it are hatched (clients
# cannot book them). Text on background at least 4.5:1.
BUSY = Colour("busy", "#e2e2e2", "#2b2b2b", "▦", _("Busy"), _("Busy in your other calendar: clients cannot book then"))


def busy_for_script() -> dict:
    return {"background": BUSY.background, "text": BUSY.text, "icon": BUSY.icon, "label": str(BUSY.label)}


def of(slot) -> Colour:
    return COLOURS[slot.color]


def for_script() -> dict:
    """The colours for calendar.js, in the active language."""
    return {
        c.name: {"background": c.background, "text": c.text, "icon": c.icon, "label": str(c.label)}
        for c in COLOURS.values()
    }


# R34: a visit's outcome is shown as an icon beside the colour, never as a colour of its own
# (the colour still says booked or first visit). The words are `Outcome`'s labels.
OUTCOME_ICONS = {
    Outcome.ATTENDED: "✓",
    Outcome.NO_SHOW: "✗",
    Outcome.LATE_CANCELLED: "⏱",
}
assert set(OUTCOME_ICONS) == set(Outcome), "every outcome has its icon"


def outcomes() -> list[dict]:
    """Each outcome's value, icon and words (the booking view's buttons, the client page)."""
    return [{"value": o.value, "icon": OUTCOME_ICONS[o], "label": o.label} for o in Outcome]


def outcomes_for_script() -> dict:
    """The outcomes for calendar.js, in the active language: {value: {icon, label}}."""
    return {o["value"]: {"icon": o["icon"], "label": str(o["label"])} for o in outcomes()}


def marks_for_script() -> dict:
    """The marks for calendar.js, in the active language."""
    return {m.name: {"icon": m.icon, "label": str(m.label)} for m in MARKS.values()}
