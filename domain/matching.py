"""Matching (R9, issue 4): a short questionnaire ranks the therapists a new client may book —
those with Client Booster — by how well they fit and how soon they have a fitting time.

Pure reads, no state change. Each match carries its reasons as codes with values, which the
pages put into words in the visitor's language (the domain stays free of page wording)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from .models import Slot, Therapist, in_booking_window
from .search import fold
from .timezones import local

# Parts of the day, by the slot's local start time in the therapist's zone (R22).
PARTS_OF_DAY = {"morning": (6, 12), "afternoon": (12, 17), "evening": (17, 23)}
HORIZON = timedelta(weeks=4)

# What each fit is worth; a fitting open time weighs as much as the area, since a good
# therapist with no time for weeks helps nobody now.
WEIGHTS = {"area": 4, "mode": 3, "language": 3, "times": 4, "open": 1}


@dataclass(frozen=True)
class Wish:
    area: str = ""
    mode: str = ""  # "video", "onsite" or "" for either
    language: str = ""  # a language code, "" for any
    days: frozenset[int] = frozenset()  # 0 Monday … 6 Sunday; empty: any day
    parts: frozenset[str] = frozenset()  # keys of PARTS_OF_DAY; empty: any time

    def fits_time(self, local: datetime) -> bool:
        if self.days and local.weekday() not in self.days:
            return False
        if self.parts and not any(lo <= local.hour < hi for lo, hi in (PARTS_OF_DAY[p] for p in self.parts)):
            return False
        return True


@dataclass
class Match:
    therapist: Therapist
    score: int = 0
    reasons: list[tuple[str, dict]] = field(default_factory=list)
    first_fitting: datetime | None = None  # the soonest open time that fits the wish
    fitting_count: int = 0
    next_open: datetime | None = None  # the soonest open time at all (of the wished kind)


def therapists_matching(wish: Wish, *, now: datetime | None = None) -> list[Match]:
    """Boosted therapists, the best fit first: score (area, kind, language, a fitting open
    time within four weeks), then the soonest fitting time, then the soonest open time."""
    now = now or timezone.now()
    therapists = list(Therapist.objects.boosted().select_related("user"))
    # What a new client may book (R8, R9): free slots open to a client on no list, inside
    # each therapist's booking window (R35).
    slots = (
        Slot.objects.filter(in_booking_window(now), therapist__in=therapists, start_at__gt=now, start_at__lt=now + HORIZON)
        .free()
        .not_busy()  # R38
        .open_to(None)
        .order_by("start_at")
        .values_list("therapist_id", "start_at", "video", "onsite")
    )
    by_therapist: dict[int, list] = {}
    for therapist_id, start, video, onsite in slots:
        by_therapist.setdefault(therapist_id, []).append((start, video, onsite))

    matches = [_match(t, wish, by_therapist.get(t.pk, [])) for t in therapists]
    far = now + HORIZON * 100
    matches.sort(
        key=lambda m: (-m.score, m.first_fitting or far, m.next_open or far, fold(m.therapist.full_name), m.therapist.pk)
    )
    return matches


def _match(therapist: Therapist, wish: Wish, slots: list) -> Match:
    m = Match(therapist=therapist)
    if wish.area and fold(wish.area) in {fold(str(a)) for a in therapist.areas or []}:
        m.score += WEIGHTS["area"]
        m.reasons.append(("area", {"area": wish.area}))
    kind = [(s, v, o) for s, v, o in slots if not wish.mode or (v if wish.mode == "video" else o)]
    if wish.mode and (kind or getattr(therapist, f"default_{wish.mode}")):
        m.score += WEIGHTS["mode"]
        m.reasons.append(("mode", {"mode": wish.mode}))
    if wish.language and fold(wish.language) in {fold(str(code)) for code in therapist.languages or []}:
        m.score += WEIGHTS["language"]
        m.reasons.append(("language", {"language": wish.language}))
    tz = therapist.tz
    fitting = [s for s, _, _ in kind if wish.fits_time(local(s, tz))]
    m.next_open = kind[0][0] if kind else None
    m.fitting_count = len(fitting)
    if fitting:
        m.first_fitting = fitting[0]
        m.score += WEIGHTS["times"]
        m.reasons.append(("times", {"count": len(fitting), "first": local(fitting[0], tz)}))
    elif kind:
        m.score += WEIGHTS["open"]
        m.reasons.append(("other_times", {"first": local(kind[0][0], tz)}))
    else:
        m.reasons.append(("no_times", {}))
    return m
