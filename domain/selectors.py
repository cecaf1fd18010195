"""Reads shared by the surfaces: who may see what (R7–R9), the calendar, the listing, the
client list search (R13)."""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, DateTimeField, Exists, F, OuterRef, Q, QuerySet, Subquery, When
from django.utils import timezone
from django.utils.translation import gettext as _

from . import video
from .models import (
    ACCEPTS_NEW_CLIENTS,
    MAX_DURATION_MINUTES,
    NEVER,
    ONSITE,
    OPEN_TO_ALL,
    VIDEO,
    AccessRecord,
    AuditEntry,
    Booking,
    Client,
    Outcome,
    Slot,
    Therapist,
    User,
    earlier_than_sql,
    in_booking_window,
    list_entries,
    live_booking_sql,
    on_list_sql,
    slot_open_to_sql,
    tag,
)
from .rows import Columns, Compiled, condition_holds, condition_sql, fetch, instances
from .search import fold

# The hand-written reads' column lists (`domain.rows`), one per table alias.
_SLOT, _THERAPIST, _USER = Columns(Slot, "s"), Columns(Therapist, "th"), Columns(User, "u")
_BOOKING, _CLIENT = Columns(Booking, "b"), Columns(Client, "c")


@cache
def _slot_for_booking_sql(vendor: str) -> tuple[str, list]:
    quote = connection.ops.quote_name
    lock = " FOR UPDATE OF s, c" if connection.features.has_select_for_update_of else ""
    on_list = on_list_sql("s.therapist_id", "c.id")
    open_to, params = slot_open_to_sql("s", "th", on_list)
    return (
        f"SELECT {_SLOT.sql()}, {_THERAPIST.sql()}, {_USER.sql()}, {on_list}, {open_to} "
        f"FROM {quote(Slot._meta.db_table)} s JOIN {quote(Therapist._meta.db_table)} th ON th.id = s.therapist_id "
        f"JOIN {quote(User._meta.db_table)} u ON u.id = th.user_id "
        f"JOIN {quote(Client._meta.db_table)} c ON c.id = %s WHERE s.id = %s{lock}",
        params,
    )


def slot_for_booking(slot_id: int, client: Client) -> tuple[Slot, bool, bool]:
    """The slot with its therapist and her user, whether `client` is on her list (R12) and
    whether she may see the slot (R8, R9: `slot_open_to_sql`, `Slot.objects.open_to`'s SQL
    twin): what a booking checks first, in one statement (`domain.rows`: this is on the path
    of every booking; written with the ORM, this and `booking_facts` took three statements
    and 69 % more CPU per booking when measured for issue 12). Locks the slot's row and the
    client's (only those) until the transaction ends: the slot's for R16, the client's so
    that her bookings, cancellations and list entry change one at a time (the booking limit,
    and leaving a list, count her bookings). Raises Slot.DoesNotExist, also when the client
    has just been merged away."""
    low, high = connection.ops.integer_field_range(Slot._meta.pk.get_internal_type())
    if not low <= slot_id <= high:  # as the ORM does: an id the column cannot hold is missing
        raise Slot.DoesNotExist
    sql, params = _slot_for_booking_sql(connection.vendor)
    rows = fetch(sql, [*params, client.pk, slot_id])
    if not rows:
        raise Slot.DoesNotExist
    slot, therapist, user = instances(rows[0], _SLOT, _THERAPIST, _USER)
    Therapist._meta.get_field("user").set_cached_value(therapist, user)
    Slot._meta.get_field("therapist").set_cached_value(slot, therapist)
    return slot, bool(rows[0][-2]), bool(rows[0][-1])


