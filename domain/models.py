"""Tidbok's truth: people, slots, bookings, the audit trail and the mail outbox.

Times are stored in UTC (R22); a therapist's zone is used only to show and read times.
Rules that the database can hold are constraints here; the services in `domain.services`
check them first for a friendly error, the constraints stay behind them for the truth."""

import hashlib
import secrets
import zoneinfo
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import connection, models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from .rows import condition_holds, condition_sql

VIDEO, ONSITE = "video", "onsite"
MODES = (VIDEO, ONSITE)
ALL, EXISTING = "all", "existing"

DEFAULT_TIMEZONE = "Europe/Stockholm"
MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 12 * 60
MAX_PRICE = 100_000
# R18: the longest cut-off a therapist may set (two weeks); the settings service and its form
# read it here.
MAX_CANCELLATION_CUTOFF_HOURS = 14 * 24
# R35: the booking window a therapist may set. Clients book a slot only if it starts at least
# `min_notice_hours` from now (0: up to its start) and less than `booking_horizon_days` ahead.
# The settings service, its form, the API and the check constraints read these.
DEFAULT_MIN_NOTICE_HOURS = 12
MAX_MIN_NOTICE_HOURS = 30 * 24
DEFAULT_BOOKING_HORIZON_DAYS = 90
MIN_BOOKING_HORIZON_DAYS = 1
MAX_BOOKING_HORIZON_DAYS = 2 * 365
# R32: a weekly series books 2 to 52 weeks at the same wall-clock time.
MIN_SERIES_WEEKS = 2
MAX_SERIES_WEEKS = 52
# R36: the longest stretch of time off at once.
MAX_TIME_OFF_DAYS = 366

# The longest each typed text may be: the model's column, the forms, the API's schemas and the
# services' checks all read these (one number each).
NAME_MAX_LENGTH = 150  # a person's first or last name (Django's User has the same)
EMAIL_MAX_LENGTH = 254  # RFC 5321's longest address, Django's EmailField default
PHONE_MAX_LENGTH = 40
PERSONNUMMER_TYPED_MAX_LENGTH = 20  # as typed, with spaces or a dash; stored normalised (13)
PASSWORD_MAX_LENGTH = 256
TIMEZONE_MAX_LENGTH = 64
TITLE_MAX_LENGTH = 120
CITY_MAX_LENGTH = 80
RECEPTION_ADDRESS_MAX_LENGTH = 2000
PERSONAL_INFO_MAX_LENGTH = 2000
PRESENTATION_MAX_LENGTH = 5000
TIME_OFF_NOTE_MAX_LENGTH = 200
# R38: the external busy calendar's address, and the longest busy row stored (longer events are
# kept as pieces of at most this, so "does a busy time overlap [s, e)" reads only the index
# range start_at in (s - BUSY_PIECE, e) of `busy_therapist_start`).
BUSY_URL_MAX_LENGTH = 2000
BUSY_TITLE_MAX_LENGTH = 200
BUSY_PIECE = timedelta(days=1)


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Mode(models.TextChoices):
    VIDEO = VIDEO, _("Video")
    ONSITE = ONSITE, _("On site")


class Audience(models.TextChoices):
    ALL = ALL, _("Available to all")
    EXISTING = EXISTING, _("Existing clients only")


# What each kind of meeting and audience is called wherever it is shown: `Mode` and
# `Audience` hold the labels (forms, the therapist's calendar, the admin); a sentence of the
# slot's history says them in lower case; a client reads "video call". Templates use the
# properties below (`get_mode_display`, `mode_labels`, `kinds_for_client`, …), never a
# comparison with "video" of their own.
MODE_IN_SENTENCE = {VIDEO: _("video"), ONSITE: _("on site")}
MODE_FOR_CLIENTS = {VIDEO: _("Video call"), ONSITE: _("On site")}
AUDIENCE_IN_SENTENCE = {ALL: _("available to all"), EXISTING: _("existing clients only")}


class Outcome(models.TextChoices):
    """R34: what happened at a visit, recorded by the therapist once it has begun (`Booking.outcome`;
    the one definition of the values and their words)."""

    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("No-show")
    LATE_CANCELLED = "late_cancelled", _("Late cancellation")


class Language(models.TextChoices):
    SV = "sv", "Svenska"
    EN = "en", "English"


