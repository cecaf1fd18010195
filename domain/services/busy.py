"""R38: the therapist's external busy calendar (an iCalendar address, e.g. Google's or
Outlook's "secret address"). `busy_calendar_set` keeps the address; `busy_fetch` fetches it
(every 10 minutes from domain/periodic.py, and on demand from the settings page and the API)
and replaces her `BusyTime` rows whole on each good fetch. A broken, huge or unreachable feed
leaves the last good copy and a message for her (`Therapist.busy_error`).

Security (SSRF): only http(s); every hop's host is resolved once and each address checked
(`address_allowed`: no private, loopback, link-local, multicast, reserved or unspecified
address, IPv4 or IPv6, IPv4-mapped included); the connection goes to that checked address
(the URL is rewritten to the IP, the Host header and the TLS SNI/certificate name stay the
host's), so a DNS answer cannot change between check and connect. Redirects are followed by
hand, each hop checked again, at most `MAX_REDIRECTS`. `settings.BUSY_CALENDAR_ALLOW_PRIVATE`
lifts the address check (tests, on-premise servers)."""

import ipaddress
import logging
import socket
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import httpx
import icalendar
import recurring_ical_events
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import BUSY_PIECE, BUSY_TITLE_MAX_LENGTH, BUSY_URL_MAX_LENGTH, BusyTime, Therapist, User
from .audit import audit_write
from .listing import listing_refresh

log = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 3
MAX_ROWS = 5000
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# The whole fetch, all hops and the body together: a server that drips its answer a byte at a
# time (each read inside TIMEOUT) cannot hold a worker longer than this.
TOTAL_SECONDS = 30.0
# TLS: the certificate is checked against the host's name (certifi's roots). A test gives an
# ssl.SSLContext that trusts its own certificate authority instead.
VERIFY: object = True
# A 304 keeps the rows only while they were read from the feed recently: the window moves on,
# so at least once a day the feed is fetched whole and expanded again.
REPARSE_AFTER = timedelta(hours=12)
PAST = timedelta(days=1)
MIN_AHEAD = timedelta(days=30)
EVERY = 10 * 60  # seconds, domain/periodic.py


class FetchError(Exception):
    """The feed could not be used; `message` is for her (settings page, API)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def address_allowed(ip: str) -> bool:
    """Whether a connection may go to `ip`: a public unicast address (an IPv4-mapped IPv6
    address is judged as the IPv4 address it carries)."""
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def resolve(host: str, port: int) -> list[str]:
    """The resolver boundary: the host's addresses (tests may replace only this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    if url.startswith("webcal://"):  # what calendars often hand out: http(s) underneath
        url = "https://" + url[len("webcal://"):]
    if len(url) > BUSY_URL_MAX_LENGTH:
        raise ValidationError({"busy_calendar_url": _("The address may be at most %(max)d characters.")
                               % {"max": BUSY_URL_MAX_LENGTH}})
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
            or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url)):
        raise ValidationError({"busy_calendar_url": _("Give an address that starts with https:// (or http://).")})
    return url