@cache
def _booking_facts_sql(vendor: str) -> tuple[str, list]:
    bookings = connection.ops.quote_name(Booking._meta.db_table)
    live, live_params = live_booking_sql("b")
    earlier, earlier_params = earlier_than_sql("%s", "%s")
    mine, mine_params = condition_sql(Booking, Q(by_client=True), "b")
    return (
        f"SELECT EXISTS (SELECT 1 FROM {bookings} b WHERE {live} AND b.slot_id = %s), {earlier}, "
        f"(SELECT COUNT(*) FROM {bookings} b WHERE {live} AND {mine} AND b.client_id = %s AND b.start_at > %s "
        "AND b.therapist_id = %s)"
    ), [live_params, earlier_params, live_params + mine_params]


def booking_facts(slot: Slot, client: Client, now: datetime) -> tuple[bool, bool, int]:
    """Whether the slot has a live booking (R16); whether the client has a live booking
    starting before it (so a booking of it is no first visit, R15: `earlier_than`'s SQL twin);
    and how many future bookings she made herself with this therapist (the hoarding limit):
    one statement (`domain.rows`, as `slot_for_booking`)."""
    adapt = connection.ops.adapt_datetimefield_value
    sql, (taken_params, earlier_params, own_params) = _booking_facts_sql(connection.vendor)
    [(taken, earlier, own_future)] = fetch(sql, [
        *taken_params, slot.pk,
        *earlier_params, client.pk, adapt(slot.start_at),
        *own_params, client.pk, adapt(now), slot.therapist_id,
    ])
    return bool(taken), bool(earlier), int(own_future)


def stays_on_list(therapist_id: int, client: Client) -> bool:
    """R12 with R26: a client who came through the platform stays on a therapist's list only
    while she has a live booking there, to come or had. One booking made and cancelled must
    not make a stranger an "existing client" for good (R8)."""
    return Booking.objects.live().filter(therapist_id=therapist_id, client=client).exists()


def therapist_visible_to(therapist: Therapist, client: Client | None) -> bool:
    """R9: a therapist's public page exists for a viewer who may book something there: she
    takes new clients (`ACCEPTS_NEW_CLIENTS`, asked of the instance in hand) or the viewer is
    on her list."""
    return condition_holds(therapist, ACCEPTS_NEW_CLIENTS) or list_entries(client, therapist.pk).exists()


@cache
def _calendar_sql(vendor: str) -> tuple[str, list]:
    """Her slots overlapping the window with each one's live booking (`live_booking_sql`), its
    client and R15's first-visit mark (`earlier_than_sql`: no earlier live booking of that
    client with anyone). A slot is at most MAX_DURATION_MINUTES long, so one overlapping the
    window starts less than that before it: that bound makes the read one range of
    `slot_therapist_start`, as long as the week asked for, whatever the size of the table
    (and one probe per booked slot)."""
    quote = connection.ops.quote_name
    slots, bookings, clients = (quote(m._meta.db_table) for m in (Slot, Booking, Client))
    live, live_params = live_booking_sql("b")
    earlier, earlier_params = earlier_than_sql("b.client_id", "b.start_at")
    return (
        f"SELECT {_SLOT.sql()}, {_BOOKING.sql()}, {_CLIENT.sql()}, NOT {earlier} "
        f"FROM {slots} s LEFT JOIN {bookings} b ON b.slot_id = s.id AND {live} "
        f"LEFT JOIN {clients} c ON c.id = b.client_id "
        "WHERE s.therapist_id = %s AND s.start_at < %s AND s.end_at > %s AND s.start_at > %s "
        "ORDER BY s.start_at, s.id"
    ), earlier_params + live_params