class EmailUserManager(UserManager):
    use_in_migrations = True

    def _create_user(self, username, email, password, **extra_fields):
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(None, email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        # Made by an operator on the server, not through a form: the address is hers.
        extra_fields.setdefault("email_verified", True)
        return self._create_user(None, email, password, **extra_fields)


class User(AbstractUser):
    """A login. Therapists and clients each have one; staff use the admin.
    E-mail is the login name, stored lower-case."""

    username = None
    email = models.EmailField(_("e-mail"), unique=True)
    language = models.CharField(_("language"), max_length=2, choices=Language, default=Language.SV)
    # R27: an address is trusted, and the account may log in with its password, only once a
    # mailed link to it was followed (a verification, an invitation or a set-password link).
    email_verified = models.BooleanField(_("e-mail verified"), default=False)
    # Consent: the version of the privacy policy (`domain.privacy.POLICY_VERSION`) she accepted
    # at sign-up, and when. Empty for an account made before the policy or by an API sign-up
    # that did not state it (docs/privacy.md).
    privacy_policy_version = models.CharField(_("privacy policy accepted (version)"), max_length=20, blank=True)
    privacy_policy_accepted_at = models.DateTimeField(_("privacy policy accepted"), null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    objects = EmailUserManager()

    def save(self, *args, **kwargs):
        """R28: a new password ends every API token of the account (and, since the session's
        hash is made from the password, every session but the one that updates it)."""
        password_changed = self.pk is not None and self._password is not None
        renamed = not self._state.adding and "last_name" in (kwargs.get("update_fields") or {"last_name"})
        super().save(*args, **kwargs)
        if password_changed:
            ApiToken.objects.filter(user=self).delete()
        if renamed:  # the listing's order keeps a copy of a therapist's last name (`Listing`)
            Listing.objects.filter(therapist__user=self).update(last_name=self.last_name)

    @property
    def role(self) -> str | None:
        if hasattr(self, "therapist"):
            return "therapist"
        if hasattr(self, "client"):
            return "client"
        return None


class TherapistQuerySet(models.QuerySet):
    def boosted(self):
        """R9: the therapists a new client may find (the listing, matching)."""
        return self.filter(ACCEPTS_NEW_CLIENTS)


# R8, R9 — who may see and book what: the one definition, as ORM conditions. A therapist with
# Client Booster takes new clients; her own clients (on her list, R12) see all her slots, and
# anybody else sees only her slots open to all, and only while she has Client Booster.
ACCEPTS_NEW_CLIENTS = Q(client_booster=True)
OPEN_TO_ALL = Q(audience=ALL)  # R7: a slot for everyone, not for her existing clients only


def _through(relation: str, condition: Q) -> Q:
    """A flat condition on a related model, as seen from the model that points to it."""
    return Q(*[(f"{relation}__{lookup}", value) for lookup, value in condition.children], _connector=condition.connector)


def list_entries(client: "Client | None", therapist):
    """The entry of `client` on the list (R12) of `therapist` (an id, an instance or an
    OuterRef), if any."""
    if client is None or client.pk is None:
        return ClientLink.objects.none()
    return ClientLink.objects.filter(therapist=therapist, client=client)


def on_list_of(client: "Client | None", therapist) -> models.Exists | Q:
    """Whether `client` is on the list of `therapist`, as a condition."""
    if client is None or client.pk is None:
        return Q(pk__in=[])
    return models.Exists(list_entries(client, therapist))


def slot_open_to(client: "Client | None") -> Q:
    """R8, R9 for a Slot query: `client` is on the therapist's list (she sees every slot), or
    the slot is open to all and its therapist takes new clients (an existing-only slot does not
    exist for anybody else)."""
    new_client = OPEN_TO_ALL & _through("therapist", ACCEPTS_NEW_CLIENTS)
    return Q(on_list_of(client, models.OuterRef("therapist"))) | new_client


def on_list_sql(therapist: str, client: str) -> str:
    """`on_list_of` for hand-written SQL: whether the client whose id is the SQL expression
    `client` is on the list of the therapist whose id is `therapist`."""
    links = connection.ops.quote_name(ClientLink._meta.db_table)
    return f"EXISTS (SELECT 1 FROM {links} l WHERE l.therapist_id = {therapist} AND l.client_id = {client})"


def slot_open_to_sql(slot: str, therapist: str, on_list: str) -> tuple[str, list]:
    """`slot_open_to` for hand-written SQL, made from the same conditions: the slot under the
    alias `slot`, its therapist under `therapist`, and `on_list` (`on_list_sql`). Proved to
    answer as the ORM does by domain/tests/test_raw_reads.py."""
    open_to_all, params = condition_sql(Slot, OPEN_TO_ALL, slot)
    takes_new, more = condition_sql(Therapist, ACCEPTS_NEW_CLIENTS, therapist)
    return f"({on_list} OR ({open_to_all} AND {takes_new}))", params + more


HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def _times(field, unit: timedelta):
    """A therapist's whole-number field (`F` or `OuterRef`) times `unit`, as a duration (read
    as a plain integer first: SQLite's duration arithmetic refuses a PositiveIntegerField)."""
    number = models.ExpressionWrapper(field, output_field=models.IntegerField())
    return models.ExpressionWrapper(number * models.Value(unit), output_field=models.DurationField())


def in_booking_window(at, outer: bool = False) -> Q:
    """R35 for a Slot query: the slot starts inside its therapist's booking window as seen at
    `at` (a client may book it then): at least her minimum notice after `at` and less than her
    horizon after it. `outer`: the therapists are the outer query (a subquery of Therapist
    with `therapist=OuterRef("pk")`), so her fields are read there without a join. The one
    definition; `Therapist.booking_window` is its twin for a therapist in hand, proved to
    answer the same by domain/tests/test_raw_reads.py."""
    earliest, latest = booking_window_bounds(at, outer)
    return Q(start_at__gte=earliest, start_at__lt=latest)


def booking_window_bounds(at, outer: bool = False) -> tuple:
    """`in_booking_window`'s two ends as expressions: the first start a client may book at
    `at` and the first she may not (`at` is a moment or an expression)."""
    field = models.OuterRef if outer else (lambda name: models.F(f"therapist__{name}"))
    start = at if hasattr(at, "resolve_expression") else models.Value(at, output_field=models.DateTimeField())
    earliest = start + _times(field("min_notice_hours"), HOUR)
    latest = start + _times(field("booking_horizon_days"), DAY)
    return (models.ExpressionWrapper(earliest, output_field=models.DateTimeField()),
            models.ExpressionWrapper(latest, output_field=models.DateTimeField()))


class Therapist(models.Model):
    user = models.OneToOneField(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="therapist")
    timezone = models.CharField(_("time zone"), max_length=TIMEZONE_MAX_LENGTH, default=DEFAULT_TIMEZONE)
    default_duration_minutes = models.PositiveIntegerField(_("default length (minutes)"), default=45)
    default_price = models.PositiveIntegerField(_("default price (kr)"), default=1000)
    default_video = models.BooleanField(_("video by default"), default=True)
    default_onsite = models.BooleanField(_("on site by default"), default=True)
    default_audience = models.CharField(_("default audience"), max_length=8, choices=Audience, default=Audience.ALL)
    reception_address = models.TextField(_("reception address"), blank=True)
    personal_info = models.TextField(_("information for on-site visits"), blank=True)
    client_booster = models.BooleanField(
        _("Client Booster"),
        default=False, help_text=_("Listed and matchable for new clients (R9). Switched by staff.")
    )
    # How long before the start a client may still cancel herself (R18; after it she is told
    # to contact the therapist).
    cancellation_cutoff_hours = models.PositiveIntegerField(_("cancellation cut-off (hours before)"), default=24)
    # R35: the booking window: how soon before a slot's start and how far ahead clients may book.
    min_notice_hours = models.PositiveIntegerField(_("minimum notice (hours)"), default=DEFAULT_MIN_NOTICE_HOURS)
    booking_horizon_days = models.PositiveIntegerField(_("booking horizon (days)"), default=DEFAULT_BOOKING_HORIZON_DAYS)
    # The public profile (R9: listing and matching).
    title = models.CharField(_("professional title"), max_length=TITLE_MAX_LENGTH, blank=True)
    presentation = models.TextField(_("presentation"), blank=True)
    city = models.CharField(_("city"), max_length=CITY_MAX_LENGTH, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True, help_text=_("Language codes, e.g. [\"sv\", \"en\"]"))
    areas = models.JSONField(
        _("areas of help"), default=list, blank=True, help_text=_("Areas of help, e.g. [\"anxiety\", \"stress\"]")
    )
    # R30: she is told by e-mail when a client books, cancels or moves (she may turn it off).
    notify_by_email = models.BooleanField(_("notify by e-mail"), default=True)
    # How clients reach her: the Reply-To of their mails and what the pages show after the
    # cut-off. Empty: her log-in address (`contact_address`).
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=PHONE_MAX_LENGTH, blank=True)
    # The private iCalendar feed (subscribe from a phone); regenerating the token revokes the old URL.
    calendar_feed_token = models.CharField(_("calendar feed key"), max_length=64, unique=True, default=new_token, editable=False)
    # R38: her external calendar (an iCalendar address), fetched by `services.busy`.
    busy_calendar_url = models.CharField(_("busy calendar address"), max_length=BUSY_URL_MAX_LENGTH, blank=True)
    busy_show_titles = models.BooleanField(_("show the titles of busy times"), default=False)
    busy_synced_at = models.DateTimeField(_("busy calendar fetched"), null=True, blank=True)
    busy_parsed_at = models.DateTimeField(_("busy calendar read"), null=True, blank=True)
    busy_error = models.TextField(_("busy calendar error"), blank=True)
    busy_etag = models.CharField(_("busy calendar ETag"), max_length=200, blank=True)
    busy_last_modified = models.CharField(_("busy calendar Last-Modified"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=now)
    # Her languages and areas folded (`search.fold`), each as "|language:sv|", "|area:stress|":
    # what "Hitta terapeut" filters on in SQL (SQLite cannot search inside a JSON list), kept
    # by `save` from the two lists.
    search_tags = models.TextField(_("search tags"), blank=True, editable=False)

    objects = TherapistQuerySet.as_manager()

    class Meta:
        verbose_name = _("therapist")
        verbose_name_plural = _("therapists")
        constraints = [
            models.CheckConstraint(
                condition=Q(default_video=True) | Q(default_onsite=True), name="therapist_default_mode"
            ),
            models.CheckConstraint(
                condition=Q(default_duration_minutes__gte=MIN_DURATION_MINUTES)
                & Q(default_duration_minutes__lte=MAX_DURATION_MINUTES),
                name="therapist_default_duration_range",
            ),
            # R35 in the database: the window's bounds (the settings service checks them first).
            models.CheckConstraint(
                condition=Q(min_notice_hours__gte=0) & Q(min_notice_hours__lte=MAX_MIN_NOTICE_HOURS),
                name="therapist_min_notice_range",
            ),
            models.CheckConstraint(
                condition=Q(booking_horizon_days__gte=MIN_BOOKING_HORIZON_DAYS)
                & Q(booking_horizon_days__lte=MAX_BOOKING_HORIZON_DAYS),
                name="therapist_booking_horizon_range",
            ),
        ]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        """Keeps `search_tags`; a new therapist gets her listing row (`Listing`), computed."""
        self.search_tags = search_tags(self.languages, self.areas)
        fields = kwargs.get("update_fields")
        if fields is not None and {"languages", "areas"} & set(fields):
            kwargs["update_fields"] = {*fields, "search_tags"}
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            from .services.listing import listing_refresh

            Listing.objects.create(therapist=self, last_name=self.user.last_name)
            listing_refresh([self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.user.first_name} {self.user.last_name}".strip()

    @property
    def first_name(self) -> str:
        return self.user.first_name

    @property
    def last_name(self) -> str:
        return self.user.last_name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        from .timezones import zone

        return zone(self.timezone)

    @property
    def contact_address(self) -> str:
        return self.contact_email or self.user.email

    @property
    def default_modes(self) -> list[str]:
        return modes_list(self.default_video, self.default_onsite)

    def booking_window(self, at=None) -> tuple:
        """R35 (`in_booking_window`) for this therapist in hand: the first and the last-but-not-
        included start a client may book at `at` (default now)."""
        at = at or now()
        return at + self.min_notice_hours * HOUR, at + self.booking_horizon_days * DAY

    def bookable_by_clients(self, start_at, at=None) -> bool:
        """Whether a slot starting at `start_at` lies inside her booking window (R35)."""
        earliest, latest = self.booking_window(at)
        return earliest <= start_at < latest

    @property
    def meets_for_client(self) -> str:
        """How she meets, as her profile and card tell a client."""
        if self.default_video and self.default_onsite:
            return _("Video call and on site")
        return MODE_FOR_CLIENTS[VIDEO if self.default_video else ONSITE]

    def price_for(self, duration_minutes: int) -> int:
        """R5: the settings' price in proportion to the length, rounded to whole kronor
        (half up, so 1000 kr / 45 min gives 2000 kr for 90 min and 22 kr for 1 min)."""
        exact = Decimal(self.default_price) * duration_minutes / self.default_duration_minutes
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def minutes_between(start: datetime, end: datetime) -> int:
    """A slot's or a booking's length in whole minutes (`duration_minutes`)."""
    return int((end - start) / timedelta(minutes=1))


def search_tags(languages, areas) -> str:
    """`Therapist.search_tags` for these lists; `tag` makes the needle to look for."""
    return "".join(tag(kind, value) for kind, values in (("language", languages), ("area", areas)) for value in values or [])


def tag(kind: str, value) -> str:
    from .search import fold

    return f"|{kind}:{fold(str(value).strip())}|"


# What a listing column holds when there is no time to offer: later than any slot, so that
# "those with none last" is the plain order of one index on SQLite and PostgreSQL alike (the
# two sort NULL at opposite ends); the reads show it as no time (None).
NEVER = datetime(9000, 1, 1, tzinfo=UTC)


class Listing(models.Model):
    """R9 at country scale: a therapist's place in the listing, kept by
    `services.listing.listing_refresh` in the same transaction as every change that can move
    it, and by the periodic job once `valid_until` has passed. `next_*` are what
    `selectors.therapist_listing_live` computes (the soonest open-to-all time a new client can
    book, any kind, video, on site; `NEVER` for none); `listed` is her Client Booster, `video`
    and `onsite` her default kinds, `last_name` her user's (the order's tie-break, so that one
    index per kind serves a page: `listing_page`)."""

    therapist = models.OneToOneField(
        Therapist, verbose_name=_("therapist"), on_delete=models.CASCADE, primary_key=True, related_name="listing"
    )
    listed = models.BooleanField(_("listed"), default=False)
    video = models.BooleanField(_("video by default"), default=True)
    onsite = models.BooleanField(_("on site by default"), default=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    next_any = models.DateTimeField(_("next open time"), default=NEVER)
    next_video = models.DateTimeField(_("next open time, video"), default=NEVER)
    next_onsite = models.DateTimeField(_("next open time, on site"), default=NEVER)
    # The moment the values may change by time alone: her first listed time leaves the window
    # (its start minus her notice), or a later slot enters it (its start minus her horizon),
    # whichever comes first. Empty: only a write can change them.
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("listing entry")
        verbose_name_plural = _("listing entries")
        indexes = [
            models.Index(fields=[f, "last_name", "therapist"], condition=Q(listed=True), name=f"listing_{f}")
            for f in ("next_any", "next_video", "next_onsite")
        ] + [models.Index(fields=["valid_until"], name="listing_valid_until")]


def modes_list(video: bool, onsite: bool) -> list[str]:
    return [m for m, on in ((VIDEO, video), (ONSITE, onsite)) if on]


class Client(models.Model):
    """A client: either a platform account's client profile (`user` set), or a therapist's own
    record of a client (R12) that nobody has joined yet (`user` empty, on exactly one list).

    R26: a typed personnummer proves nothing. A record holds what its therapist typed and is
    joined to a platform account only when the person follows the invitation mailed to the
    address typed, or logs in with an eID whose verified personnummer matches
    (`domain.services.clients`). So several clients may carry one unverified personnummer; a
    verified one is unique (constraint)."""

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.SET_NULL, null=True, blank=True, related_name="client"
    )
    personnummer = models.CharField(_("personnummer"), max_length=13, blank=True, help_text="YYYYMMDD-NNNN")
    personnummer_verified = models.BooleanField(
        _("personnummer verified"),
        default=False, help_text=_("Proven by an eID log-in; otherwise only typed.")
    )
    first_name = models.CharField(_("first name"), max_length=NAME_MAX_LENGTH)
    last_name = models.CharField(_("last name"), max_length=NAME_MAX_LENGTH)
    # Lower-cased accent-free first name: the key of R13's prefix search, which must ignore
    # case and accents ("ase" finds "Åse") on SQLite and PostgreSQL alike.
    search_name = models.CharField(_("search name"), max_length=NAME_MAX_LENGTH, db_index=True, editable=False)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=PHONE_MAX_LENGTH, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language, default=Language.SV)
    created_at = models.DateTimeField(_("created"), default=now)
    # R41: set on a placeholder that stands for an erased person's past bookings (or a record
    # whose retention period ended): no name, personnummer or address is left in it.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            models.UniqueConstraint(
                fields=["personnummer"], condition=Q(personnummer_verified=True),
                name="client_verified_personnummer_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["search_name", "last_name"], name="client_search"),
            models.Index(fields=["personnummer"], name="client_personnummer"),
            models.Index(fields=["email"], name="client_email"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    def save(self, *args, **kwargs):
        from .search import fold

        self.search_name = fold(self.first_name)
        if kwargs.get("update_fields") is not None and "first_name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_name"}
        super().save(*args, **kwargs)


class ClientLink(models.Model):
    """A client on a therapist's list (R12): `platform` when she came by booking through
    Tidbok, `own` when the therapist added her."""

    class Source(models.TextChoices):
        PLATFORM = "platform", _("Platform")
        OWN = "own", _("Own")

    therapist = models.ForeignKey(Therapist, verbose_name=_("therapist"), on_delete=models.CASCADE, related_name="client_links")
    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="therapist_links")
    source = models.CharField(_("source"), max_length=8, choices=Source)
    created_at = models.DateTimeField(_("added"), default=now)

    class Meta:
        verbose_name = _("client on a list")
        verbose_name_plural = _("clients on lists")
        constraints = [models.UniqueConstraint(fields=["therapist", "client"], name="client_link_unique")]


def overlapping_any(ranges) -> Q:
    """Rows (`start_at`, `end_at`: a slot, time off) that share a moment with any of the
    [start, end) `ranges`: touching ends do not overlap (R11, R36)."""
    condition = Q(pk__in=[])
    for start, end in ranges:
        condition |= Q(start_at__lt=end, end_at__gt=start)
    return condition


class SlotQuerySet(models.QuerySet):
    def overlapping(self, start, end):
        """Slots that share any moment with [start, end): adjacent slots do not overlap."""
        return self.filter(overlapping_any([(start, end)]))

    def not_busy(self):
        """R38: slots that overlap no busy time of their therapist's external calendar
        (`BusyTime.overlapping_q`: one bounded index range read per slot)."""
        return self.exclude(models.Exists(BusyTime.objects.overlapping_slot()))

    def free(self):
        """Slots without a live booking (R14: a slot with one is booked, whatever else)."""
        return self.exclude(models.Exists(Booking.objects.live().filter(slot=models.OuterRef("pk"))))

    def open_to(self, client: "Client | None"):
        """R8, R9: the slots `client` (None: a visitor) may see and book, booked or not:
        `slot_open_to`."""
        return self.filter(slot_open_to(client))

    def with_live_booking(self):
        return self.prefetch_related(
            models.Prefetch(
                "bookings",
                queryset=Booking.objects.live().with_first_visit().select_related("client"),
                to_attr="live_bookings",
            )
        )


class Slot(models.Model):
    """An open or booked time in a therapist's calendar. Never overlaps another of hers (R11):
    the services check under a lock, and on PostgreSQL an exclusion constraint (added in a
    migration that runs only there) holds it as well."""

    therapist = models.ForeignKey(Therapist, verbose_name=_("therapist"), on_delete=models.CASCADE, related_name="slots")
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"))
    price = models.PositiveIntegerField(_("price (kr)"))
    video = models.BooleanField(_("video"), default=True)
    onsite = models.BooleanField(_("on site"), default=True)
    audience = models.CharField(_("audience"), max_length=8, choices=Audience, default=Audience.ALL)
    created_at = models.DateTimeField(_("created"), default=now)
    updated_at = models.DateTimeField(_("updated"), default=now)

    objects = SlotQuerySet.as_manager()

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=models.F("start_at")), name="slot_end_after_start"),
            models.CheckConstraint(condition=Q(video=True) | Q(onsite=True), name="slot_offers_a_mode"),
            models.CheckConstraint(condition=Q(audience__in=[ALL, EXISTING]), name="slot_audience_valid"),
        ]
        indexes = [
            models.Index(fields=["therapist", "start_at"], name="slot_therapist_start"),
            models.Index(fields=["start_at"], name="slot_start"),
        ]

    def __str__(self):
        return f"{self.therapist} {self.start_at:%Y-%m-%d %H:%M}"

    @property
    def duration_minutes(self) -> int:
        return minutes_between(self.start_at, self.end_at)

    @property
    def modes(self) -> list[str]:
        return modes_list(self.video, self.onsite)

    def offers(self, mode: str) -> bool:
        return mode in self.modes

    @property
    def mode_choices(self) -> list[tuple[str, str]]:
        """The kinds it offers with their labels: (value, label) for a form's radio buttons."""
        return [(m, Mode(m).label) for m in self.modes]

    @property
    def mode_labels(self) -> list[str]:
        return [label for _m, label in self.mode_choices]

    @property
    def kinds_for_client(self) -> str:
        """What a client is offered, in her words."""
        if self.video and self.onsite:
            return _("Video or on site")
        return MODE_FOR_CLIENTS[VIDEO if self.video else ONSITE]

    @property
    def live_booking(self) -> "Booking | None":
        """The confirmed booking, if any; uses `with_live_booking()`'s prefetch when there."""
        if hasattr(self, "live_bookings"):
            return self.live_bookings[0] if self.live_bookings else None
        return self.bookings.live().with_first_visit().select_related("client").first()

    @property
    def color(self) -> str:
        """R2, R7, R14, R15: green open to all, blue existing-only, red booked, yellow a
        first visit."""
        booking = self.live_booking
        if booking:
            return "yellow" if booking.first_visit else "red"
        return "blue" if self.audience == EXISTING else "green"


