"""R38: the external busy calendar, fetched from a real HTTP server that the test starts on
127.0.0.1 (a free port) and that serves real .ics files (domain/tests/ical/busy/): weekly
meetings with an exception (EXDATE) and a moved occurrence (RECURRENCE-ID) across the spring
DST change, an all-day event, a DST night, a feed in New York time, free and cancelled events;
ETag/304, a huge feed, a broken feed; the SSRF guard with BUSY_CALENDAR_ALLOW_PRIVATE off.
Both databases."""

import http.server
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.models import AuditEntry, BusyTime, Therapist
from domain.services import busy
from domain.services.busy import address_allowed, busy_calendar_set, busy_fetch, busy_fetch_due

FILES = Path(__file__).parent / "ical" / "busy"
AT = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # a Friday, before the spring DST change (29 March)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Feed:
    """What the server serves, and what it was asked."""

    def __init__(self):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[tuple[str, dict]] = []
        self.on_request = None

    def serve(self, path: str, body: bytes | str, status: int = 200, **headers):
        self.routes[path] = (status, headers, body.encode() if isinstance(body, str) else body)


@pytest.fixture
def server():
    feed = Feed()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            feed.requests.append((self.path, dict(self.headers)))
            if feed.on_request:
                feed.on_request(self.path)
            status, headers, body = feed.routes.get(self.path, (404, {}, b"not here"))
            etag = headers.get("ETag")
            if etag and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(status)
            for name, value in headers.items():
                if name not in ("unsized", "drip"):
                    self.send_header(name, value)
            if "unsized" not in headers:  # else HTTP/1.0: the body ends when the connection closes
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if "drip" in headers:  # a byte at a time, each well inside the read timeout
                    for i in range(len(body)):
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(0.05)
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    feed.handler = Handler  # the same answers over TLS (test_https_…)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    feed.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield feed
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def english(anna, bo):
    """The fetch keeps its message in the therapist's language: these tests read English (the
    Swedish ones are in the .po file, checked by po-fill; the browser test reads Swedish)."""
    from domain.models import User

    User.objects.update(language="en")


@pytest.fixture
def allow_private(settings):
    settings.BUSY_CALENDAR_ALLOW_PRIVATE = True
    return settings


def connect(therapist, url):
    return busy_calendar_set(therapist=therapist, actor=therapist.user, url=url)


def rows(therapist):
    return [(b.start_at.astimezone(UTC).strftime("%m-%d %H:%M"), b.end_at.astimezone(UTC).strftime("%m-%d %H:%M"), b.title)
            for b in BusyTime.objects.filter(therapist=therapist).order_by("start_at")]


def test_weekly_exception_moved_all_day_dst_free_and_cancelled(anna, server, allow_private):
    server.serve("/anna.ics", (FILES / "weekly.ics").read_bytes(), **{"Content-Type": "text/calendar"})
    connect(anna, server.base + "/anna.ics")
    assert busy_fetch(anna, at=AT) == "ok"
    got = rows(anna)
    # Mondays 09:00–10:00 in Stockholm: 08:00Z in winter time, 07:00Z from 30 March (DST);
    # 2 and 9 March lie before the window (a day back); 6 April is an EXDATE; 13 April moved
    # to Tuesday 14 April 13:00 (11:00Z); COUNT=8 ends on 20 April.
    mondays = [r for r in got if r[2].startswith("Handledning")]
    assert mondays == [
        ("03-23 08:00", "03-23 09:00", "Handledning"),
        ("03-30 07:00", "03-30 08:00", "Handledning"),
        ("04-14 11:00", "04-14 12:00", "Handledning (flyttad)"),
        ("04-20 07:00", "04-20 08:00", "Handledning"),
    ]
    # The all-day event is busy for the whole local day 25 March (CET: 24 23:00Z – 25 23:00Z).
    assert ("03-24 23:00", "03-25 23:00", "Konferens") in got
    # The DST night: 01:30 CET to 04:00 CEST is 00:30Z to 02:00Z (an hour and a half).
    assert ("03-29 00:30", "03-29 02:00", "Nattjour") in got
    # Free (TRANSPARENT) and cancelled events are not busy.
    assert not [r for r in got if r[2] in ("Tips (ledig)", "Inställt")]
    anna.refresh_from_db()
    assert anna.busy_synced_at == AT and anna.busy_error == ""