def _target(url: str) -> tuple[httpx.URL, dict, dict]:
    """The request to make for `url`: to the checked address, with Host and SNI of the name."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(_("The calendar address must start with https:// or http://."))
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise FetchError(_("The calendar's server %(host)s could not be found.") % {"host": host}) from None
    if not addresses:
        raise FetchError(_("The calendar's server %(host)s could not be found.") % {"host": host})
    if not settings.BUSY_CALENDAR_ALLOW_PRIVATE and not all(address_allowed(a) for a in addresses):
        raise FetchError(_("The calendar address points into a private network, which is not allowed."))
    ip = addresses[0]
    request_url = httpx.URL(url).copy_with(host=ip)
    default_port = port == (443 if parts.scheme == "https" else 80)
    headers = {"Host": host if default_port else f"{host}:{port}"}
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return request_url, headers, extensions


@dataclass
class Fetched:
    body: bytes | None  # None: not modified (304)
    etag: str = ""
    last_modified: str = ""


def fetch(url: str, etag: str = "", last_modified: str = "") -> Fetched:
    """GET `url` under the SSRF guard, streamed and cut off past `MAX_BYTES`."""
    conditional = {}
    if etag:
        conditional["If-None-Match"] = etag
    if last_modified:
        conditional["If-Modified-Since"] = last_modified
    deadline = monotonic() + TOTAL_SECONDS
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False, verify=VERIFY) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            if monotonic() > deadline:
                raise FetchError(_("The calendar's server did not answer in time."))
            request_url, headers, extensions = _target(url)
            request = client.build_request(
                "GET", request_url, headers={**headers, **conditional, "Accept": "text/calendar, */*"},
                extensions=extensions,
            )
            try:
                response = client.send(request, stream=True)
            except httpx.TimeoutException:
                raise FetchError(_("The calendar's server did not answer in time.")) from None
            except httpx.HTTPError as e:
                log.info("busy calendar: %s: %r", urlsplit(url).hostname, e)
                raise FetchError(_("The calendar's server could not be reached.")) from None
            try:
                if response.status_code == 304:
                    return Fetched(None, etag, last_modified)
                if response.status_code in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status_code != 200:
                    raise FetchError(_("The calendar's server answered with an error (HTTP %(status)d).")
                                     % {"status": response.status_code})
                length = response.headers.get("Content-Length", "")
                if length.isdigit() and int(length) > MAX_BYTES:
                    raise _too_big()
                chunks, size = [], 0
                try:
                    for chunk in response.iter_bytes():
                        if monotonic() > deadline:
                            raise FetchError(_("The calendar's server did not answer in time."))
                        size += len(chunk)
                        if size > MAX_BYTES:
                            raise _too_big()
                        chunks.append(chunk)
                except httpx.TimeoutException:
                    raise FetchError(_("The calendar's server did not answer in time.")) from None
                except httpx.HTTPError:
                    raise FetchError(_("The calendar's server could not be reached.")) from None
                return Fetched(
                    b"".join(chunks), response.headers.get("ETag", "")[:200],
                    response.headers.get("Last-Modified", "")[:100],
                )
            finally:
                response.close()
    raise FetchError(_("The calendar address redirects too many times."))


def _too_big() -> FetchError:
    return FetchError(_("The calendar is larger than %(mb)d MB, so it was not read.") % {"mb": MAX_BYTES // (1024 * 1024)})


def _as_utc(value, zone: ZoneInfo, end: bool = False) -> datetime:
    """A DTSTART/DTEND value as an aware UTC datetime: a date is the start of that local day
    in her zone, a floating time is her local time."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(ZoneInfo("UTC"))
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))
    raise ValueError(value)


