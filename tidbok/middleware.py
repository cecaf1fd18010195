"""Middleware of our own."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control

from domain.services.access_log import PENDING, record_pending_reads

from .http import answers_401


def access_log(get_response):
    """R39: the reads a view collected (`record_reads_when_sent`) are written once the answer
    is out: from the response's `close()`, which the WSGI server calls after it has sent the
    last byte (before Django's own closing work, which may close the database connection). A
    failure there is logged and raised; the reader already has her
    answer either way, and the records of a worker killed in that moment are lost (as are those
    of a database crash within `synchronous_commit`'s window; docs/security.md)."""

    def middleware(request):
        request.__dict__[PENDING] = []
        response = get_response(request)
        pending = request.__dict__.pop(PENDING, None)
        if pending:
            close = response.close

            def record_then_close():
                try:
                    record_pending_reads(pending)
                except Exception:
                    logging.getLogger("tidbok.access_log").exception(
                        "could not write the access records of an answer already sent")
                    raise
                finally:
                    close()

            response.close = record_then_close
        return response

    return middleware


def no_store(get_response):
    """Every dynamic answer is private: a calendar, a client list, a booking, even the login
    page (its CSRF token) must not be kept by a browser's cache on a shared computer or by a
    proxy. An answer that set its own Cache-Control keeps it (the admin's never_cache, the
    calendar feed). Listed after WhiteNoise, which answers static files before this runs, so
    they keep their long, immutable caching."""

    def middleware(request):
        response = get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response

    return middleware


API_PREFIX = "/api/"
# Headers of the answer replaced that still hold for the JSON one.
KEPT_HEADERS = ("Allow", "Retry-After", "Cache-Control", "WWW-Authenticate")


def api_errors_as_json(get_response):
    """Under /api/ every error is JSON (docs/api.md), never an HTML page: an unknown path (Django's
    404, which would render our 404 page), a method the path does not take (django-ninja's
    plain-text 405), a server error (our 500 page). The API's own errors are JSON already and
    pass untouched; the words are the caller's language's (`api.messages.status_detail`)."""
    from api.messages import status_detail

    def middleware(request):
        response = get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            answer = JsonResponse(
                {"detail": status_detail(response.status_code)}, status=response.status_code,
                content_type="application/json; charset=utf-8", json_dumps_params={"ensure_ascii": False},
            )
            for header in KEPT_HEADERS:
                if response.has_header(header):
                    answer[header] = response[header]
            return answer
        return response

    return middleware


# PostgreSQL's lock_not_available: a statement waited DB_LOCK_TIMEOUT_MS for a row lock.
LOCK_NOT_AVAILABLE = "55P03"
# Two transactions each waited for a lock the other held, or a serialisable read could not be
# kept: PostgreSQL rolled this one back whole (nothing written); a retry succeeds. Busy, not a bug.
TRANSIENT_CONFLICTS = ("40P01", "40001")
RETRY_AFTER_SECONDS = 1


# What counts as the database being away or busy, not a bug (which stays a 500 with its
# traceback): PostgreSQL's connection classes (08…), its shutdown and too-many-connections
# states; SQLite's busy, cannot-open and I/O errors; a connection that is already closed.
UNAVAILABLE_SQLSTATES = ("57P01", "57P02", "57P03", "53300")
SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
SQLITE_AWAY = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_NOTADB")


def database_unavailable_code(error: Exception) -> str | None:
    """`database_busy` when a lock wait timed out (PostgreSQL's lock_timeout, SQLite's "database
    is locked") or PostgreSQL rolled the transaction back for a deadlock (`TRANSIENT_CONFLICTS`),
    `database_unavailable` when the database cannot be reached at all, None for any other
    database error (a missing table, a bad query: a bug, answered as a 500)."""
    if isinstance(error, InterfaceError):
        return "database_unavailable"
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    sqlite_name = getattr(cause, "sqlite_errorname", "")
    if (sqlstate == LOCK_NOT_AVAILABLE or sqlstate in TRANSIENT_CONFLICTS
            or sqlite_name.startswith(SQLITE_BUSY) or "database is locked" in str(error)):
        return "database_busy"
    if sqlite_name:
        return "database_unavailable" if sqlite_name.startswith(SQLITE_AWAY) else None
    if sqlstate is None and isinstance(error, OperationalError):
        return "database_unavailable"  # psycopg: the connection failed or was lost (no server state)
    if sqlstate and (sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES):
        return "database_unavailable"
    return None


def database_unavailable_answer(request, error: Exception):
    """503 with Retry-After: JSON `{code, detail}` to a caller that asks for JSON (the API,
    the calendar's dialogs), else a page rendered without the request, so that it needs
    neither the database nor the session (like 500.html)."""
    from django.utils.translation import gettext as _

    code = database_unavailable_code(error)
    logging.getLogger("tidbok.database").warning("%s: %s answered 503 (%s)", code, request.path, type(error).__name__)
    if request.path.startswith(API_PREFIX) or request.get_preferred_type(["text/html", "application/json"]) != "text/html":
        detail = (_("The calendar is busy with another change; try again in a moment.") if code == "database_busy"
                  else _("The database is unavailable; try again shortly."))
        response = JsonResponse({"code": code, "detail": detail}, status=503,
                                json_dumps_params={"ensure_ascii": False})
    else:
        response = HttpResponse(render_to_string("503.html", {"busy": code == "database_busy"}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class database_unavailable:  # noqa: N801 - named like the other middleware of this module
    """A view whose database is out of reach or busy (a row lock held longer than
    DB_LOCK_TIMEOUT_MS; docs/architecture.md, "Concurrency") answers 503 with Retry-After, not
    a 500 and not a worker held for ever. The API's own handler answers the same for its views
    (`api.api.on_database_unavailable`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)) and database_unavailable_code(exception):
            return database_unavailable_answer(request, exception)
        return None


IDLE_KEY = "tidbok_seen"
# The last-seen stamp is written at most this often (seconds), not on every request: a write
# per request would be a session UPDATE per calendar view. The idle limit is therefore kept
# to within a minute, deliberately.
IDLE_STAMP_EVERY = 60


def idle_sessions(get_response):
    """R42: a therapist's or staff member's session ends after SESSION_IDLE_MINUTES without a
    request; the next request goes to the log-in page (and back after it), with a message.
    Under /api/ the session simply no longer logs anyone in (401), and what a page's script
    fetches (`tidbok.http.login_required_401`) answers 401 JSON. Clients keep the ordinary
    session. Bearer tokens have their own idle limit (API_TOKEN_IDLE_DAYS)."""
    import time

    from django.conf import settings
    from django.contrib import messages
    from django.contrib.auth import logout
    from django.shortcuts import redirect
    from django.urls import reverse
    from django.utils.http import urlencode
    from django.utils.translation import ngettext

    def middleware(request):
        user = request.user
        if user.is_authenticated and (user.is_staff or getattr(user, "role", None) == "therapist"):
            now = time.time()
            seen = request.session.get(IDLE_KEY)
            if seen is not None and now - seen > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)
                if not request.path.startswith(API_PREFIX):
                    minutes = settings.SESSION_IDLE_MINUTES
                    messages.info(request, ngettext(
                        "You were logged out after %(minutes)d minute without activity. Log in again.",
                        "You were logged out after %(minutes)d minutes without activity. Log in again.",
                        minutes) % {"minutes": minutes})
                    if answers_401(request):  # a page's script asked: 401 JSON, it goes to the log-in
                        return get_response(request)
                    target = request.get_full_path() if request.method == "GET" else ""
                    query = f"?{urlencode({'next': target})}" if target else ""
                    return redirect(reverse("login") + query)
            elif seen is None or now - seen >= IDLE_STAMP_EVERY:
                request.session[IDLE_KEY] = now
        return get_response(request)

    return middleware


def second_factor(get_response):
    """R42: a session logged in by password that still owes its second factor (or, for staff
    and, with THERAPISTS_REQUIRE_2FA, therapists, a second factor not set up yet) reaches only
    the second step (or the set-up), log-out, static files and the language switch: every
    other page sends her there, and the API and what a page's script fetches take the session
    for no one (401). So a password alone opens nothing, the admin included."""
    from django.contrib.auth.models import AnonymousUser
    from django.shortcuts import redirect
    from django.urls import reverse
    from django.utils.http import urlencode

    from . import two_factor

    def allowed(path: str, state: str) -> set[str]:
        common = {reverse("logout"), reverse("admin:logout"), reverse("set_language"), reverse("favicon"),
                  reverse("otp_webauthn:js-i18n-catalog")}
        if state == two_factor.VERIFY:
            return common | {reverse("login_otp"), reverse("otp_webauthn:credential-authentication-begin"),
                             reverse("otp_webauthn:credential-authentication-complete")}
        return common | {reverse("two_factor"), reverse("two_factor_totp"),
                         reverse("otp_webauthn:credential-registration-begin"),
                         reverse("otp_webauthn:credential-registration-complete")}

    def middleware(request):
        if request.user.is_authenticated and not request.path.startswith("/static/"):
            state = two_factor.owed(request)
            if state and request.path not in allowed(request.path, state):
                if request.path.startswith(API_PREFIX) or answers_401(request):
                    request.user = AnonymousUser()
                else:
                    target = request.get_full_path() if request.method == "GET" else ""
                    query = f"?{urlencode({'next': target})}" if target else ""
                    page = "login_otp" if state == two_factor.VERIFY else "two_factor"
                    return redirect(reverse(page) + query)
        return get_response(request)

    return middleware