def calendar_for_therapist(therapist: Therapist, start: datetime, end: datetime) -> list[Slot]:
    """Every slot of hers overlapping [start, end), by start, each with its live booking
    (`slot.live_booking`, with its client and `first_visit`) — the same objects the ORM's
    `Slot.objects.with_live_booking()` gives, read with one hand-written query because this is
    the hottest read of all (`domain.rows`)."""
    adapt = connection.ops.adapt_datetimefield_value
    earliest = start - timedelta(minutes=MAX_DURATION_MINUTES)
    sql, rule_params = _calendar_sql(connection.vendor)
    rows = fetch(sql, [*rule_params, therapist.pk, adapt(end), adapt(start), adapt(earliest)])
    booking_client = Booking._meta.get_field("client")
    booking_slot = Booking._meta.get_field("slot")
    slot_therapist = Slot._meta.get_field("therapist")
    slots = []
    for row in rows:
        slot, booking, client = instances(row, _SLOT, _BOOKING, _CLIENT)
        slot_therapist.set_cached_value(slot, therapist)
        slot.live_bookings = []
        if booking is not None:
            booking._first_visit = bool(row[-1])
            booking_client.set_cached_value(booking, client)
            booking_slot.set_cached_value(booking, slot)
            slot.live_bookings.append(booking)
        slots.append(slot)
    return slots