def busy_intervals(data: bytes, zone_name: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    """The busy stretches of an iCalendar file between `start` and `end` (aware): recurring
    events expanded in `zone_name` (recurring-ical-events: RRULE, RDATE, EXDATE, moved
    occurrences by RECURRENCE-ID), all-day events busy for the whole local day, transparent
    (free) and cancelled events left out. Raises FetchError for what is no calendar."""
    zone = ZoneInfo(zone_name)
    try:
        return _intervals(data, zone, start, end)
    except FetchError:
        raise
    except Exception:  # the parsers raise many kinds on a broken file, also while expanding
        raise FetchError(_("The address did not give a calendar that could be read (iCalendar).")) from None


def _occurrences(data: bytes, zone: ZoneInfo, start: datetime, end: datetime):
    """The events from `start` on, lazily, in the order they start, up to `end`: a rule that
    would give a million occurrences (FREQ=MINUTELY) stops at `MAX_ROWS`, never expanded whole."""
    calendar = icalendar.Calendar.from_ical(data)
    for count, event in enumerate(recurring_ical_events.of(calendar).after(start)):
        dtstart = event.get("DTSTART")
        if dtstart is not None and _as_utc(dtstart.dt, zone) >= end:
            return
        if count >= MAX_ROWS:
            raise FetchError(_("The calendar has too many events to read (more than %(max)d).") % {"max": MAX_ROWS})
        yield event


def _intervals(data: bytes, zone: ZoneInfo, start: datetime, end: datetime) -> list:
    found = []
    for event in _occurrences(data, zone, start, end):
        if event.name != "VEVENT":
            continue
        if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        dtstart = event.get("DTSTART")
        if dtstart is None:
            continue
        first = dtstart.dt
        if event.get("DTEND") is not None:
            last = event["DTEND"].dt
        elif event.get("DURATION") is not None:
            last = first + event["DURATION"].dt
        else:
            last = first + timedelta(days=1) if not isinstance(first, datetime) else first
        try:
            s, e = _as_utc(first, zone), _as_utc(last, zone)
        except ValueError:
            continue
        s, e = max(s, start), min(e, end)
        if e <= s:
            continue
        title = str(event.get("SUMMARY", ""))[:BUSY_TITLE_MAX_LENGTH]
        found.append((s, e, title))
    found.sort()
    return found


def _pieces(intervals) -> list[tuple[datetime, datetime, str]]:
    """Each stretch cut into pieces of at most `BUSY_PIECE` (the read bound of BusyTime)."""
    pieces = []
    for s, e, title in intervals:
        while e - s > BUSY_PIECE:
            pieces.append((s, s + BUSY_PIECE, title))
            s += BUSY_PIECE
        pieces.append((s, e, title))
    return pieces


def window(therapist: Therapist, at: datetime) -> tuple[datetime, datetime]:
    """The stretch kept: a day back, and as far ahead as her clients may book (at least 30 days)."""
    ahead = max(timedelta(days=therapist.booking_horizon_days + 1), MIN_AHEAD)
    return at - PAST, at + ahead


def busy_calendar_set(*, therapist: Therapist, actor: User | None, url: str | None = None,
                      show_titles: bool | None = None) -> Therapist:
    """Her address (empty: none, and her busy times go) and whether her week shows titles."""
    with transaction.atomic():
        therapist = Therapist.objects.select_for_update().get(pk=therapist.pk)
        before = {"busy_calendar": bool(therapist.busy_calendar_url), "busy_show_titles": therapist.busy_show_titles}
        if url is not None:
            url = _clean_url(url)
            if url != therapist.busy_calendar_url:
                therapist.busy_calendar_url = url
                therapist.busy_etag = therapist.busy_last_modified = therapist.busy_error = ""
                therapist.busy_synced_at = therapist.busy_parsed_at = None
                BusyTime.objects.filter(therapist=therapist).delete()
        if show_titles is not None:
            therapist.busy_show_titles = bool(show_titles)
        therapist.save()
        # The address is a secret: the audit keeps only that there is one, and its host.
        after = {"busy_calendar": bool(therapist.busy_calendar_url), "busy_show_titles": therapist.busy_show_titles}
        if therapist.busy_calendar_url:
            after["busy_calendar_host"] = urlsplit(therapist.busy_calendar_url).hostname
        if before != {k: after[k] for k in before} or url:
            audit_write(actor=actor, action="therapist.busy_calendar", target=therapist, therapist_id=therapist.pk,
                        before=before, after=after)
        listing_refresh([therapist.pk])  # R9: her busy times may have gone; last, see services.listing
    return therapist


def busy_fetch(therapist: Therapist, at: datetime | None = None) -> str:
    """Fetch her calendar now. Answers "ok", "not_modified", "failed" or "none" (no address).
    A failure keeps her last good busy times and stores the message for her."""
    at = at or timezone.now()
    therapist = Therapist.objects.select_related("user").get(pk=therapist.pk)
    if not therapist.busy_calendar_url:
        return "none"
    # The message kept for her is in her language (the periodic job has no request).
    with translation.override(therapist.user.language or settings.LANGUAGE_CODE):
        return _busy_fetch(therapist, at)


def _busy_fetch(therapist: Therapist, at: datetime) -> str:
    url = therapist.busy_calendar_url
    reuse = therapist.busy_parsed_at is not None and at - therapist.busy_parsed_at < REPARSE_AFTER
    try:
        got = fetch(url, *((therapist.busy_etag, therapist.busy_last_modified) if reuse else ("", "")))
        rows = None
        if got.body is not None:
            start, end = window(therapist, at)
            rows = _pieces(busy_intervals(got.body, therapist.timezone, start, end))
            if len(rows) > MAX_ROWS:
                raise FetchError(_("The calendar has too many events to read (more than %(max)d).") % {"max": MAX_ROWS})
    except FetchError as e:
        log.info("busy calendar of therapist %s: %s", therapist.pk, e.message)
        Therapist.objects.filter(pk=therapist.pk, busy_calendar_url=url).update(busy_error=e.message)
        return "failed"
    with transaction.atomic():
        # Only if the address is still the one fetched (she may have changed it meanwhile).
        locked = Therapist.objects.select_for_update().filter(pk=therapist.pk, busy_calendar_url=url).first()
        if locked is None:
            return "failed"
        fields = {"busy_synced_at": at, "busy_error": ""}
        if rows is not None:
            BusyTime.objects.filter(therapist=locked).delete()
            BusyTime.objects.bulk_create(BusyTime(therapist=locked, start_at=s, end_at=e, title=t) for s, e, t in rows)
            fields.update(busy_parsed_at=at, busy_etag=got.etag, busy_last_modified=got.last_modified)
        Therapist.objects.filter(pk=locked.pk).update(**fields)
        if rows is not None:
            listing_refresh([locked.pk])  # R9: last, see services.listing
    return "ok" if rows is not None else "not_modified"


def busy_fetch_due(at: datetime | None = None) -> dict:
    """The periodic job: every therapist with an address, each on its own (one broken feed
    does not stop the others)."""
    done: dict[str, int] = {}
    for therapist in Therapist.objects.exclude(busy_calendar_url="").only("pk"):
        try:
            result = busy_fetch(therapist, at)
        except Exception:
            log.exception("busy calendar of therapist %s", therapist.pk)
            result = "failed"
        done[result] = done.get(result, 0) + 1
    return done


def busy_times(therapist: Therapist, start: datetime, end: datetime):
    """Her busy times overlapping [start, end), in order (the pieces as stored)."""
    return BusyTime.objects.filter(therapist=therapist).overlapping(start, end).order_by("start_at")


def busy_merged(therapist: Therapist, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    """Her busy times in [start, end) as she sees them: the stored pieces of one event joined
    again (consecutive, same title)."""
    merged: list[list] = []
    for b in busy_times(therapist, start, end):
        if merged and merged[-1][1] == b.start_at and merged[-1][2] == b.title:
            merged[-1][1] = b.end_at
        else:
            merged.append([b.start_at, b.end_at, b.title])
    return [tuple(m) for m in merged]


def busy_mark(therapist: Therapist, slots, start: datetime, end: datetime) -> None:
    """Set `slot.busy` on each of her slots (in [start, end)) that overlaps a busy time: one
    read of the busy times in the window, then in memory; none without an address (her busy
    times exist only while she has one: `busy_calendar_set` deletes them with it), so the
    calendar of a therapist without one pays nothing."""
    intervals = [(b.start_at, b.end_at) for b in busy_times(therapist, start, end)] if has_busy_calendar(therapist) else []
    for slot in slots:
        slot.busy = any(s < slot.end_at and e > slot.start_at for s, e in intervals)


def busy_settings(therapist: Therapist) -> dict:
    """Her R38 settings as the API and the settings page show them."""
    return {
        "busy_calendar_url": therapist.busy_calendar_url,
        "busy_show_titles": therapist.busy_show_titles,
        "busy_synced_at": therapist.busy_synced_at,
        "busy_error": therapist.busy_error,
    }


def has_busy_calendar(therapist: Therapist) -> bool:
    """Whether she has an address, so busy times at all (they go with it)."""
    return bool(therapist.busy_calendar_url)


def slot_is_busy(slot) -> bool:
    """R38: the slot overlaps a busy time of her other calendar (no query without one)."""
    if not has_busy_calendar(slot.therapist):
        return False
    return BusyTime.objects.filter(therapist_id=slot.therapist_id).overlapping(slot.start_at, slot.end_at).exists()