class BookingQuerySet(models.QuerySet):
    def live(self):
        """The bookings that stand (R14, R16): confirmed, not cancelled (`LIVE_BOOKING`)."""
        return self.filter(LIVE_BOOKING)

    def earlier_than(self, client, start_at):
        """R15: the live bookings of `client` (an instance, an id or an OuterRef) that start
        before `start_at`, with any therapist: any one of them makes a booking at `start_at`
        no first visit. The one definition of R15 (`earlier_than_sql` is its SQL twin)."""
        return self.live().filter(client=client, start_at__lt=start_at)

    def with_first_visit(self):
        """R15: a booking is a first visit when it is live and no other live booking of that
        client, with any therapist, starts earlier (`earlier_than`). Computed when read, so a
        cancellation of an earlier booking makes the next one the first visit again."""
        earlier = Booking.objects.earlier_than(models.OuterRef("client"), models.OuterRef("start_at"))
        # A cancelled booking is no first visit, as `Booking.first_visit` says when not annotated.
        return self.annotate(
            _first_visit=models.ExpressionWrapper(LIVE_BOOKING & ~models.Exists(earlier), output_field=models.BooleanField())
        )


class Booking(models.Model):
    """A client's appointment in a slot. While confirmed it follows its slot (a move of the
    slot moves the booking: R18); it keeps its own time and price so that a cancelled booking
    still says what it was for after the slot is moved, re-priced or removed."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    slot = models.ForeignKey(
        Slot, verbose_name=_("slot"), on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings"
    )
    therapist = models.ForeignKey(Therapist, verbose_name=_("therapist"), on_delete=models.PROTECT, related_name="bookings")
    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="bookings")
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"))
    price = models.PositiveIntegerField(_("price (kr)"))
    mode = models.CharField(_("kind of meeting"), max_length=8, choices=Mode)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.CONFIRMED)
    created_at = models.DateTimeField(_("created"), default=now)
    created_by = models.ForeignKey(
        User, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Made by the client herself through the platform (not by her therapist): these count
    # against MAX_OPEN_BOOKINGS_PER_THERAPIST, so one person cannot hoard a calendar.
    by_client = models.BooleanField(_("booked by the client"), default=False)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        User, verbose_name=_("cancelled by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Set when the 24-hour reminder has been written to the outbox, so it goes once.
    reminder_queued_at = models.DateTimeField(_("reminder queued"), null=True, blank=True)
    # Bumped on every reschedule, so calendar programs replace the event (iCalendar SEQUENCE).
    sequence = models.PositiveIntegerField(_("calendar sequence"), default=0)
    # R20, R29: each party's link is its own unguessable key (the client's and the
    # therapist's), unrelated to each other and to the room's name; renewing one ends it.
    video_token = models.CharField(_("client's video key"), max_length=64, unique=True, default=new_token, editable=False)
    therapist_video_token = models.CharField(
        _("therapist's video key"), max_length=64, unique=True, default=new_token, editable=False
    )
    video_room = models.CharField(_("video room"), max_length=64, default=new_token, editable=False)
    # R34: what happened (`services.outcomes.booking_outcome_set`, or `booking_cancel` after the
    # cut-off), when and by whom it was recorded.
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome, null=True, blank=True)
    outcome_at = models.DateTimeField(_("outcome recorded"), null=True, blank=True)
    outcome_by = models.ForeignKey(
        User, verbose_name=_("outcome recorded by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # R32: the weekly series it was booked in, if any. Each occurrence is an ordinary booking
    # of its own slot: R11, R16 and the constraints hold for it unchanged.
    series = models.ForeignKey(
        "BookingSeries", verbose_name=_("series"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="bookings",
    )

    objects = BookingQuerySet.as_manager()

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            # R16 in the database: one live booking per slot, whatever the concurrency.
            models.UniqueConstraint(
                fields=["slot"], condition=Q(status="confirmed"), name="booking_one_live_per_slot"
            ),
            # R10 in the database: a slot with a live booking cannot be removed (removing it
            # would null the confirmed booking's slot, which this forbids).
            models.CheckConstraint(
                condition=Q(status="cancelled") | Q(slot__isnull=False), name="booking_live_has_slot"
            ),
            models.CheckConstraint(condition=Q(mode__in=list(MODES)), name="booking_mode_valid"),
            models.CheckConstraint(condition=Q(end_at__gt=models.F("start_at")), name="booking_end_after_start"),
            # R34 in the database: an outcome is one of `Outcome`; a cancelled booking has none,
            # unless it was cancelled late (`booking_cancel` after the cut-off).
            models.CheckConstraint(
                condition=Q(outcome__isnull=True)
                | Q(outcome__in=list(Outcome.values), status="confirmed")
                | Q(outcome=Outcome.LATE_CANCELLED, status="cancelled"),
                name="booking_outcome_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "status", "start_at"], name="booking_client_start"),
            models.Index(fields=["therapist", "start_at"], name="booking_therapist_start"),
        ]

    def __str__(self):
        return f"{self.client} {self.start_at:%Y-%m-%d %H:%M}"

    @property
    def is_confirmed(self) -> bool:
        """Whether it is live (`LIVE_BOOKING`, asked of this instance)."""
        return condition_holds(self, LIVE_BOOKING)

    @property
    def first_visit(self) -> bool:
        if hasattr(self, "_first_visit"):
            return self._first_visit
        if not self.is_confirmed:
            return False
        return not Booking.objects.earlier_than(self.client_id, self.start_at).exists()

    @property
    def duration_minutes(self) -> int:
        return minutes_between(self.start_at, self.end_at)

    @property
    def mode_for_client(self) -> str:
        return MODE_FOR_CLIENTS[self.mode]

    @property
    def video_url(self) -> str | None:
        """The client's link to the call (R20, R29)."""
        if self.mode != VIDEO:
            return None
        from .links import links

        return links().video(self.video_token)

    @property
    def therapist_video_url(self) -> str | None:
        """The therapist's own link to the same call (R29): a key of its own."""
        if self.mode != VIDEO:
            return None
        from .links import links

        return links().video(self.therapist_video_token)

    def where(self, *, for_therapist: bool = False):
        """What this booking tells its reader about where it happens (`domain.where`): in a
        template `b.where` is the client's."""
        from .where import booking_where

        return booking_where(self, for_therapist=for_therapist)

    @property
    def video_room_name(self) -> str:
        return f"tidbok-{self.video_room}"

    @property
    def video_room_url(self) -> str:
        """The room itself, without a token (`domain.video.room_url` adds one when configured)."""
        return f"{settings.VIDEO_BASE_URL.rstrip('/')}/{self.video_room_name}"

    @property
    def video_opens_minutes(self) -> int:
        """R20: how many minutes before the start the link opens (`VIDEO_OPENS_MINUTES_BEFORE`,
        15 by default); what the pages, the feed and the mails say."""
        return settings.VIDEO_OPENS_MINUTES_BEFORE

    def video_window(self):
        """R20: the link opens `video_opens_minutes` before the start and closes at the end."""
        return self.start_at - timedelta(minutes=self.video_opens_minutes), self.end_at

    @property
    def client_cancel_deadline(self):
        """R18: the client may cancel herself until this moment (the therapist's cut-off
        before the start); after it she is told to contact the therapist. Needs `therapist`."""
        return self.start_at - timedelta(hours=self.therapist.cancellation_cutoff_hours)

    def client_may_cancel(self, at=None) -> bool:
        return self.is_confirmed and (at or now()) < self.client_cancel_deadline


