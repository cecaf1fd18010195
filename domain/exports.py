"""R40: what Tidbok holds about a client, for her to download, and a therapist's clients and
bookings, as JSON or as a CSV file a spreadsheet opens correctly. Reads only.

The CSV (docs/privacy.md, "Export"): UTF-8 with a byte-order mark (so Excel reads å, ä, ö
right), `;` between cells (Swedish Excel's list separator: a `,` file opens in one column
there), CRLF line ends, a header row. One row per booking, with its client's columns, then
one row for each client on her list who has no booking (the booking's columns empty). Times
in her time zone as `YYYY-MM-DD HH:MM` (spreadsheets read that as a date and time). A cell
that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
carriage return) is prefixed with `'` (OWASP's advice for CSV injection), so `=HYPERLINK(…)`
typed as a name stays text."""

import csv
import io
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from .models import Booking, Client, ClientLink, OutboundEmail, Therapist
from .privacy import POLICY_VERSION
from .selectors import access_log_lines, access_log_of
from .timezones import local

EXPORT_FORMAT = "tidbok-export-1"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _iso(value: datetime | None, tz=None) -> str | None:
    if value is None:
        return None
    return local(value, tz).isoformat() if tz else value.isoformat()


def client_export(client: Client) -> dict:
    """Everything Tidbok holds about this client and her account: the account, her client
    profile, the therapists whose lists she is on, her bookings with their therapists, the
    mails sent to her address (as the outbox holds them), her API keys, her consent and who
    has read her data (R39's access log, as she reads it on her page)."""
    user = client.user
    bookings = (
        Booking.objects.filter(client=client).select_related("therapist__user").order_by("start_at", "pk")
    )
    links = ClientLink.objects.filter(client=client).select_related("therapist__user").order_by("created_at", "pk")
    mails = OutboundEmail.objects.filter(to__iexact=client.email).order_by("created_at", "pk")
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(timezone.now()),
        "account": None,
        "client": {
            "id": client.pk,
            "first_name": client.first_name,
            "last_name": client.last_name,
            "personnummer": client.personnummer,
            "personnummer_verified": client.personnummer_verified,
            "email": client.email,
            "phone": client.phone,
            "language": client.language,
            "created": _iso(client.created_at),
        },
        "therapists": [
            {
                "id": link.therapist_id,
                "first_name": link.therapist.first_name,
                "last_name": link.therapist.last_name,
                "on_list_since": _iso(link.created_at),
                "source": link.source,
            }
            for link in links
        ],
        "bookings": [_booking(b, therapist=True) for b in bookings],
        "emails": [
            {
                "id": m.pk,
                "kind": m.kind,
                "to": m.to,
                "subject": m.subject,
                "body": m.body,
                "status": m.status,
                "created": _iso(m.created_at),
                "sent": _iso(m.sent_at),
            }
            for m in mails
        ],
        # R37: the wait lists she is on, with what suits her.
        "waitlist": [
            {
                "therapist_id": w.therapist_id,
                "weekdays": w.weekdays,
                "from_time": w.from_time.isoformat("minutes") if w.from_time else None,
                "to_time": w.to_time.isoformat("minutes") if w.to_time else None,
                "modes": w.modes,
                "joined": _iso(w.created_at),
            }
            for w in client.waitlist_entries.all()
        ],
        "api_keys": [],
        "consent": None,
        "access_log": [
            {"at": _iso(line["at"]), "who": {"role": line["role"], "name": line["name"]}, "what": line["what"]}
            for line in access_log_lines(access_log_of(client))
        ],
    }
    if user is not None:
        data["account"] = {
            "id": user.pk,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "language": user.language,
            "email_verified": user.email_verified,
            "joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        }
        data["api_keys"] = [
            {"id": t.pk, "label": t.label, "created": _iso(t.created_at), "last_used": _iso(t.last_used_at)}
            for t in user.api_tokens.order_by("created_at", "pk")
        ]
        data["consent"] = {
            "privacy_policy_version": user.privacy_policy_version or None,
            "accepted": _iso(user.privacy_policy_accepted_at),
            "current_version": POLICY_VERSION,
        }
    return data


def _booking(b: Booking, *, therapist: bool = False, client: bool = False) -> dict:
    tz = b.therapist.tz
    out = {
        "id": b.pk,
        "start": _iso(b.start_at, tz),
        "end": _iso(b.end_at, tz),
        "duration_minutes": b.duration_minutes,
        "mode": b.mode,
        "price": b.price,
        "status": b.status,
        "booked": _iso(b.created_at, tz),
        "booked_by_client": b.by_client,
        "cancelled": _iso(b.cancelled_at, tz),
        "outcome": b.outcome,  # R34: what her therapist recorded (attended, no_show, late_cancelled)
    }
    if therapist:
        out["therapist"] = {"id": b.therapist_id, "first_name": b.therapist.first_name,
                            "last_name": b.therapist.last_name}
        out["video_url"] = b.video_url
    if client:
        out["client_id"] = b.client_id
        out["client"] = {"id": b.client_id, "first_name": b.client.first_name, "last_name": b.client.last_name}
    return out


def _client_row(client: Client, source: str | None) -> dict:
    """A client as her therapist sees her: everything when on her list; only the name of
    one who is not (a platform client who left the list, an erased person's placeholder)."""
    on_list = source is not None
    return {
        "id": client.pk,
        "first_name": client.first_name,
        "last_name": client.last_name,
        "personnummer": client.personnummer if on_list else "",
        "email": client.email if on_list else "",
        "phone": client.phone if on_list else "",
        "source": source or "",
    }


def therapist_export(therapist: Therapist) -> dict:
    """Her clients (her list) and her bookings, each booking naming its client by id."""
    links = {
        link.client_id: link
        for link in ClientLink.objects.filter(therapist=therapist).select_related("client").order_by("client__pk")
    }
    bookings = list(
        Booking.objects.filter(therapist=therapist).select_related("client", "therapist__user").order_by("start_at", "pk")
    )
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(timezone.now()),
        "therapist": {"id": therapist.pk, "first_name": therapist.first_name, "last_name": therapist.last_name,
                      "timezone": therapist.timezone},
        "clients": [_client_row(link.client, link.source) for link in links.values()],
        "bookings": [_booking(b, client=True) for b in bookings],
    }


