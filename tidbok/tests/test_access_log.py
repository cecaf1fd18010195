"""What a real server writes in its logs (R24, docs/security.md): gunicorn's access log and
its error log, with the production server of `manage.py serve`, hold no key of a secret link
(the calendar feed, a video page, a set-password link) and no personnummer typed in a search,
in whatever form the browser or an app encoded it.

Runs on SQLite (the server opens the test database file) and on PostgreSQL."""

import http.client
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from api.tests.helpers import booked, slot_for
from bench.run import Server
from conftest import pnr
from domain.services import token_create

pytestmark = pytest.mark.django_db(transaction=True)  # the server must see the test's rows


def database_url() -> str:
    """The test database, for a server in another process."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{connection.settings_dict['NAME']}"
    from domain.tests.test_faults import test_db_url

    return test_db_url()


class TestServer(Server):
    """gunicorn as in test_faults, with the test settings and their secret: a set-password
    link made here must be valid there."""

    __test__ = False

    def env(self) -> dict:
        return {**super().env(), "DJANGO_SETTINGS_MODULE": "tidbok.settings_test", "SECRET_KEY": settings.SECRET_KEY}


def get(port: int, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response
    finally:
        conn.close()


def search_forms(number: str) -> list[str]:
    """A personnummer as it reaches a query string: typed with a dash, a plus or spaces, and
    encoded by a form (space as +) or by an app (%20, %2B, %2D)."""
    digits = number.replace("-", "")
    ten, date12, serial = digits[2:], digits[:8], digits[8:]
    return [
        f"{ten[:6]}+{serial}", f"{ten[:6]}%2B{serial}", f"{ten[:6]}%2D{serial}", f"{digits[:4]}+{digits[4:8]}+{serial}",
        f"{digits[:4]}%20{digits[4:8]}%20{serial}", f"{date12}-{serial}", quote(f"Anna {date12}-{serial}"),
    ]


def test_the_servers_logs_hold_no_secret_link_and_no_personnummer(anna, erik, tmp_path):
    start = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    booking = booked(slot_for(anna, start), erik, mode="video")
    feed, video = anna.calendar_feed_token, booking.video_token
    uid, reset = urlsafe_base64_encode(force_bytes(erik.user.pk)), default_token_generator.make_token(erik.user)
    number = pnr("19900215", "238")
    bearer = {"Authorization": f"Bearer {token_create(user=anna.user)}"}

    server = TestServer(database_url(), workers=1, logdir=tmp_path)
    server.start()
    try:
        port = server.port
        assert get(port, f"/kalender/feed/{feed}.ics").status == 200
        assert get(port, f"/video/{video}").status == 200
        assert get(port, f"/logga-in/?next=/video/{video}").status == 200
        link = get(port, f"/losenord/{uid}/{reset}/")
        assert link.status == 302 and link.getheader("Location") == f"/losenord/{uid}/set-password/"
        cookie = link.getheader("Set-Cookie").split(";")[0]
        assert get(port, f"/losenord/{uid}/set-password/", {"Cookie": cookie}).status == 200
        for form in search_forms(number):
            assert get(port, f"/api/v1/therapist/clients?q={form}", bearer).status == 200
    finally:
        server.stop()

    access = (tmp_path / "access.log").read_text()
    logs = access + "".join(p.read_text(errors="replace") for p in tmp_path.glob("gunicorn-*.log"))
    # The requests were logged, with their keys hidden; without this the test proves nothing.
    assert "GET /kalender/feed/[token].ics " in access
    assert access.count("GET /video/[token] ") == 1 and "GET /logga-in/?next=/video/[token] " in access
    assert "GET /losenord/[token]/[token]/ " in access
    assert access.count("GET /api/v1/therapist/clients?q=") == len(search_forms(number))
    for secret in (feed, video, reset, f"/losenord/{uid}/", *search_forms(number)):
        assert secret not in logs, f"{secret} in the server's logs"
    digits = number.replace("-", "")
    for part in (digits, digits[2:], digits[2:8], digits[:8]):
        assert part not in logs, f"{part} in the server's logs"