# R14, R16: a live booking — the one definition, as an ORM condition (`live_booking_sql` is its
# SQL twin for the hand-written reads).
LIVE_BOOKING = Q(status=Booking.Status.CONFIRMED)


def live_booking_sql(alias: str) -> tuple[str, list]:
    """`LIVE_BOOKING` for hand-written SQL (`domain.rows`), made from it: a condition on the
    booking table under `alias`, and its parameters."""
    return condition_sql(Booking, LIVE_BOOKING, alias)


def earlier_than_sql(client: str, start_at: str) -> tuple[str, list]:
    """R15 (`BookingQuerySet.earlier_than`) for hand-written SQL: whether a live booking of the
    client whose id is the SQL expression `client` starts before `start_at` (an expression
    too), and the parameters, which come before any that `client` and `start_at` hold. Proved
    to answer as the ORM does by domain/tests/test_raw_reads.py."""
    live, params = live_booking_sql("e")
    bookings = connection.ops.quote_name(Booking._meta.db_table)
    return (
        f"EXISTS (SELECT 1 FROM {bookings} e WHERE {live} AND e.client_id = {client} AND e.start_at < {start_at})",
        params,
    )


class BookingSeries(models.Model):
    """R32: a client booked at the same wall-clock time every week for `weeks` weeks, all or
    none (`services.series`). Holds only what ties the occurrences together; each occurrence
    is a `Booking` with `series` set, cancelled or moved like any other."""

    therapist = models.ForeignKey(Therapist, verbose_name=_("therapist"), on_delete=models.PROTECT, related_name="series")
    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="series")
    weeks = models.PositiveSmallIntegerField(_("weeks"))
    created_at = models.DateTimeField(_("created"), default=now)
    created_by = models.ForeignKey(
        User, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("booking series")
        verbose_name_plural = _("booking series")
        constraints = [
            models.CheckConstraint(
                condition=Q(weeks__gte=MIN_SERIES_WEEKS, weeks__lte=MAX_SERIES_WEEKS), name="series_weeks_valid"
            ),
        ]

    def __str__(self):
        return f"{self.client} × {self.weeks}"


class TimeOffQuerySet(models.QuerySet):
    def overlapping(self, start, end):
        """Time off that shares any moment with [start, end): time off ending as a slot starts
        does not overlap it."""
        return self.filter(overlapping_any([(start, end)]))


class TimeOff(models.Model):
    """R36: a stretch when the therapist does not work ("Ledighet"), [start_at, end_at) in UTC.
    No slot may be made or moved into it (`time_off`); the open slots inside it were removed
    when it was set (`services.time_off`), her bookings inside it stay for her to move or cancel."""

    therapist = models.ForeignKey(Therapist, verbose_name=_("therapist"), on_delete=models.CASCADE, related_name="time_off")
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"))
    note = models.CharField(_("note"), max_length=TIME_OFF_NOTE_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(_("created"), default=now)
    created_by = models.ForeignKey(
        User, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TimeOffQuerySet.as_manager()

    class Meta:
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=models.F("start_at")), name="time_off_end_after_start"),
        ]
        indexes = [models.Index(fields=["therapist", "start_at"], name="time_off_therapist_start")]

    def __str__(self):
        return f"{self.therapist} {self.start_at:%Y-%m-%d}–{self.end_at:%Y-%m-%d}"


