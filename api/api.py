"""Tidbok HTTP API v1 (docs/api.md): a thin surface over `domain`. Each view parses, fetches
through the owner (a foreign id is 404), calls one service, and answers."""

import logging
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Router, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from domain import exports, selectors, services
from domain.backends import source_address
from domain.errors import DomainError
from domain.models import AccessRecord, Booking, BookingSeries, Slot, Therapist, TimeOff, WaitlistEntry, modes_list
from domain.privacy import POLICY_DATE, POLICY_VERSION
from domain.services import two_factor
from domain.services.access_log import record_reads_when_sent
from domain.services.busy import busy_calendar_set, busy_fetch, busy_mark, busy_merged, busy_settings
from domain.services.therapists import therapist_settings_snapshot
from domain.timezones import EARLIEST, LATEST, in_range, local, local_today, week_start, zone
from domain.video import link_of, party_of
from tidbok.replica import public_read

from . import schemas as s
from .auth import ANYONE, LOGGED_IN, BearerAuth, allow_anonymous, client_of, read_surface, therapist_of, viewer_client
from .messages import http_error_detail, status_detail, validation_errors
from .renderers import ORJSONRenderer
from .serializers import booking_out, client_out, entry_out, open_slot_values_out, time_off_out


class ObjectParser(Parser):
    """JSON bodies must be objects: ninja's schemas would read `0` or `[]` as an empty
    object, so a PATCH with such a body would answer 200 and change nothing."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return data


# What any operation may answer besides what its view declares: docs/api.md's error conventions.
ERROR_BODY = {"type": "object", "properties": {"detail": {}, "code": {"type": "string"}}, "required": ["detail"]}
ERROR_DESCRIPTIONS = {
    400: "The body is not a JSON object",
    401: "Not logged in",
    403: "Logged in with the wrong role",
    404: "Not found, or not yours to see",
    422: "Invalid input, naming the field",
    503: "The database is unavailable for a moment; try again",
}


def document_errors(schema: dict) -> dict:
    """Add docs/api.md's error answers to every operation of the OpenAPI document that can give
    them, so that a client (and schemathesis) finds every status we answer in the document:
    400 and 422 where a body or a query is read, 401 and 403 where a login is needed, 404
    where the path names an object."""
    for path, item in schema["paths"].items():
        for op in item.values():
            statuses = set()
            if "requestBody" in op:
                statuses |= {400, 422}
            if op.get("parameters"):
                statuses.add(422)
            if needs_login(op):
                statuses |= {401, 403}
            if "{" in path:
                statuses.add(404)
            if not path.endswith("/health"):
                statuses.add(503)
            for status in sorted(statuses):
                if status not in op["responses"] and str(status) not in op["responses"]:
                    op["responses"][status] = {
                        "description": ERROR_DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": ERROR_BODY}},
                    }
    return schema


def needs_login(operation: dict) -> bool:
    """An operation needs a login when it names security requirements and none of them is
    the empty one (`{}`: anonymous callers welcome)."""
    requirements = operation.get("security", [])
    return bool(requirements) and all(requirements)


class TidbokSchema(OpenAPISchema):
    """ninja lists an operation's security schemes only: an endpoint open to anyone
    (`auth=ANYONE`, which ends in `allow_anonymous`) looked as if it needed a token, and
    generated clients demanded one for the listing. OpenAPI says it with an empty requirement
    `{}` among the alternatives; an endpoint without auth (`auth=None`) gets `security: []`,
    so no document-wide default can ever make it look closed."""

    def operation_details(self, operation):
        details = super().operation_details(operation)
        callbacks = operation.auth_callbacks or []
        if not callbacks:
            details["security"] = []
        elif allow_anonymous in callbacks:
            details["security"] = [{}, *details.get("security", [])]
        return details


class TidbokAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return document_errors(TidbokSchema(api=self, path_prefix=path_prefix))


log = logging.getLogger(__name__)

api = TidbokAPI(
    title="Tidbok API",
    parser=ObjectParser(),
    renderer=ORJSONRenderer(),
    version="1",
    description="The booking calendar for therapists and their clients. See docs/api.md for the contract.",
    urls_namespace="api-v1",
    auth=LOGGED_IN,
)

MAX_WINDOW = timedelta(days=366)


class InvalidQuery(Exception):
    """A query parameter that parsed but cannot be used: answered as every invalid input is
    (422, docs/api.md's one list shape, `loc` naming the parameter)."""

    def __init__(self, name: str, msg: str):
        self.name, self.msg = name, msg
        super().__init__(f"{name}: {msg}")


# Errors: one shape per kind, never a 500 for bad input; every message in the caller's
# language (docs/api.md: Accept-Language, Swedish by default; api/messages.py).
@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    # A conflict about several things names them (R32's `series_conflict`: `dates`, `conflicts`).
    body = {"code": exc.code, "detail": str(exc.detail), **getattr(exc, "extra", {})}
    return api.create_response(request, body, status=409)


@api.exception_handler(DjangoValidationError)
def on_validation_error(request, exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        errors = [
            {"loc": ["body", field], "msg": " ".join(messages), "type": "value_error"}
            for field, messages in exc.message_dict.items()
        ]
    else:
        errors = [{"loc": ["body"], "msg": " ".join(exc.messages), "type": "value_error"}]
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(InvalidQuery)
def on_invalid_query(request, exc: InvalidQuery):
    error = {"loc": ["query", exc.name], "msg": exc.msg, "type": "value_error"}
    return api.create_response(request, {"detail": [error]}, status=422)


@api.exception_handler(NinjaValidationError)
def on_invalid_input(request, exc: NinjaValidationError):
    return api.create_response(request, {"detail": validation_errors(exc.errors)}, status=422)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return api.create_response(request, {"detail": http_error_detail(exc)}, status=exc.status_code)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request, exc):
    """The database is restarting, out of reach, or a row lock was held longer than
    DB_LOCK_TIMEOUT_MS: a moment's outage, not a bug. The broken
    connection is dropped at the end of this request and the next one reconnects (connection
    health checks), so the service recovers by itself (domain/tests/test_faults.py)."""
    from tidbok.middleware import database_unavailable_answer, database_unavailable_code

    if database_unavailable_code(exc) is None:
        raise exc  # not an outage: a bug, answered as a 500 with its traceback logged
    return database_unavailable_answer(request, exc)  # {code, detail}, Retry-After (docs/api.md)


@api.exception_handler(ObjectDoesNotExist)
@api.exception_handler(Http404)
def on_missing(request, exc):
    return api.create_response(request, {"detail": status_detail(404)}, status=404)


def unvalidated(request, data, status: int = 200):
    """Render an answer with the API's own renderer but without ninja's per-field validation
    against the response schema, for the hot reads whose shape the serializers already fix
    (the calendar, a therapist's open slots, the listing): validating cost more than the query
    (docs/performance.md).
    The schema still documents them, and the API tests check these answers against it."""
    return api.create_response(request, data, status=status)


def window(start: datetime | None, end: datetime | None, tz) -> tuple[datetime, datetime]:
    """The asked-for time window; without one, the current week (Monday on) in `tz`."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and timezone.is_naive(value):
            raise InvalidQuery(name, _("%(name)s: include a UTC offset, e.g. 2026-12-01T00:00:00+01:00") % {"name": name})
        if value is not None and not in_range(value):  # so that a window's end cannot overflow
            raise InvalidQuery(name, _("%(name)s: must lie between the years %(first)s and %(last)s")
                               % {"name": name, "first": EARLIEST.year, "last": LATEST.year})
    if start is None:
        start = week_start(local_today(tz), tz)
    if end is None:
        end = start + timedelta(days=7)
    if end <= start:
        raise InvalidQuery("end", _("end: must be after start"))
    if end - start > MAX_WINDOW:
        raise InvalidQuery("end", _("end: the window may be at most %(days)s days") % {"days": MAX_WINDOW.days})
    return start, end


# Accounts -----------------------------------------------------------------------------------
accounts = Router(tags=["accounts"])


@accounts.get("/health", auth=None, response=s.HealthOut)
def health(request):
    """A trivial answer with no database and no login: the framework's floor in `make bench`,
    and a liveness probe for a load balancer."""
    return {"status": "ok"}


@accounts.post("/auth/signup", auth=None, response={202: s.Accepted, 422: dict, 429: s.Error})
def signup(request, payload: s.SignupIn):
    """R26, R27: the same answer to every well-formed sign-up, whatever the address or the
    personnummer belongs to; the address gets a verification link (or, if it has an account,
    a note). The token comes from POST /auth/token once the link has been followed."""
    try:
        services.account_signup_request(**payload.dict(), source=source_address(request))
    except services.AccountRequestsThrottled:
        return throttled(request, _("Too many sign-ups from your address; try again in an hour."), 3600)
    return Status(202, {"detail": _("Check your e-mail: we have sent a link to confirm the address.")})


def throttled(request, detail: str, retry_after: int):
    response = api.create_response(request, {"detail": detail}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@accounts.post("/auth/token", auth=None, response={200: s.TokenOut, 401: s.Error, 429: s.Error})
def token(request, payload: s.TokenIn):
    """A bearer token for an address whose account is verified (R27); an address not
    verified yet answers like a wrong password and is mailed a fresh link. Throttled per
    account and source address (R28). An account with a second factor also sends `otp`
    (R42): without it 401 `otp_required`, a wrong one 401 `otp_invalid`; an account that must
    have a second factor and has none 401 `otp_setup_required` (set it up on the web page)."""
    try:
        user = services.login_check(email=payload.email, password=payload.password, source=source_address(request))
    except services.LoginThrottled:
        return throttled(request, services.LoginThrottled.message(), settings.LOGIN_FAILURE_WINDOW_SECONDS)
    except services.LoginFailed:
        return Status(401, {"detail": _("Wrong e-mail address or password.")})
    # R42: an account with a second factor gets a token only with a good code.
    try:
        two_factor.second_factor_check(user=user, code=payload.otp, source=source_address(request))
    except services.LoginThrottled:
        return throttled(request, services.LoginThrottled.message(), settings.LOGIN_FAILURE_WINDOW_SECONDS)
    except (two_factor.OtpRequired, two_factor.OtpInvalid, two_factor.OtpSetupRequired) as e:
        return Status(401, {"code": e.code, "detail": str(e.message)})
    label = payload.label or request.headers.get("User-Agent", "")
    return Status(200, {"token": services.token_create(user=user, label=label), "role": user.role})


@accounts.get("/auth/tokens", response=list[s.TokenInfo])
def tokens(request):
    """Her API tokens (R28): to see where she is logged in, and end what she does not know."""
    return [
        {"id": t.pk, "created": t.created_at, "last_used": t.last_used_at, "label": t.label}
        for t in services.tokens_of(request.auth)
    ]


@accounts.delete("/auth/tokens/{token_id}", response={204: None, 404: s.Error})
def token_delete(request, token_id: int):
    if not services.token_delete(user=request.auth, token_id=token_id):
        raise Http404
    return Status(204, None)


@accounts.delete("/auth/token", auth=[BearerAuth()], response={204: None, 401: s.Error})
def token_revoke(request):
    """Log out: the bearer token of this request stops working at once. (Tokens also stop
    working after API_TOKEN_IDLE_DAYS unused.)"""
    services.token_revoke(key=request.headers["Authorization"].partition(" ")[2].strip())
    return Status(204, None)


@accounts.get("/privacy-policy", auth=None, response=s.PrivacyPolicyOut)
def privacy_policy(request):
    """The privacy policy's current version: what `accept_privacy_policy` at sign-up names."""
    return {"version": POLICY_VERSION, "date": POLICY_DATE.isoformat(),
            "url": f"{settings.SITE_URL}{reverse('privacy')}"}


@accounts.delete(
    "/me", response={204: None, 400: s.Error, 409: s.Conflict, 429: s.Error},
    description="R41: erase the caller's account, proven with her password. Future bookings are cancelled "
    "(each therapist is mailed, without the client's name); past bookings stay with her therapists without her "
    "identity. 400 `wrong_password`; 409 `account_not_erasable` for a therapist's or staff account.",
)
def me_erase(request, payload: s.EraseIn):
    try:
        services.account_erase(user=request.auth, password=payload.password, source=source_address(request))
    except services.LoginThrottled:
        return throttled(request, services.LoginThrottled.message(), settings.LOGIN_FAILURE_WINDOW_SECONDS)
    except services.LoginFailed:
        return Status(400, {"code": "wrong_password", "detail": _("Wrong password.")})
    return Status(204, None)


@accounts.get("/me", response=s.MeOut)
def me(request):
    user = request.auth
    role = user.role
    profile = {"therapist": getattr(user, "therapist", None), "client": getattr(user, "client", None)}.get(role)
    return {
        "id": profile.pk if profile else user.pk,
        "role": role or ("staff" if user.is_staff else None),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
    }


# Therapist ----------------------------------------------------------------------------------
therapist_router = Router(tags=["therapist"])


def settings_out(therapist) -> dict:
    return {**therapist_settings_snapshot(therapist), **busy_settings(therapist)}


@therapist_router.get("/settings", response=s.SettingsOut)
def settings_get(request):
    return settings_out(therapist_of(request))


@therapist_router.patch("/settings", response={200: s.SettingsOut, 422: dict})
def settings_patch(request, payload: s.SettingsPatch):
    therapist = therapist_of(request)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    busy = {k: changes.pop(k) for k in ("busy_calendar_url", "busy_show_titles") if k in changes}
    if not busy:
        services.therapist_settings_update(therapist=therapist, actor=request.auth, **changes)
        return Status(200, settings_out(therapist))
    with transaction.atomic():  # R38's fields with the others: all or nothing
        if changes:
            services.therapist_settings_update(therapist=therapist, actor=request.auth, **changes)
        busy_calendar_set(therapist=therapist, actor=request.auth, url=busy.get("busy_calendar_url"),
                          show_titles=busy.get("busy_show_titles"))
    therapist.refresh_from_db()
    return Status(200, settings_out(therapist))


@therapist_router.get(
    "/busy", response={200: list[s.BusyOut], 422: dict},
    description="R38: the busy times of her external calendar that share a moment with the window (as for the "
    "calendar), earliest first; `title` only if she chose to see titles.",
)
def busy_list(request, start: datetime | None = None, end: datetime | None = None):
    therapist = therapist_of(request)
    start, end = window(start, end, therapist.tz)
    tz = therapist.tz
    return [
        {"start": b_start.astimezone(tz), "end": b_end.astimezone(tz), "title": title if therapist.busy_show_titles else None}
        for b_start, b_end, title in busy_merged(therapist, start, end)
    ]


@therapist_router.post(
    "/busy/fetch", response=s.BusyFetched,
    description="R38: fetch her external calendar now (it is fetched every 10 minutes anyway).",
)
def busy_fetch_now(request):
    therapist = therapist_of(request)
    result = busy_fetch(therapist)
    therapist.refresh_from_db()
    return {"result": result, "busy_synced_at": therapist.busy_synced_at, "busy_error": therapist.busy_error}


@therapist_router.get("/calendar", response=list[s.Entry])
def calendar(request, start: datetime | None = None, end: datetime | None = None):
    therapist = therapist_of(request)
    start, end = window(start, end, therapist.tz)
    slots = selectors.calendar_for_therapist(therapist, start, end)
    busy_mark(therapist, slots, start, end)  # R38: one read of her busy times in the window
    _log_reads(request, [slot.live_booking.client for slot in slots if slot.live_booking], What.CALENDAR)
    return unvalidated(request, [entry_out(slot, therapist) for slot in slots])


What = AccessRecord.What


def _log_reads(request, clients, what: str) -> None:
    """R39: the answer carries these clients' personal data to the caller (one INSERT, once
    the answer is sent)."""
    record_reads_when_sent(request, actor=request.auth, clients=clients, what=what, surface=read_surface(request))


def _own_slot(therapist: Therapist, slot_id: int) -> Slot:
    return get_object_or_404(Slot, pk=slot_id, therapist=therapist)


def _entry(request, slot_id: int, therapist: Therapist) -> dict:
    slot = Slot.objects.with_live_booking().get(pk=slot_id)
    if slot.live_booking:  # a booked slot's entry names its client (R39)
        _log_reads(request, [slot.live_booking.client], What.CALENDAR)
    busy_mark(therapist, [slot], slot.start_at, slot.end_at)  # R38
    return entry_out(slot, therapist)


@therapist_router.post("/slots", response={201: s.Entry, 409: s.Conflict, 422: dict})
def slot_create(request, payload: s.SlotIn):
    therapist = therapist_of(request)
    slot = services.slot_create(therapist=therapist, actor=request.auth, **payload.dict())
    return Status(201, _entry(request, slot.pk, therapist))


@therapist_router.patch("/slots/{slot_id}", response={200: s.Entry, 404: s.Error, 409: s.Conflict, 422: dict})
def slot_patch(request, slot_id: int, payload: s.SlotPatch):
    therapist = therapist_of(request)
    slot = _own_slot(therapist, slot_id)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    services.slot_update(slot=slot, actor=request.auth, **changes)
    return Status(200, _entry(request, slot.pk, therapist))


@therapist_router.delete("/slots/{slot_id}", response={204: None, 404: s.Error, 409: s.Conflict})
def slot_delete(request, slot_id: int):
    therapist = therapist_of(request)
    services.slot_delete(slot=_own_slot(therapist, slot_id), actor=request.auth)
    return Status(204, None)


@therapist_router.get("/clients", response=list[s.ClientOut])
def clients(request, q: str = ""):
    therapist = therapist_of(request)
    found = list(selectors.client_search(therapist, q[:150]))
    _log_reads(request, found, What.SEARCH if q.strip() else What.CLIENT_LIST)
    return [client_out(c, c.source) for c in found]


@therapist_router.post("/clients", response={201: s.ClientOut, 422: dict, 429: s.Error})
def client_add(request, payload: s.ClientIn):
    therapist = therapist_of(request)
    try:
        client = services.client_add(therapist=therapist, actor=request.auth, **payload.dict(exclude_none=True))
    except services.InvitationsThrottled:
        return throttled(request, _("You have sent as many invitations as can be sent in a day. Try again tomorrow."),
                         24 * 3600)
    return Status(201, client_out(client, client.source))


@therapist_router.post(
    "/slots/{slot_id}/booking", response={201: s.BookingOut, 404: s.Error, 409: s.Conflict, 422: dict}
)
def therapist_book(request, slot_id: int, payload: s.TherapistBookingIn):
    therapist = therapist_of(request)
    # The client through her list, as the page does (the service's one path): an unknown id,
    # or another therapist's client, is 409 client_not_on_list; a slot not hers 404 first.
    booking = services.booking_create_by_therapist(
        therapist=therapist, slot=slot_id, client=payload.client_id, mode=payload.mode, actor=request.auth
    )
    _log_reads(request, [booking.client], What.BOOKING)
    return Status(201, booking_out(booking))


@therapist_router.post(
    "/bookings/{booking_id}/outcome", response={200: s.BookingOut, 404: s.Error, 409: s.Conflict, 422: dict},
    description="R34: record what happened at a visit of hers once it has begun: `attended`, `no_show` or "
    "`late_cancelled`; again to change it. 409 `visit_not_started` before its start, `already_cancelled` for a "
    "booking cancelled in time; another therapist's booking is 404.",
)
def booking_outcome(request, booking_id: int, payload: s.OutcomeIn):
    therapist = therapist_of(request)
    booking = get_object_or_404(Booking.objects.filter(therapist=therapist), pk=booking_id)
    services.booking_outcome_set(booking=booking, outcome=payload.outcome, actor=request.auth)
    booking = _booking(booking.pk)
    _log_reads(request, [booking.client], What.BOOKING)
    return Status(200, booking_out(booking))


def _series_args(therapist: Therapist, payload: s.SeriesIn) -> dict:
    return {"therapist": therapist, "client": payload.client_id, **payload.dict(exclude={"client_id"})}


@therapist_router.post(
    "/series", response={201: s.SeriesOut, 409: s.SeriesConflictOut, 422: dict},
    description="R32: book a client from her list at the same weekly time (her zone) for 2 to 52 weeks, all or "
    "none: an open slot of hers at exactly a week's time is booked, else one is made. 409 `series_conflict` "
    "names every week that cannot be booked (`dates`; `conflicts` with each week's number and code: "
    "`slot_taken`, `slot_overlap`, `time_off`, `slot_in_past`, `mode_not_offered`, or `dst`); "
    "`client_not_on_list`. The client gets one mail with every date.",
)
def series_create(request, payload: s.SeriesIn):
    therapist = therapist_of(request)
    series = services.series_create(**_series_args(therapist, payload), actor=request.auth)
    bookings = series.created_bookings
    _log_reads(request, [bookings[0].client], What.BOOKING)
    return Status(201, {"id": series.pk, "bookings": [booking_out(b) for b in bookings]})


@therapist_router.post(
    "/series/preview", response={200: list[s.SeriesWeekOut], 409: s.Conflict, 422: dict},
    description="R32: what `POST /therapist/series` with this body would book, week by week, writing nothing: "
    "`ok`, or the `code` and `reason` it cannot be booked.",
)
def series_preview(request, payload: s.SeriesIn):
    therapist = therapist_of(request)
    rows = services.series_preview(**_series_args(therapist, payload))
    return Status(200, [
        {"week": w.week, "date": w.date, "start": w.start and local(w.start, therapist.tz),
         "end": w.end and local(w.end, therapist.tz), "price": w.price, "ok": w.ok, "code": w.code,
         "reason": w.reason or None}
        for w in rows
    ])


@therapist_router.post(
    "/series/{series_id}/cancel", response={200: s.SeriesCancelOut, 404: s.Error, 409: s.Conflict, 422: dict},
    description="R32: cancel every live booking of the series on or after `from` (a date, her zone) that has not "
    "begun; the client gets one mail listing them. Another therapist's series is 404.",
)
def series_cancel(request, series_id: int, payload: s.SeriesCancelIn):
    therapist = therapist_of(request)
    series = get_object_or_404(BookingSeries.objects.filter(therapist=therapist), pk=series_id)
    cancelled = services.series_cancel(series=series, from_date=payload.from_, actor=request.auth)
    return Status(200, {"cancelled": len(cancelled)})


@therapist_router.get(
    "/time-off", response={200: list[s.TimeOffOut], 422: dict},
    description="R36: her time off that has not ended, earliest first; with `start` and/or `end` (as for the "
    "calendar), the time off that shares a moment with that window instead.",
)
def time_off_list(request, start: datetime | None = None, end: datetime | None = None):
    therapist = therapist_of(request)
    found = TimeOff.objects.filter(therapist=therapist)
    if start is not None or end is not None:
        start, end = window(start, end, therapist.tz)
        found = found.overlapping(start, end)
    else:
        found = found.filter(end_at__gt=timezone.now())
    return [time_off_out(t, therapist) for t in found.order_by("start_at", "pk")]


@therapist_router.post(
    "/time-off", response={201: s.TimeOffCreated, 422: dict},
    description="R36: set time off. Her open slots inside it that have not begun are removed (`removed_slots`); "
    "her live bookings inside it stay and are listed (`bookings_inside`) for her to move or cancel. A bare date "
    "is a whole day in her zone, the end date inclusive. 422 naming `end` when it is not after the start, the "
    "stretch is longer than 366 days or it has already ended. Time off may overlap other time off.",
)
def time_off_create(request, payload: s.TimeOffIn):
    therapist = therapist_of(request)
    time_off, removed, inside = services.time_off_create(
        therapist=therapist, start=payload.start, end=payload.end, note=payload.note, actor=request.auth
    )
    _log_reads(request, [b.client for b in inside], What.BOOKING)
    return Status(201, {**time_off_out(time_off, therapist), "removed_slots": removed,
                        "bookings_inside": [booking_out(b) for b in inside]})


@therapist_router.delete(
    "/time-off/{time_off_id}", response={204: None, 404: s.Error},
    description="R36: remove time off; the slots removed when it was set stay removed. Another therapist's is 404.",
)
def time_off_delete(request, time_off_id: int):
    therapist = therapist_of(request)
    services.time_off_delete(time_off=get_object_or_404(TimeOff, pk=time_off_id, therapist=therapist),
                             actor=request.auth)
    return Status(204, None)


# Clients and the public ---------------------------------------------------------------------
public = Router(tags=["clients and the public"])


def _booking(booking_id: int) -> Booking:
    return Booking.objects.with_first_visit().select_related("therapist__user", "client").get(pk=booking_id)


@public.get(
    "/therapists", auth=ANYONE, response={200: list[s.ListingOut], 422: dict},
    description="R9: the listing, a page at a time (`limit`, default 50, at most 200), soonest `next_available` "
    "first. The next page's address is in the `Link` header (`rel=\"next\"`, RFC 8288) and its cursor in "
    "`X-Next-Cursor`; neither is sent on the last page. 422 naming `limit` or `cursor` (one this listing did not "
    "give, or given for another `mode`).",
)
@public_read
def listing(
    request, mode: s.ModeName | None = None,
    limit: int = Query(selectors.LISTING_LIMIT, ge=1, le=selectors.LISTING_MAX_LIMIT),
    cursor: str = Query("", max_length=1000),
):
    # A page costs what it holds (`Listing`, keyset on its index), whatever the listing's size.
    try:
        page = selectors.listing_page(mode, cursor=cursor, limit=limit)
    except DjangoValidationError as e:
        raise InvalidQuery("cursor", " ".join(e.message_dict["cursor"])) from e
    response = unvalidated(request, [
        {
            "id": t.pk,
            "first_name": t.user.first_name,
            "last_name": t.user.last_name,
            "modes": modes_list(t.default_video, t.default_onsite),
            "next_available": t.next_available and local(t.next_available, zone(t.timezone)),
        }
        for t in page.therapists
    ])
    if page.cursor:
        query = urlencode({**({"mode": mode} if mode else {}), "limit": limit, "cursor": page.cursor})
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{query}>; rel="next"'
        response["X-Next-Cursor"] = page.cursor
    return response


@public.get("/therapists/{therapist_id}/slots", auth=ANYONE, response={200: list[s.OpenSlotOut], 404: s.Error})
@public_read
def therapist_slots(request, therapist_id: int, start: datetime | None = None, end: datetime | None = None):
    client = viewer_client(request)
    therapist = None
    if start is not None or end is not None:  # the window's defaults are in her zone: her row first
        therapist = _visible_therapist(therapist_id, client)
        start, end = window(start, end, therapist.tz)
    # Plain values in one statement, not model instances (docs/performance.md). A row says she
    # is there and visible to this viewer; no row leaves open whether she is (404) or not ([]).
    rows = selectors.open_slot_rows(therapist_id, client, start, end)
    if not rows and therapist is None:
        _visible_therapist(therapist_id, client)
    tz = rows and zone(rows[0][-1])  # her zone, in every row
    return unvalidated(request, [open_slot_values_out(*row[:-1], tz) for row in rows])


def _visible_therapist(therapist_id: int, client) -> Therapist:
    """The therapist of a public page, or 404 when she is missing or hidden from `client` (R9)."""
    therapist = get_object_or_404(Therapist, pk=therapist_id)
    if not selectors.therapist_visible_to(therapist, client):
        raise Http404
    return therapist


@public.post("/slots/{slot_id}/book", response={201: s.BookingOut, 404: s.Error, 409: s.Conflict, 422: dict})
def client_book(request, slot_id: int, payload: s.BookIn):
    client = client_of(request)
    # A missing slot, or one she may not see, is Slot.DoesNotExist from the service: 404.
    booking = services.booking_create_by_client(client=client, slot=slot_id, mode=payload.mode, actor=request.auth)
    return Status(201, booking_out(booking))


@public.get("/client/bookings", response=list[s.BookingOut])
def client_bookings(request):
    client = client_of(request)
    return [booking_out(b) for b in selectors.bookings_for_client(client)]


def waitlist_out(entry) -> dict:
    return {
        "id": entry.pk, "therapist_id": entry.therapist_id, "therapist_name": entry.therapist.full_name,
        "weekdays": entry.weekdays, "from_time": entry.from_time, "to_time": entry.to_time, "modes": entry.modes,
        "created_at": entry.created_at,
    }


@public.post(
    "/therapists/{therapist_id}/waitlist", response={200: s.WaitlistOut, 201: s.WaitlistOut, 404: s.Error, 422: dict},
    description="R37: the client joins the therapist's wait list (201), or, on it already, changes what suits her "
    "(200, her place in the queue kept): one entry per client and therapist. 404 for a therapist she may not book "
    "(R9) unless she is on her list. She is told by mail, at most once a day, when a matching slot opens.",
)
def waitlist_join(request, therapist_id: int, payload: s.WaitlistIn):
    client = client_of(request)
    entry, created = services.waitlist_join(
        client=client, therapist=therapist_id, actor=request.auth, weekdays=payload.weekdays,
        from_time=payload.from_time, to_time=payload.to_time, modes=payload.modes,
    )
    entry = WaitlistEntry.objects.select_related("therapist__user").get(pk=entry.pk)
    return Status(201 if created else 200, waitlist_out(entry))


@public.delete("/therapists/{therapist_id}/waitlist", response={204: None, 404: s.Error},
               description="R37: the client leaves the therapist's wait list; 404 if she is not on it.")
def waitlist_leave(request, therapist_id: int):
    services.waitlist_leave(client=client_of(request), therapist=therapist_id, actor=request.auth)
    return Status(204, None)


@public.get("/client/waitlist", response=list[s.WaitlistOut],
            description="R37: the caller's wait-list entries, in the order she joined them.")
def client_waitlist(request):
    client = client_of(request)
    return [waitlist_out(e) for e in client.waitlist_entries.select_related("therapist__user")]


@public.get(
    "/client/access-log", response={200: list[s.AccessOut], 422: dict},
    description="R39: who read the caller's personal data, newest first (therapists by name, staff as "
    "\"Tidbok staff\"); `at` in Swedish time; `what` in the caller's language (Accept-Language). `limit` (1–1000, default 200) "
    "and `offset` page through it.",
)
def client_access_log(request, limit: int = Query(200, ge=1, le=1000), offset: int = Query(0, ge=0, le=10**9)):
    client = client_of(request)
    records = selectors.access_log_of(client)[offset : offset + limit]
    return [
        {"at": timezone.localtime(line["at"]), "who": {"role": line["role"], "name": line["name"]}, "what": line["what"]}
        for line in selectors.access_log_lines(records)
    ]
def attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@public.get("/client/export", response={200: dict}, description="R40: everything Tidbok holds about the caller, "
            "as a JSON file (Content-Disposition: attachment).")
def client_export(request):
    data = exports.client_export(client_of(request))
    response = api.create_response(request, data, status=200)
    return attachment(response, "tidbok-mina-uppgifter.json")


@therapist_router.get(
    "/export", response={200: dict},
    description="R40: her clients and bookings. `format=json` (default) or `csv`: UTF-8 with BOM, `;`-separated, "
    "one row per booking with its client's columns, then her clients without a booking; cells that a spreadsheet "
    "would read as a formula are prefixed with `'`.",
    openapi_extra={"responses": {200: {"description": "OK", "content": {
        "application/json": {"schema": {"type": "object"}},
        "text/csv": {"schema": {"type": "string"}},
    }}}},
)
def therapist_export(request, format: Literal["json", "csv"] = "json"):
    therapist = therapist_of(request)
    _log_reads(request, exports.therapist_export_client_ids(therapist), What.EXPORT)
    if format == "csv":
        response = HttpResponse(exports.therapist_export_csv(therapist), content_type="text/csv; charset=utf-8")
        return attachment(response, "tidbok-klienter.csv")
    return attachment(api.create_response(request, exports.therapist_export(therapist), status=200),
                      "tidbok-klienter.json")


@public.post("/bookings/{booking_id}/cancel", response={200: s.BookingOut, 404: s.Error, 409: s.Conflict})
def booking_cancel(request, booking_id: int):
    booking = get_object_or_404(selectors.bookings_visible_to(request.auth), pk=booking_id)
    services.booking_cancel(booking=booking, actor=request.auth)
    booking = _booking(booking.pk)
    if booking.therapist.user_id == request.auth.pk:  # her therapist reads the client's name (R39)
        _log_reads(request, [booking.client], What.BOOKING)
    return Status(200, booking_out(booking))


@public.post(
    "/bookings/{booking_id}/move", response={200: s.BookingOut, 404: s.Error, 409: s.Conflict, 422: dict},
    description="R33: the client moves her own booking to another open slot of the same therapist, in one "
    "transaction: the same booking (id, calendar UID) at the new time, with the new slot's price. 404 for a "
    "booking not hers or a slot she may not see (another therapist's included); 409 `slot_taken`, "
    "`cancellation_closed`, `outside_booking_window`, `slot_in_past`, `mode_not_offered`, `already_cancelled`; "
    "422 for the slot it is already on.",
)
def booking_move(request, booking_id: int, payload: s.MoveIn):
    client = client_of(request)
    booking = get_object_or_404(Booking.objects.filter(client=client), pk=booking_id)
    services.booking_move(booking=booking, slot=payload.slot_id, mode=payload.mode, actor=request.auth)
    return Status(200, booking_out(_booking(booking.pk)))


@public.post(
    "/bookings/{booking_id}/video-link", response={200: s.VideoLinkOut, 404: s.Error, 409: s.Conflict},
    description="R29: a new video link for the caller's side of the booking (client or therapist); the old "
    "one stops working at once, the other party's stays. 409 `already_cancelled` for a cancelled booking, "
    "`not_a_video_booking` for an on-site one.",
)
def booking_video_link(request, booking_id: int):
    booking = get_object_or_404(selectors.bookings_visible_to(request.auth), pk=booking_id)
    party = party_of(request.auth, booking)
    booking = services.booking_video_link_renew(booking=booking, party=party, actor=request.auth)
    return Status(200, {"video_url": link_of(booking, party)})


api.add_router("/", accounts)
api.add_router("/therapist", therapist_router)
api.add_router("/", public)
