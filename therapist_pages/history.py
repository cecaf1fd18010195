"""A slot's history in words, from the audit trail (`selectors.slot_history`): who did what
and when, in the therapist's zone. The trail holds names and ids, never a personnummer."""

from datetime import datetime

from django.utils import formats
from django.utils.translation import gettext as _

from domain.models import (
    ALL,
    AUDIENCE_IN_SENTENCE,
    EXISTING,
    MODE_IN_SENTENCE,
    ONSITE,
    VIDEO,
    AuditEntry,
    Outcome,
    Therapist,
)
from domain.timezones import local


def _when(text: str | None, therapist: Therapist) -> str:
    if not text:
        return ""
    return formats.date_format(local(datetime.fromisoformat(text), therapist.tz), "D j F H:i")


def _minutes(snapshot: dict) -> int:
    return int((datetime.fromisoformat(snapshot["end"]) - datetime.fromisoformat(snapshot["start"])).total_seconds() // 60)


def _kinds(modes) -> str:
    return _(" and ").join(str(MODE_IN_SENTENCE.get(m, m)) for m in modes or [])


def _audience(audience: str) -> str:
    return str(AUDIENCE_IN_SENTENCE[ALL if audience == ALL else EXISTING])


def _mode(mode: str) -> str:
    return str(MODE_IN_SENTENCE[VIDEO if mode == VIDEO else ONSITE])


def _outcome(outcome: str | None) -> str:
    if outcome is None:
        return _("not recorded")
    return str(Outcome(outcome).label) if outcome in Outcome.values else "?"


def describe(entry: AuditEntry, therapist: Therapist) -> str | None:
    before, after = entry.before or {}, entry.after or {}
    match entry.action:
        case "slot.created":
            return _("Created: %(time)s, %(minutes)d min, %(price)d kr, %(kinds)s, %(audience)s.") % {
                "time": _when(after.get("start"), therapist), "minutes": _minutes(after), "price": after.get("price", 0),
                "kinds": _kinds(after.get("modes")), "audience": _audience(after.get("audience")),
            }
        case "slot.updated":
            parts = []
            if before.get("start") != after.get("start"):
                parts.append(_("moved from %(old)s to %(new)s") % {
                    "old": _when(before.get("start"), therapist), "new": _when(after.get("start"), therapist)})
            if _minutes(before) != _minutes(after):
                parts.append(_("length %(old)d → %(new)d min") % {"old": _minutes(before), "new": _minutes(after)})
            if before.get("price") != after.get("price"):
                parts.append(_("price %(old)s → %(new)s kr") % {"old": before.get("price"), "new": after.get("price")})
            if before.get("modes") != after.get("modes"):
                parts.append(_("kinds: %(kinds)s") % {"kinds": _kinds(after.get("modes"))})
            if before.get("audience") != after.get("audience"):
                parts.append(_audience(after.get("audience")))
            return _("Changed: %(changes)s.") % {"changes": "; ".join(parts)} if parts else None
        case "booking.created" if after.get("series_id"):
            return _("Booked by %(client)s (%(mode)s), every week.") % {
                "client": after.get("client", "?"), "mode": _mode(after.get("mode"))}
        case "booking.created":
            return _("Booked by %(client)s (%(mode)s).") % {"client": after.get("client", "?"), "mode": _mode(after.get("mode"))}
        case "booking.cancelled":
            if after.get("outcome") == Outcome.LATE_CANCELLED:
                return _("Booking of %(client)s cancelled after the cut-off: a late cancellation.") % {
                    "client": before.get("client", "?")}
            return _("Booking of %(client)s cancelled.") % {"client": before.get("client", "?")}
        case "booking.outcome_set":
            return _("Outcome for %(client)s: %(outcome)s.") % {
                "client": after.get("client", "?"), "outcome": _outcome(after.get("outcome"))}
        case "booking.moved":
            return _("%(client)s moved the booking from %(old)s to %(new)s.") % {
                "client": after.get("client", "?"), "old": _when(before.get("start"), therapist),
                "new": _when(after.get("start"), therapist)}
        case "booking.rescheduled":
            return _("%(client)s was told of the new time.") % {"client": after.get("client", "?")}
        case "booking.video_link_renewed":
            if after.get("party") == "therapist":
                return _("New video link for the therapist; the old one stopped working.")
            return _("New video link for the client; the old one stopped working.")
    return None


def lines(entries, therapist: Therapist) -> list[dict]:
    out = []
    for entry in entries:
        text = describe(entry, therapist)
        if text:
            who = entry.actor.get_full_name() if entry.actor else _("Tidbok")
            out.append({"at": entry.at, "who": who or entry.actor.email, "text": text})
    return out


# The entries whose line says the client's name (`describe`).
NAMES_THE_CLIENT = {"booking.created", "booking.cancelled", "booking.rescheduled", "booking.moved", "booking.outcome_set"}


def client_ids(entries) -> set[int]:
    """The clients whose names the history shows (a booking's snapshot holds her id)."""
    ids = set()
    for entry in entries:
        if entry.action in NAMES_THE_CLIENT:
            for snapshot in (entry.before or {}, entry.after or {}):
                if snapshot.get("client_id") is not None:
                    ids.add(snapshot["client_id"])
    return ids