def test_feed_in_another_zone(anna, server, allow_private):
    server.serve("/ny.ics", (FILES / "new_york.ics").read_bytes())
    connect(anna, server.base + "/ny.ics")
    assert busy_fetch(anna, at=AT) == "ok"
    # New York is on summer time from 8 March (UTC−4): 10:00 there is 14:00Z, 09:00 is 13:00Z.
    assert rows(anna) == [
        ("03-23 13:00", "03-23 13:15", "Standup"),
        ("03-24 13:00", "03-24 13:15", "Standup"),
        ("03-24 14:00", "03-24 15:00", "Call with Boston"),
    ]


def test_a_long_event_is_stored_in_pieces_of_a_day(anna, server, allow_private):
    server.serve("/trip.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//SV\r\nBEGIN:VEVENT\r\n"
                 "UID:trip@t\r\nDTSTAMP:20260301T000000Z\r\nSUMMARY:Resa\r\nDTSTART;VALUE=DATE:20260401\r\n"
                 "DTEND;VALUE=DATE:20260404\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    connect(anna, server.base + "/trip.ics")
    assert busy_fetch(anna, at=AT) == "ok"
    # 1–3 April, local days (CEST: from 31 March 22:00Z), three pieces of at most a day.
    assert rows(anna) == [
        ("03-31 22:00", "04-01 22:00", "Resa"),
        ("04-01 22:00", "04-02 22:00", "Resa"),
        ("04-02 22:00", "04-03 22:00", "Resa"),
    ]


def test_etag_304_keeps_the_copy_and_a_new_feed_replaces_it(anna, server, allow_private):
    server.serve("/anna.ics", (FILES / "new_york.ics").read_bytes(), ETag='"v1"')
    connect(anna, server.base + "/anna.ics")
    assert busy_fetch(anna, at=AT) == "ok"
    first = rows(anna)
    assert busy_fetch(anna, at=AT.replace(minute=10)) == "not_modified"
    assert server.requests[-1][1].get("If-None-Match") == '"v1"'
    assert rows(anna) == first
    anna.refresh_from_db()
    assert anna.busy_synced_at == AT.replace(minute=10) and anna.busy_parsed_at == AT
    # A new version (another ETag) replaces the rows whole.
    server.serve("/anna.ics", (FILES / "weekly.ics").read_bytes(), ETag='"v2"')
    assert busy_fetch(anna, at=AT.replace(minute=20)) == "ok"
    assert "Konferens" in {r[2] for r in rows(anna)} and "Standup" not in {r[2] for r in rows(anna)}
    # Half a day later the feed is read whole again (the window has moved): no condition sent.
    assert busy_fetch(anna, at=AT.replace(day=21, hour=1)) == "ok"
    assert "If-None-Match" not in server.requests[-1][1]


@pytest.mark.parametrize("case", ["huge", "huge_unannounced", "broken", "not_found", "html"])
def test_a_bad_feed_keeps_the_last_good_copy_and_tells_her(anna, server, allow_private, case):
    server.serve("/anna.ics", (FILES / "new_york.ics").read_bytes())
    connect(anna, server.base + "/anna.ics")
    assert busy_fetch(anna, at=AT) == "ok"
    good = rows(anna)
    big = b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"x" * (3 * 1024 * 1024) + b"\r\nEND:VCALENDAR\r\n"
    if case == "huge":
        server.serve("/anna.ics", big)
    elif case == "huge_unannounced":  # no Content-Length: cut off while streaming
        server.serve("/anna.ics", big, unsized="1")
    elif case == "broken":
        server.serve("/anna.ics", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:notadate\r\n")
    elif case == "not_found":
        server.routes.pop("/anna.ics")
    else:
        server.serve("/anna.ics", "<html><body>Log in</body></html>", **{"Content-Type": "text/html"})
    result = busy_fetch(anna, at=AT.replace(hour=13))
    anna.refresh_from_db()
    assert result == "failed"
    assert anna.busy_error
    if case.startswith("huge"):
        assert "2 MB" in anna.busy_error
    if case == "not_found":
        assert "404" in anna.busy_error
    assert rows(anna) == good
    assert anna.busy_synced_at == AT


def test_streamed_size_limit_without_content_length(anna, server, allow_private, monkeypatch):
    """An answer with no Content-Length is cut off once past the limit (here made small)."""
    monkeypatch.setattr(busy, "MAX_BYTES", 1000)
    server.serve("/anna.ics", (FILES / "weekly.ics").read_bytes(), unsized="1")  # > 1000 bytes
    connect(anna, server.base + "/anna.ics")
    assert busy_fetch(anna, at=AT) == "failed"
    anna.refresh_from_db()
    assert "MB" in anna.busy_error


def test_a_feed_that_drips_is_given_up_at_the_total_deadline(anna, server, allow_private, monkeypatch):
    """Each byte comes inside the read timeout, but the whole fetch has a deadline (made short
    here): the answer would take 20 s; it is given up after about one."""
    monkeypatch.setattr(busy, "TOTAL_SECONDS", 1.0)
    server.serve("/anna.ics", b"x" * 400, drip="1")
    connect(anna, server.base + "/anna.ics")
    started = time.monotonic()
    assert busy_fetch(anna, at=AT) == "failed"
    assert time.monotonic() - started < 10
    anna.refresh_from_db()
    assert "in time" in anna.busy_error


def test_redirects_are_followed_by_hand_at_most_three(anna, server, allow_private):
    server.serve("/ny.ics", (FILES / "new_york.ics").read_bytes())
    server.serve("/r1", b"", status=302, Location="/r2")
    server.serve("/r2", b"", status=301, Location="/ny.ics")
    connect(anna, server.base + "/r1")
    assert busy_fetch(anna, at=AT) == "ok"
    assert len(rows(anna)) == 3
    for i in range(1, 5):
        server.serve(f"/loop{i}", b"", status=302, Location=f"/loop{i + 1}")
    server.serve("/loop5", (FILES / "new_york.ics").read_bytes())
    connect(anna, server.base + "/loop1")
    assert busy_fetch(anna, at=AT) == "failed"
    anna.refresh_from_db()
    assert "redirects" in anna.busy_error
    server.serve("/to-file", b"", status=302, Location="file:///etc/passwd")
    connect(anna, server.base + "/to-file")
    assert busy_fetch(anna, at=AT) == "failed"
    anna.refresh_from_db()
    assert "https://" in anna.busy_error


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:{port}/anna.ics", "http://10.1.2.3:{port}/anna.ics", "http://169.254.169.254/latest/meta-data/",
     "http://[::1]:{port}/anna.ics", "http://localhost:{port}/anna.ics", "http://[::ffff:127.0.0.1]:{port}/anna.ics",
     "http://0.0.0.0:{port}/anna.ics"],
)
def test_ssrf_guard_refuses_private_addresses(anna, server, settings, url):
    settings.BUSY_CALENDAR_ALLOW_PRIVATE = False
    server.serve("/anna.ics", (FILES / "new_york.ics").read_bytes())
    connect(anna, url.format(port=server.base.rsplit(":", 1)[1]))
    assert busy_fetch(anna, at=AT) == "failed"
    anna.refresh_from_db()
    assert "private network" in anna.busy_error
    assert server.requests == []  # nothing was even asked of our server
    assert not BusyTime.objects.exists()