def therapist_export_client_ids(therapist: Therapist) -> list[int]:
    """The clients whose data her export carries (her list and her bookings' clients): what
    the export's read is logged under (R39)."""
    return list(
        Client.objects.filter(Q(therapist_links__therapist=therapist) | Q(bookings__therapist=therapist))
        .values_list("pk", flat=True)
        .distinct()
    )


CSV_COLUMNS = [
    "client_id", "first_name", "last_name", "personnummer", "email", "phone", "source",
    "booking_id", "start", "end", "duration_minutes", "mode", "price", "status",
]


def neutralise(value) -> str:
    """A cell's text that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def therapist_export_csv(therapist: Therapist) -> bytes:
    """The CSV file described in the module's docstring."""
    tz = therapist.tz
    links = {link.client_id: link.source for link in ClientLink.objects.filter(therapist=therapist)}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    booked = set()
    for b in Booking.objects.filter(therapist=therapist).select_related("client").order_by("start_at", "pk"):
        booked.add(b.client_id)
        c = _client_row(b.client, links.get(b.client_id))
        row = [c["id"], c["first_name"], c["last_name"], c["personnummer"], c["email"], c["phone"], c["source"],
               b.pk, f"{local(b.start_at, tz):%Y-%m-%d %H:%M}",
               f"{local(b.end_at, tz):%Y-%m-%d %H:%M}", b.duration_minutes, b.mode, b.price, b.status]
        writer.writerow([neutralise(v) for v in row])
    for client in Client.objects.filter(therapist_links__therapist=therapist).exclude(pk__in=booked).order_by("pk"):
        c = _client_row(client, links[client.pk])
        row = [c["id"], c["first_name"], c["last_name"], c["personnummer"], c["email"], c["phone"], c["source"]]
        writer.writerow([neutralise(v) for v in row] + [""] * 7)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
