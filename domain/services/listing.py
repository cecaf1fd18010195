"""R9 at country scale: each therapist's place in the listing (`Listing`) is stored, so that a
page of the listing costs what the page holds, not what the whole listing does.

`listing_refresh` recomputes the rows of some therapists from the one definition
(`selectors.slots_open_for_new`, what `therapist_listing_live` computes) in one UPDATE. Every
service that changes what it depends on — her slots, their bookings, her busy times, her
booking window, kinds or Client Booster — calls it in its own transaction, as its LAST
statement: it locks her listing row first, so that concurrent writers refresh one after the
other and the last one computes from a snapshot that holds the others' committed changes (a
plain UPDATE that waited for the row would keep its older snapshot for the subqueries), and a
transaction that holds that row waits for nothing else (no deadlock). Time alone moves the
values too: `listing_refresh_due`, run every minute by the scheduler, refreshes in one
statement the rows whose `valid_until` has passed."""

from datetime import UTC, datetime
from functools import cache

from django.db import connection, transaction
from django.db.models import Case, DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce, Least
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from ..models import ACCEPTS_NEW_CLIENTS, DAY, HOUR, NEVER, OPEN_TO_ALL, Listing, Slot, Therapist, _times, booking_window_bounds


def _first(slots, value=None):
    """The earliest of `slots` (a subquery), as `value` of it."""
    first = ExpressionWrapper(value or F("start_at"), output_field=DateTimeField())
    return Subquery(slots.order_by("start_at").annotate(first=first).values("first")[:1], output_field=DateTimeField())


def _values(now: datetime) -> dict:
    """The UPDATE's SET: each column from the definition, seen at `now`."""
    from ..selectors import slots_open_for_new

    therapist = Therapist.objects.filter(pk=OuterRef("pk"))
    listed = Exists(therapist.filter(ACCEPTS_NEW_CLIENTS))
    never = Value(NEVER, output_field=DateTimeField())

    def when_listed(value, default):
        return Case(When(listed, then=value), default=default, output_field=value.output_field)

    columns = {
        f"next_{mode or 'any'}": when_listed(Coalesce(_first(slots_open_for_new(now, mode, outer=False)), never), never)
        for mode in (None, "video", "onsite")
    }
    # When time alone changes them: her first time leaves the window (its start minus her
    # notice), or a slot beyond it enters (its start minus her horizon).
    leaves = _first(slots_open_for_new(now, outer=False), F("start_at") - _times(F("therapist__min_notice_hours"), HOUR))
    _, latest = booking_window_bounds(now)
    beyond = Slot.objects.filter(OPEN_TO_ALL, therapist=OuterRef("therapist_id"), start_at__gte=latest).free().not_busy()
    enters = _first(beyond, F("start_at") - _times(F("therapist__booking_horizon_days"), DAY))
    # (Least of two, either of which may be NULL: PostgreSQL skips a NULL, SQLite answers NULL.)
    until = Least(Coalesce(leaves, enters), Coalesce(enters, leaves))
    return {
        **columns,
        "valid_until": when_listed(until, Value(None, output_field=DateTimeField())),
        "listed": listed,
        "video": Subquery(therapist.values("default_video")[:1]),
        "onsite": Subquery(therapist.values("default_onsite")[:1]),
        "last_name": Subquery(therapist.values("user__last_name")[:1]),
    }


# The refresh runs in every booking, so its SQL is compiled once per database (compiling the
# ORM's UPDATE with its nine subqueries took ~15 ms of Python, more than the booking's own
# work: the bench saw bookings/s fall by half). Compiled for a made-up moment and therapist,
# whose parameters are then swapped for the real ones.
_AT, _ID = datetime(1999, 12, 31, 23, 59, 58, 424242, tzinfo=UTC), 987_654_321_987


@cache
def _refresh_sql(vendor: str) -> tuple[str, list, list[int], int]:
    query = Listing.objects.filter(pk=_ID).query.chain(UpdateQuery)
    query.add_update_values(_values(_AT))
    sql, params = query.get_compiler(connection.alias).as_sql()
    at = connection.ops.adapt_datetimefield_value(_AT)
    [id_position] = [i for i, p in enumerate(params) if p == _ID]
    return sql, list(params), [i for i, p in enumerate(params) if p == at], id_position


def listing_refresh(therapist_ids, *, now: datetime | None = None) -> int:
    """Recompute these therapists' listing rows (call it last in the transaction that
    changed them: see the module's docstring). Answers how many rows it wrote."""
    ids = sorted({int(pk) for pk in therapist_ids})
    if not ids:
        return 0
    sql, params, at_positions, id_position = _refresh_sql(connection.vendor)
    at = connection.ops.adapt_datetimefield_value(now or timezone.now())
    for i in at_positions:
        params[i] = at
    written = 0
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:  # inside the caller's, at no cost
        if connection.features.has_select_for_update:
            # The transaction's deferred foreign-key checks first: a booking key-shares her
            # therapist's row at commit, and must not do so while holding this row, which a
            # slot creation holding her therapist's row waits for (a deadlock, seen in
            # domain/tests/test_listing.py's race).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            table = connection.ops.quote_name(Listing._meta.db_table)
            cursor.execute(f"SELECT therapist_id FROM {table} WHERE therapist_id IN ({', '.join(['%s'] * len(ids))}) "
                           "ORDER BY therapist_id FOR UPDATE", ids)
        for pk in ids:
            params[id_position] = pk
            cursor.execute(sql, params)
            written += cursor.rowcount
    return written


def listing_refresh_due(*, now: datetime | None = None) -> int:
    """The periodic job: refresh every row whose `valid_until` has passed, in one statement
    (the index `listing_valid_until` finds them). A row another transaction holds is skipped:
    that transaction is refreshing it already."""
    now = now or timezone.now()
    with transaction.atomic():
        due = Listing.objects.filter(valid_until__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            due = Listing.objects.filter(pk__in=list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)))
        return due.update(**_values(now))


def listing_rebuild(*, now: datetime | None = None) -> int:
    """Every therapist's row, made where missing and computed anew, in a few statements: after
    a change made around the services (a bulk load, a data fix; `manage.py listing_rebuild`)."""
    with transaction.atomic():
        missing = Therapist.objects.filter(listing__isnull=True).values_list("pk", flat=True)
        Listing.objects.bulk_create((Listing(therapist_id=pk) for pk in missing), batch_size=2000)
        if connection.features.has_select_for_update:
            list(Listing.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
        return Listing.objects.update(**_values(now or timezone.now()))