def test_ssrf_guard_checks_each_redirect_hop(anna, server, settings):
    """The first hop is allowed (the setting is on); while it answers, the setting goes off, as
    if the first server were public: its redirect to 127.0.0.1 is then refused."""
    settings.BUSY_CALENDAR_ALLOW_PRIVATE = True
    server.serve("/ny.ics", (FILES / "new_york.ics").read_bytes())
    server.serve("/r1", b"", status=302, Location=server.base + "/ny.ics")
    connect(anna, server.base + "/r1")

    def turn_off(path):
        settings.BUSY_CALENDAR_ALLOW_PRIVATE = False

    server.on_request = turn_off
    assert busy_fetch(anna, at=AT) == "failed"
    assert [p for p, _h in server.requests] == ["/r1"]
    anna.refresh_from_db()
    assert "private network" in anna.busy_error


@pytest.mark.parametrize("ip", ["127.0.0.1", "10.0.0.8", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                                "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1",
                                "fc00::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:169.254.169.254"])
def test_addresses_refused(ip):
    assert not address_allowed(ip)


@pytest.mark.parametrize("ip", ["93.184.216.34", "142.250.74.110", "2a00:1450:4001:80b::200e", "::ffff:93.184.216.34"])
def test_public_addresses_allowed(ip):
    assert address_allowed(ip)


