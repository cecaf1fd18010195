"""Counting tries in fixed windows (R28), atomically.

A try is counted *before* the thing it guards is looked at (the password checked, the sign-up
taken): one INSERT … ON CONFLICT DO UPDATE SET count = count + 1 … RETURNING count, so of N
parallel requests exactly the first `limit` get through, whatever the timing. (django-axes
records a failure only after the password was checked, so parallel guesses all get checked:
its issue #592, "known issue, won't fix". That is the hole this closes, and why this is ours.)

Keys hold personal data (an e-mail address, an IP address); only their SHA-256 is stored."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.db import connection
from django.db.models import F
from django.utils import timezone

from ..models import RateCounter
from ..rows import fetch


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


@cache
def _hit_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    table = quote(RateCounter._meta.db_table)
    key, start, count = (quote(c) for c in ("key", "window_start", "count"))
    # The row as it was is the table's own name on both databases (`excluded` is the new one).
    old_start, old_count = f"{table}.{start}", f"{table}.{count}"
    return (
        f"INSERT INTO {table} ({key}, {start}, {count}) VALUES (%s, %s, 1) "
        f"ON CONFLICT ({key}) DO UPDATE SET "
        f"{count} = CASE WHEN {old_start} > %s THEN {old_count} + 1 ELSE 1 END, "
        f"{start} = CASE WHEN {old_start} > %s THEN {old_start} ELSE excluded.{start} END "
        f"RETURNING {count}"
    )


def rate_hit(rate: Rate, *parts: str) -> bool:
    """Count one try of `rate` for `parts` and answer whether it is within the limit.

    One statement, an upsert that answers the new count: PostgreSQL and SQLite both run it
    atomically (a second request for the same key waits for the first's row lock, then counts
    on top of it), so parallel tries can never pass the limit together. A window that has
    passed starts again at 1. Call it outside any transaction, so that the count is committed
    at once and holds even when the caller's own work fails or rolls back."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    since = adapt(now - rate.window)
    [(count,)] = fetch(_hit_sql(connection.vendor), [rate.key(*parts), adapt(now), since, since])
    return count <= rate.limit


def rate_undo(rate: Rate, *parts: str) -> None:
    """Take back one try (a success that should not count against the limit)."""
    RateCounter.objects.filter(key=rate.key(*parts), count__gt=0).update(count=F("count") - 1)


def rate_reset(rate: Rate, *parts: str) -> None:
    RateCounter.objects.filter(key=rate.key(*parts)).delete()


def rate_counters_sweep(older_than: timedelta = timedelta(days=1)) -> int:
    """Counters whose window started long ago hold nothing any limit still reads."""
    return RateCounter.objects.filter(window_start__lt=timezone.now() - older_than).delete()[0]