def open_slots_for_viewer(
    therapist: Therapist | int,
    client: Client | None,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> QuerySet[Slot]:
    """The open future slots this viewer may see and book (R7–R9) inside the therapist's
    booking window (R35: `in_booking_window`), overlapping no busy time of her external calendar
    (R38: `not_busy`); none at all when the therapist is hidden from her."""
    now = now or timezone.now()
    slots = Slot.objects.filter(in_booking_window(now), therapist=therapist, start_at__gt=now).free().not_busy().open_to(client)
    if start is not None:
        slots = slots.filter(end_at__gt=start)
    if end is not None:
        slots = slots.filter(start_at__lt=end)
    return slots.order_by("start_at")


# What `open_slot_rows` reads of each slot, in this order; the API answers at most
# OPEN_SLOTS_AT_MOST of them (docs/api.md).
OPEN_SLOT_VALUES = ("pk", "start_at", "end_at", "price", "video", "onsite", "audience", "therapist__timezone")
OPEN_SLOTS_AT_MOST = 2000
# Markers for `rows.Compiled`: an id and moments that no call uses.
_NO_ID = -1_987_654_321
_NEVER = datetime(1901, 2, 3, 4, 5, 6, 7, tzinfo=UTC)


def _open_slot_values(therapist, client, now, start, end) -> QuerySet:
    viewer = None if client is None else Client(pk=client)
    slots = open_slots_for_viewer(therapist, viewer, start, end, now=now)
    return slots.values_list(*OPEN_SLOT_VALUES)[:OPEN_SLOTS_AT_MOST]


@cache
def _open_slot_read(vendor: str, anonymous: bool, from_start: bool, to_end: bool) -> Compiled:
    # One per shape: without a client the list's subquery is not in the SQL at all, and each
    # end of a window adds its condition.
    markers = {"therapist": _NO_ID, "now": _NEVER}
    markers |= {} if anonymous else {"client": _NO_ID - 1}
    markers |= {"start": _NEVER + timedelta(microseconds=1)} if from_start else {}
    markers |= {"end": _NEVER + timedelta(microseconds=2)} if to_end else {}
    defaults = {"client": None, "start": None, "end": None}
    return Compiled(lambda **given: _open_slot_values(**(defaults | given)), **markers)


def open_slot_rows(
    therapist_id: int, client: Client | None, start: datetime | None = None, end: datetime | None = None
) -> list[tuple]:
    """`open_slots_for_viewer`, the first OPEN_SLOTS_AT_MOST of them, as OPEN_SLOT_VALUES
    tuples, in one statement compiled once (`rows.Compiled`): the API's open slots, a hot read
    whose queryset cost more to build and compile than to run (docs/performance.md). A row
    means the therapist is there and visible to the viewer (R9: she may book that slot); no
    row leaves both open."""
    low, high = connection.ops.integer_field_range(Therapist._meta.pk.get_internal_type())
    if not low <= therapist_id <= high:  # as the ORM does: an id the column cannot hold is missing
        return []
    read = _open_slot_read(connection.vendor, client is None, start is not None, end is not None)
    values = {"therapist": therapist_id, "now": timezone.now(), "start": start, "end": end}
    if client is not None:
        values["client"] = client.pk
    return read.rows(**values)


def slots_open_for_new(now: datetime, mode: str | None = None, outer: bool = True) -> QuerySet[Slot]:
    """R9, R35, R38: the slots of one therapist that a new client could book at `now` (open to
    all, inside her booking window, free, not busy; of `mode` if given): the one definition of
    the listing's next open time, for a subquery whose outer query is Therapist (`outer`) or
    one that points to a therapist by `therapist_id` (the listing's refresh)."""
    # `Slot.objects.open_to(None)` in two halves: the therapists are those who take new clients
    # (outside), their slots those open to all (inside), so the subquery need not join each
    # therapist again (domain/tests/test_raw_reads.py holds the two equal).
    whose = OuterRef("pk") if outer else OuterRef("therapist_id")
    slots = Slot.objects.filter(
        OPEN_TO_ALL, in_booking_window(now, outer=outer), therapist=whose, start_at__gt=now
    ).free().not_busy()
    return slots.filter(**{mode: True}) if mode else slots


def therapist_listing_live(mode: str | None = None) -> QuerySet[Therapist]:
    """R9: therapists with Client Booster, each with the soonest open time a new client can
    book (`next_available`: inside her booking window, R35), soonest first; those with none
    last — computed now, for every one of them. The definition `Listing` keeps (and its tests'
    oracle); the surfaces read `therapist_listing`."""
    now = timezone.now()
    open_for_new = slots_open_for_new(now, mode)
    first = open_for_new.order_by("start_at").values("start_at")[:1]
    therapists = Therapist.objects.boosted().select_related("user")
    if mode == VIDEO:
        therapists = therapists.filter(Q(default_video=True) | Exists(open_for_new))
    elif mode:
        therapists = therapists.filter(Q(default_onsite=True) | Exists(open_for_new))
    return therapists.annotate(next_available=Subquery(first)).order_by(
        F("next_available").asc(nulls_last=True), "user__last_name", "pk"
    )


def client_search(therapist: Therapist, q: str = "") -> QuerySet[Client]:
    """R13: the therapist's clients whose first name starts with `q`, ignoring case and
    accents; namesakes are told apart by the personnummer the surfaces show."""
    clients = Client.objects.filter(therapist_links__therapist=therapist).annotate(
        source=F("therapist_links__source")
    )
    if "\x00" in q:
        return Client.objects.none()  # no name holds one, and PostgreSQL cannot compare it
    if q.strip():
        clients = clients.filter(search_name__startswith=fold(q))
    return clients.order_by("search_name", "last_name", "pk")


def bookings_for_client(client: Client) -> QuerySet[Booking]:
    """R21: her own bookings, newest start first, with what the confirmation said."""
    return (
        Booking.objects.filter(client=client)
        .select_related("therapist__user", "client")
        .with_first_visit()
        .order_by("-start_at")
    )


def bookings_visible_to(user) -> QuerySet[Booking]:
    """A booking is seen by its client and its therapist, and by nobody else."""
    who = Q(pk__in=[])
    if therapist := getattr(user, "therapist", None):
        who |= Q(therapist=therapist)
    if client := getattr(user, "client", None):
        who |= Q(client=client)
    return Booking.objects.filter(who)


def booking_for_video_link(token: str) -> tuple[Booking, str] | None:
    """R29: the live video booking that either party's link names, and whose link it is
    (`video.CLIENT` or `video.THERAPIST`); None for an unknown key, a cancelled booking and
    an on-site one. Both keys are unique columns, so this is one indexed lookup."""
    booking = (
        Booking.objects.live()
        .select_related("therapist__user")
        .filter(Q(video_token=token) | Q(therapist_video_token=token), mode=VIDEO)
        .first()
    )
    if booking is None:
        return None
    return booking, (video.THERAPIST if booking.therapist_video_token == token else video.CLIENT)


def slot_history(slot: Slot) -> QuerySet[AuditEntry]:
    """What happened to one slot, oldest first: made, moved, re-priced, booked, cancelled
    (the audit trail keeps the slot's id, so a cancelled booking's entries stay with it). A
    client's move of her booking (R33) is written on the slot she moved to and shows in the
    history of the one she left as well (its `before` names that slot)."""
    return (
        AuditEntry.objects.filter(
            Q(slot_id=slot.pk) | Q(action="booking.moved", before__slot_id=slot.pk), therapist_id=slot.therapist_id
        )
        .select_related("actor")
        .order_by("at", "id")
    )


def booking_moves(booking: Booking) -> QuerySet[AuditEntry]:
    """The times a booking was moved, oldest first: by its client (R33, `booking.moved`) or
    with its slot by the therapist (R18, `booking.rescheduled`); each entry's before and after
    hold the times. What her booking's page lists."""
    return (
        AuditEntry.objects.filter(
            target_type="booking", target_id=booking.pk, action__in=("booking.moved", "booking.rescheduled")
        )
        .order_by("at", "id")
    )


def bookings_of_client_with(therapist: Therapist, client: Client) -> QuerySet[Booking]:
    """One client's bookings with this therapist only (never her other therapists'), the
    latest start first, each with its first-visit mark (R15)."""
    return (
        Booking.objects.filter(therapist=therapist, client=client)
        .select_related("client")
        .with_first_visit()
        .order_by("-start_at")
    )


def upcoming_and_past(bookings, now: datetime) -> tuple[list[Booking], list[Booking]]:
    """Bookings read latest first, split at `now` by their end: those not over yet, the
    soonest first, and those over, the latest first (R21's list; her client's page)."""
    bookings = list(bookings)
    return [b for b in reversed(bookings) if b.end_at > now], [b for b in bookings if b.end_at <= now]


def outcome_counts(bookings) -> list[dict]:
    """R34: per outcome (in `Outcome`'s order) its words and how many of these bookings have it."""
    counts = Counter(b.outcome for b in bookings if b.outcome)
    return [{"value": o.value, "label": o.label, "count": counts[o.value]} for o in Outcome]


# R9's listing, read from the stored `Listing` rows: the column each kind is ordered by.
LISTING_COLUMNS = {None: "next_any", VIDEO: "next_video", ONSITE: "next_onsite"}
LISTING_LIMIT, LISTING_MAX_LIMIT = 50, 200


@dataclass(frozen=True)
class ListingPage:
    therapists: list[Therapist]  # each with `next_available` (None: no time to offer)
    cursor: str | None  # where the next page starts; None on the last page


def therapist_listing(
    mode: str | None = None, *, city: str = "", language: str = "", area: str = ""
) -> QuerySet[Therapist]:
    """R9: therapists with Client Booster (in the listing of `mode`: those who meet that way
    by default or have such a time), each with her soonest time a new client can book
    (`next_available`), soonest first, those with none last, then by last name: what
    `therapist_listing_live` computes, read from `Listing` (kept by `services.listing`), in the
    order of its index for `mode`. Narrowed to a city, a language code and an area of help,
    each ignoring case and accents (blank: any), in SQL (`Therapist.search_tags`), so that the
    pages of a filtered listing are right."""
    column = f"listing__{LISTING_COLUMNS[mode]}"
    therapists = Therapist.objects.filter(listing__listed=True)
    if mode:
        therapists = therapists.filter(Q(**{f"listing__{mode}": True}) | Q(**{f"{column}__lt": NEVER}))
    if city.strip():
        therapists = therapists.filter(city__iexact=city.strip())
    for kind, value in (("language", language), ("area", area)):
        if value.strip():
            therapists = therapists.filter(search_tags__contains=tag(kind, value))
    return therapists.select_related("user").annotate(
        next_available=Case(When(**{f"{column}__lt": NEVER}, then=F(column)), output_field=DateTimeField()),
        listing_key=F(column), listing_name=F("listing__last_name"),
    ).order_by(column, "listing__last_name", "listing__pk")


def listing_page(mode: str | None = None, *, cursor: str = "", limit: int = LISTING_LIMIT, **filters) -> ListingPage:
    """One page of `therapist_listing` (keyset: after the row that `cursor` names, so a page
    costs the same wherever it lies). ValidationError naming `cursor` for one that was not
    made by this listing for this `mode`."""
    therapists = therapist_listing(mode, **filters)
    if cursor:
        at, name, pk = _listing_after(cursor, mode)
        column = f"listing__{LISTING_COLUMNS[mode]}"
        therapists = therapists.filter(
            Q(**{f"{column}__gt": at}) | Q(**{column: at, "listing__last_name__gt": name})
            | Q(**{column: at, "listing__last_name": name, "listing__pk__gt": pk}),
            **{f"{column}__gte": at},  # the start of the index range; the rest picks inside it
        )
    rows = list(therapists[: limit + 1])
    if len(rows) <= limit:
        return ListingPage(rows, None)
    last = rows[limit - 1]
    return ListingPage(rows[:limit], _listing_cursor(last, mode))


def _listing_cursor(last: Therapist, mode: str | None) -> str:
    """Signed, so a cursor is one this server made (no probing of the index with made-up keys)."""
    key = [last.listing_key.isoformat(), last.listing_name, last.pk, mode or ""]
    return signing.dumps(key, salt=CURSOR_SALT)


CURSOR_SALT = "tidbok.listing.cursor"


def _listing_after(cursor: str, mode: str | None) -> tuple[datetime, str, int]:
    try:
        at, name, pk, its_mode = signing.loads(cursor, salt=CURSOR_SALT)
        if its_mode != (mode or ""):
            raise ValueError(its_mode)
        return datetime.fromisoformat(at), str(name), int(pk)
    except (signing.BadSignature, ValueError, TypeError) as e:
        raise ValidationError({"cursor": _(
            "This is not a cursor of this listing: start again from its first page."
        )}) from e


def listing_choices() -> dict[str, list[str]]:
    """The cities, language codes and areas that boosted therapists name, for the filters."""
    cities, languages, areas = {}, {}, {}
    boosted = Therapist.objects.boosted().order_by("pk")
    for city, langs, their_areas in boosted.values_list("city", "languages", "areas"):
        if city.strip():
            cities.setdefault(fold(city.strip()), city.strip())
        for code in langs or []:
            languages.setdefault(fold(str(code)), str(code))
        for a in their_areas or []:
            areas.setdefault(fold(str(a)), str(a))
    return {key: sorted(d.values(), key=fold) for key, d in
            (("cities", cities), ("languages", languages), ("areas", areas))}


def access_log_of(client: Client) -> QuerySet[AccessRecord]:
    """R39: every read of her personal data by someone else, newest first (the index
    `access_client_at`)."""
    return AccessRecord.objects.filter(client_id=client.pk).order_by("-at", "-id")


def access_log_lines(records) -> list[dict]:
    """The records as the client reads them, in the active language: when, who (her role and
    name) and what, through which surface. A therapist is named (the log is there so that she
    knows who read); staff are "Tidbok staff": they read as the service, not as persons, and a
    staff member's name would expose an employee to the clients she serves, while the admin
    keeps the id for an inquiry. A therapist whose account is gone has no name left to give.
    One query for the names of a page's readers."""
    records = list(records)
    therapist_ids = {r.actor_id for r in records if r.role == AccessRecord.Role.THERAPIST}
    names = {
        pk: f"{first} {last}".strip()
        for pk, first, last in User.objects.filter(pk__in=therapist_ids).values_list("pk", "first_name", "last_name")
    }
    lines = []
    for r in records:
        if r.role == AccessRecord.Role.STAFF:
            name = _("Tidbok staff")
        else:
            name = names.get(r.actor_id) or _("A therapist whose account is closed")
        what = _("%(what)s, through %(surface)s") % {"what": r.get_what_display(), "surface": r.get_surface_display()}
        lines.append({"at": r.at, "role": r.role, "name": name, "what": what})
    return lines