def test_ssrf_guard_a_name_resolving_to_private(anna, server, settings, monkeypatch):
    """A DNS name whose answer is private (the resolver boundary replaced: `busy.resolve`)."""
    settings.BUSY_CALENDAR_ALLOW_PRIVATE = False
    monkeypatch.setattr(busy, "resolve", lambda host, port: ["93.184.216.34", "10.0.0.5"])
    connect(anna, "https://calendar.example.com/secret.ics")
    assert busy_fetch(anna, at=AT) == "failed"
    anna.refresh_from_db()
    assert "private network" in anna.busy_error


def test_the_connection_goes_to_the_checked_address_with_the_host_header_kept(anna, server, allow_private, monkeypatch):
    """The name is resolved once (here: to our server) and the request goes to that address,
    with the name in the Host header: a second, different DNS answer cannot be used."""
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])
    monkeypatch.setattr(busy, "resolve", lambda host, port: next(answers))
    server.serve("/ny.ics", (FILES / "new_york.ics").read_bytes())
    port = server.base.rsplit(":", 1)[1]
    connect(anna, f"http://calendar.example.com:{port}/ny.ics")
    assert busy_fetch(anna, at=AT) == "ok"
    assert server.requests[0][1]["Host"] == f"calendar.example.com:{port}"


def test_address_validation_and_audit(anna):
    for bad in ["ftp://example.com/a.ics", "file:///etc/passwd", "example.com/a.ics", "http://", "https://a b.se/x"]:
        with pytest.raises(Exception) as e:
            connect(anna, bad)
        assert "busy_calendar_url" in e.value.message_dict
    connect(anna, "webcal://calendar.example.com/secret-key/basic.ics")
    anna.refresh_from_db()
    assert anna.busy_calendar_url == "https://calendar.example.com/secret-key/basic.ics"
    entry = AuditEntry.objects.get(action="therapist.busy_calendar")
    assert entry.after == {"busy_calendar": True, "busy_show_titles": False, "busy_calendar_host": "calendar.example.com"}
    assert "secret-key" not in str(entry.after)


def test_removing_the_address_removes_the_busy_times(anna, server, allow_private):
    server.serve("/ny.ics", (FILES / "new_york.ics").read_bytes())
    connect(anna, server.base + "/ny.ics")
    busy_fetch(anna, at=AT)
    assert BusyTime.objects.filter(therapist=anna).count() == 3
    connect(anna, "")
    assert not BusyTime.objects.filter(therapist=anna).exists()
    assert busy_fetch(anna, at=AT) == "none"


def test_the_periodic_job_fetches_each_and_one_broken_stops_none(anna, bo, server, allow_private):
    server.serve("/ny.ics", (FILES / "new_york.ics").read_bytes())
    connect(anna, server.base + "/broken")
    connect(bo, server.base + "/ny.ics")
    assert busy_fetch_due(at=AT) == {"failed": 1, "ok": 1}
    assert BusyTime.objects.filter(therapist=bo).count() == 3
    assert Therapist.objects.get(pk=anna.pk).busy_error


def test_the_message_is_kept_in_her_language(anna, server, settings):
    settings.BUSY_CALENDAR_ALLOW_PRIVATE = False
    anna.user.language = "sv"
    anna.user.save()
    connect(anna, server.base + "/anna.ics")
    assert busy_fetch(anna, at=AT) == "failed"
    anna.refresh_from_db()
    assert anna.busy_error == "Kalenderns adress pekar in i ett privat nätverk, och det är inte tillåtet."