class WaitlistEntry(models.Model):
    """R37: a client waiting for a time with a therapist: the weekdays (ISO 1 = Monday … 7;
    empty: any day), the local time-of-day range in the therapist's zone a slot must lie in
    (either end may be open) and the kinds of meeting (empty: any). One per client and
    therapist. When a matching slot opens she is told by mail (`services.waitlist`)."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="waitlist_entries")
    therapist = models.ForeignKey(
        Therapist, verbose_name=_("therapist"), on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    weekdays = models.JSONField(_("weekdays"), default=list, blank=True)
    from_time = models.TimeField(_("from"), null=True, blank=True)
    to_time = models.TimeField(_("to"), null=True, blank=True)
    modes = models.JSONField(_("kinds of meeting"), default=list, blank=True)
    created_at = models.DateTimeField(_("joined"), default=now)

    class Meta:
        verbose_name = _("wait-list entry")
        verbose_name_plural = _("wait-list entries")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "therapist"], name="waitlist_one_per_client_therapist"),
        ]

    def __str__(self):
        return f"{self.client} → {self.therapist}"

    @property
    def wishes_text(self) -> str:
        """What suits her, in words: "Monday, Wednesday · 09:00–12:00 · Video call"."""
        from django.utils.dates import WEEKDAYS

        days = ", ".join(str(WEEKDAYS[d - 1]) for d in self.weekdays) if self.weekdays else str(_("Any day"))
        if self.from_time or self.to_time:
            start = f"{self.from_time:%H:%M}" if self.from_time else ""
            end = f"{self.to_time:%H:%M}" if self.to_time else ""
            hours = f"{start}–{end}"
        else:
            hours = str(_("any time"))
        kinds = ", ".join(str(MODE_FOR_CLIENTS[m]) for m in self.modes) if self.modes else str(_("video or on site"))
        return f"{days} · {hours} · {kinds}"


class WaitlistNotice(models.Model):
    """R37: one slot announced to one wait-list entry, written in the same transaction as the
    mail that announces it (`mail`), so a re-run of the job never tells of it twice, and the
    day's limit (one mail per client a day) is read from these rows. `slot_id` is a plain id:
    the record outlives the slot."""

    entry = models.ForeignKey(WaitlistEntry, verbose_name=_("wait-list entry"), on_delete=models.CASCADE,
                              related_name="notices")
    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+")
    slot_id = models.BigIntegerField(_("slot id"))
    mail = models.ForeignKey("OutboundEmail", verbose_name=_("mail"), on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+")
    told_at = models.DateTimeField(_("told"), default=now)

    class Meta:
        verbose_name = _("wait-list notice")
        verbose_name_plural = _("wait-list notices")
        constraints = [
            models.UniqueConstraint(fields=["entry", "slot_id"], name="waitlist_notice_once_per_slot"),
        ]
        indexes = [models.Index(fields=["client", "told_at"], name="waitlist_notice_client_told")]


class AuditEntry(models.Model):
    """Who changed what, when, from what to what. Written by the services for every state
    change; read in the admin and as a slot's history. Holds ids, never personnummer."""

    at = models.DateTimeField(_("when"), default=now, db_index=True)
    actor = models.ForeignKey(User, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(_("action"), max_length=40)
    target_type = models.CharField(_("object type"), max_length=20)
    target_id = models.BigIntegerField(_("object id"))
    # The slot the change concerns, kept as a plain id so the history outlives the slot.
    slot_id = models.BigIntegerField(_("slot id"), null=True, blank=True, db_index=True)
    therapist = models.ForeignKey(
        Therapist, verbose_name=_("therapist"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}#{self.target_id}"


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    # What the owner calls it (or the program that asked for it), to tell her tokens apart.
    label = models.CharField(_("label"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class RateCounter(models.Model):
    """How often one thing was tried within a fixed window (R28): log-ins per account and
    source address, log-in failures per source address, sign-ups and password resets per
    source address. The key is stored hashed (it holds an e-mail address and an IP address).
    A try counts *before* it is looked at, in one atomic statement, so parallel requests can
    never pass the limit together (`domain.services.throttle`)."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    window_start = models.DateTimeField(_("window start"))
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("rate counter")
        verbose_name_plural = _("rate counters")


class AccountRequest(models.Model):
    """A sign-up or a password-reset request as it arrived (R26, R27), before anybody looked at
    whether the address or the personnummer is known: the task worker decides (a new account
    waiting for verification, a note to an address that has one, a set-password link, or
    nothing) and deletes the row. Keeping that decision off the request makes every answer,
    and the work behind it, the same whatever exists."""

    class Kind(models.TextChoices):
        SIGNUP = "signup", _("Sign-up")
        RESET = "reset", _("Password reset")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=10, blank=True)
    # A password hash (never the password), made on the request path for every sign-up alike.
    password = models.CharField(_("password hash"), max_length=128, blank=True)
    first_name = models.CharField(_("first name"), max_length=NAME_MAX_LENGTH, blank=True)
    last_name = models.CharField(_("last name"), max_length=NAME_MAX_LENGTH, blank=True)
    personnummer = models.CharField(_("personnummer"), max_length=13, blank=True)
    language = models.CharField(_("language"), max_length=2, default=Language.SV)
    # Where the browser was going (a slot she wanted): the verification link returns there.
    next_url = models.CharField(_("next address"), max_length=300, blank=True)
    # The privacy policy version the sign-up accepted (its time is `created_at`).
    privacy_policy_version = models.CharField(_("privacy policy accepted (version)"), max_length=20, blank=True)
    # The caller's address (the throttle's key, as `domain.backends.source_address` gives it),
    # so that one caller's sign-ups cannot use up the verification mails of another's.
    source = models.CharField(_("source address"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), default=now)

    class Meta:
        verbose_name = _("account request")
        verbose_name_plural = _("account requests")


class OutboundEmail(models.Model):
    """The outbox (R19, R25): a mail is written here in the same transaction as the change it
    tells of, rendered at that moment, and sent by the task worker. `status` moves
    pending → sending → sent (or failed after the last attempt); a worker claims a mail with a
    conditional UPDATE, so two workers never send one mail twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=40)
    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.SET_NULL, null=True, blank=True, related_name="emails"
    )
    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    ics = models.TextField(_("calendar part"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")

    def __str__(self):
        return _("%(kind)s to %(to)s (%(status)s)") % {"kind": self.kind, "to": self.to, "status": self.get_status_display()}


class AccessRecord(models.Model):
    """R39: one read of a client's personal data by someone other than herself — when, who (a
    user id and the role she read in), whose (a client id), what and through which surface.

    Ids only, as plain integers, never foreign keys: nothing ever cascades into this table or
    sets a column to NULL, so the log never needs an UPDATE, and a person erased from the
    other tables leaves nothing personal here. Append-only: on PostgreSQL a trigger refuses
    every UPDATE and DELETE (django-pgtrigger's `Protect`); only `access_log_prune`, the
    retention job's, deletes old rows, through pgtrigger's documented `ignore`. Written by
    `domain.services.access_log.record_reads` only."""

    class Role(models.TextChoices):
        THERAPIST = "therapist", _("Therapist")
        STAFF = "staff", _("Staff")

    # The labels are what the client reads on "Who has read my data" (and staff in the admin).
    class Surface(models.TextChoices):
        PAGE = "page", _("the web pages")
        API = "api", _("an app or program (the API)")
        ADMIN = "admin", _("the administration")
        FEED = "feed", _("a calendar subscription")

    class What(models.TextChoices):
        CLIENT_PAGE = "client_page", _("Your page in the client list")
        CLIENT_LIST = "client_list", _("The client list")
        SEARCH = "search", _("A search of the client list")
        CALENDAR = "calendar", _("The calendar")
        BOOKING = "booking", _("A booking")
        EXPORT = "export", _("An export of clients and bookings")
        ADMIN_LIST = "admin_list", _("A list in the administration")
        ADMIN_PAGE = "admin_page", _("A record in the administration")

    at = models.DateTimeField(_("when"), default=now)
    actor_id = models.BigIntegerField(_("read by (user id)"))
    role = models.CharField(_("role"), max_length=10, choices=Role)
    client_id = models.BigIntegerField(_("whose (client id)"))
    what = models.CharField(_("what"), max_length=20, choices=What)
    surface = models.CharField(_("surface"), max_length=8, choices=Surface)

    class Meta:
        verbose_name = _("access record")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["client_id", "-at"], name="access_client_at")]
        triggers = [
            pgtrigger.Protect(name="access_record_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        # The admin's title and breadcrumb for a record: in the admin's language, local time.
        from django.utils.timezone import localtime

        return _("%(at)s: %(role)s #%(actor)s read client #%(client)s (%(what)s)") % {
            "at": f"{localtime(self.at):%Y-%m-%d %H:%M}", "role": self.get_role_display(), "actor": self.actor_id,
            "client": self.client_id, "what": self.get_what_display(),
        }


class BusyTimeQuerySet(models.QuerySet):
    def overlapping(self, start, end):
        """Busy times sharing a moment with [start, end); bounded below by `BUSY_PIECE` so the
        read is an index range on (therapist, start_at)."""
        return self.filter(overlapping_any([(start, end)]), start_at__gt=start - BUSY_PIECE)

    def overlapping_slot(self):
        """For a subquery of a Slot query: the busy times of the outer slot's therapist that
        overlap it."""
        start, end = models.OuterRef("start_at"), models.OuterRef("end_at")
        lower = models.ExpressionWrapper(start - models.Value(BUSY_PIECE), output_field=models.DateTimeField())
        return self.filter(therapist=models.OuterRef("therapist"), start_at__lt=end, start_at__gt=lower, end_at__gt=start)


class BusyTime(models.Model):
    """R38: a busy stretch from the therapist's external calendar, [start_at, end_at) in UTC,
    at most `BUSY_PIECE` long (a longer event is stored in pieces). All of hers are replaced on
    each good fetch (`services.busy`); open slots overlapping one are hidden from clients and
    refused to them (`slot_busy`)."""

    therapist = models.ForeignKey(Therapist, verbose_name=_("therapist"), on_delete=models.CASCADE, related_name="busy_times")
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"))
    title = models.CharField(_("title"), max_length=BUSY_TITLE_MAX_LENGTH, blank=True)

    objects = BusyTimeQuerySet.as_manager()

    class Meta:
        verbose_name = _("busy time")
        verbose_name_plural = _("busy times")
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=models.F("start_at")), name="busy_end_after_start"),
        ]
        indexes = [models.Index(fields=["therapist", "start_at"], name="busy_therapist_start")]

    def __str__(self):
        return f"{self.therapist} {self.start_at:%Y-%m-%d %H:%M}"
