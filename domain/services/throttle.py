"""Counting tries in fixed windows (R28), atomically.

A try is counted *before* the thing it guards is looked at (the password checked, the sign-up
taken): one UPDATE … SET count = count + 1 holds the counter's row lock until the transaction
ends and answers the new count, so of N parallel requests exactly the first `limit` get
through, whatever the timing. (django-axes records a failure only after the password was
checked, so parallel guesses all get checked: its issue #592, "known issue, won't fix". That
is the hole this closes, and why this is ours.)

Keys hold personal data (an e-mail address, an IP address); only their SHA-256 is stored."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ..models import RateCounter


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Rate:
    """At most `limit` tries of one kind per key within `window`."""

    kind: str
    limit: int
    window: timedelta

    def key(self, *parts: str) -> str:
        return _key(self.kind, *parts)


def rate_hit(rate: Rate, *parts: str) -> bool:
    """Count one try of `rate` for `parts` and answer whether it is within the limit. Call it
    outside any transaction: it commits at once, so the count holds even if the caller's own
    work fails or rolls back, and the counter's row is locked only for this moment.

    Each step is a conditional UPDATE that PostgreSQL re-checks after waiting for a row lock,
    so two requests that both find the window over cannot both restart it (one restarts, the
    other then counts in the new window)."""
    key, now = rate.key(*parts), timezone.now()
    current = RateCounter.objects.filter(key=key)
    with transaction.atomic():
        for _attempt in range(3):
            if current.filter(window_start__gt=now - rate.window).update(count=F("count") + 1):
                break
            if current.filter(window_start__lte=now - rate.window).update(window_start=now, count=1):
                break
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, window_start=now, count=1)
                break
            except IntegrityError:
                continue  # created a moment ago by another request: count on it
        count = current.values_list("count", flat=True).get()
    return count <= rate.limit


def rate_undo(rate: Rate, *parts: str) -> None:
    """Take back one try (a success that should not count against the limit)."""
    RateCounter.objects.filter(key=rate.key(*parts), count__gt=0).update(count=F("count") - 1)


def rate_reset(rate: Rate, *parts: str) -> None:
    RateCounter.objects.filter(key=rate.key(*parts)).delete()


def rate_counters_sweep(older_than: timedelta = timedelta(days=1)) -> int:
    """Counters whose window started long ago hold nothing any limit still reads."""
    return RateCounter.objects.filter(window_start__lt=timezone.now() - older_than).delete()[0]