def test_a_rule_with_a_million_occurrences_is_not_expanded_whole(anna, server, allow_private):
    server.serve("/anna.ics", (FILES / "new_york.ics").read_bytes())
    connect(anna, server.base + "/anna.ics")
    busy_fetch(anna, at=AT)
    server.serve("/anna.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//SV\r\nBEGIN:VEVENT\r\n"
                 "UID:m@t\r\nDTSTAMP:20260301T000000Z\r\nSUMMARY:Varje minut\r\nDTSTART:20260301T000000Z\r\n"
                 "DTEND:20260301T000100Z\r\nRRULE:FREQ=MINUTELY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    assert busy_fetch(anna, at=AT.replace(hour=13)) == "failed"
    anna.refresh_from_db()
    assert "too many events" in anna.busy_error
    assert len(rows(anna)) == 3  # the last good copy


def _certificate(name: str, tmp_path):
    """A certificate for `name` signed by a certificate authority made here: (ca, cert, key) files."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def make(subject, issuer, key, signer, ca: bool, san=None):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(datetime.now(UTC) - timedelta(days=1))
                   .not_valid_after(datetime.now(UTC) + timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=not ca, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False), critical=True)
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tidbok test CA")])
    ca = make(ca_name, ca_name, ca_key, ca_key, True)
    cert = make(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]), ca_name, key, ca_key, False, san=name)
    pem = serialization.Encoding.PEM
    files = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    files[0].write_bytes(ca.public_bytes(pem))
    files[1].write_bytes(cert.public_bytes(pem))
    files[2].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return files


@pytest.mark.parametrize("cert_name, works", [("calendar.test", True), ("other.test", False)])
def test_https_to_the_checked_address_verifies_the_hosts_name(anna, server, allow_private, monkeypatch, tmp_path,
                                                                cert_name, works):
    """https: the connection goes to the resolved IP, yet the TLS name sent (SNI) and checked is the
    host's: a certificate for calendar.test is accepted, one for another name is refused."""
    import ssl

    ca, cert, key = _certificate(cert_name, tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server.serve("/ny.ics", (FILES / "new_york.ics").read_bytes())

    seen = {}

    def remember(conn, name, context):
        seen["sni"] = name

    server_context.sni_callback = remember
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), server.handler)
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(busy, "VERIFY", ssl.create_default_context(cafile=str(ca)))
        monkeypatch.setattr(busy, "resolve", lambda host, port: ["127.0.0.1"])
        connect(anna, f"https://calendar.test:{httpd.server_address[1]}/ny.ics")
        assert busy_fetch(anna, at=AT) == ("ok" if works else "failed")
        assert seen["sni"] == "calendar.test"
        assert len(rows(anna)) == (3 if works else 0)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_stored_listing_follows_her_busy_times(anna, server, allow_private):
    """R9 with R38: a fetch that replaces her busy times, and removing her address, refresh her
    place in the listing (`Listing`) in their own transactions."""
    import time_machine

    from domain.selectors import therapist_listing, therapist_listing_live
    from domain.services import slot_create

    server.serve("/anna.ics", (FILES / "weekly.ics").read_bytes())
    with time_machine.travel(AT, tick=False):
        inside = slot_create(therapist=anna, actor=None, start=utc("2026-03-23T08:00:00"), duration_minutes=30)
        after = slot_create(therapist=anna, actor=None, start=utc("2026-03-23T10:00:00"))

        def next_available():
            stored = {t.pk: t.next_available for t in therapist_listing()}[anna.pk]
            assert stored == {t.pk: t.next_available for t in therapist_listing_live()}[anna.pk]
            return stored

        assert next_available() == inside.start_at
        connect(anna, server.base + "/anna.ics")
        assert busy_fetch(anna, at=AT) == "ok"  # Monday's meeting covers the first slot
        assert next_available() == after.start_at
        connect(anna, "")
        assert next_available() == inside.start_at
