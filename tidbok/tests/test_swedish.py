"""No English on a Swedish page or error (R23; issue 10, finding 5), checked by walking every
URL pattern of ours: tidbok/urls.py with all its includes (the pages, the API, the admin), each
path parameter filled with a real object of the personas, requested as an anonymous visitor, a
therapist, a client and staff, by GET and by an empty POST, following redirects; then the error
pages (400, 403, the CSRF refusal, 404, 500) and an API error of every kind. What a person
could read in each answer (the text of a page, the words of a JSON body) must hold none of our
English source texts (the msgids of our .po files, as client_pages' browser test's `in_swedish`
finds them) and none of the English that Django, django-ninja and pydantic write by default."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.defaults import server_error
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from api.tests.helpers import booked, slot_for
from client_pages.tests.test_browser import english_texts
from conftest import api_for, at
from domain.models import ApiToken, TimeOff, User
from domain.services.access_log import record_reads
from domain.services.accounts import email_verification_token
from domain.services.clients import invitation_token
from domain.services.series import series_create
from domain.services.two_factor import recovery_codes_create
from tidbok.middleware import api_errors_as_json

pytestmark = pytest.mark.usefixtures("now")

# The English of code we did not write, as it shows when our own words are missing.
FOREIGN_ENGLISH = [
    "Not Found", "Not found", "The requested resource", "Forbidden", "Bad Request", "Server Error", "Unauthorized",
    "Page not found", "CSRF verification failed", "Method not allowed", "Field required", "Input should be",
    "Cannot parse", "This field is required", "Django administration", "Too many requests", "List should have",
    "String should have", "Value error",
]
FOREIGN = re.compile(r"\b(?:" + "|".join(re.escape(t) for t in FOREIGN_ENGLISH) + r")\b")
# Answers that are not for people to read in Swedish, and why.
NOT_PROSE = {
    "api-v1:openapi-json": "the OpenAPI document: the API's contract for programmers, in English like docs/api.md",
    "api-v1:openapi-view": "the API's browsable docs, a rendering of that document",
    "admin:jsi18n": "the admin's JavaScript catalog: code, its strings keyed by their English originals",
    "therapist_pages:feed": "an iCalendar file for calendar programs (its words are checked in the feed's tests)",
}


class VisibleText(HTMLParser):
    """The text a person sees or hears on a page: text outside scripts and styles, the
    attributes a browser shows or reads aloud, and the strings inside JSON data blocks (the
    words our scripts show)."""

    SHOWN_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "label"}

    def __init__(self):
        super().__init__()
        self.pieces, self.inside, self.json_block = [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in ("br", "input", "img", "meta", "link", "hr", "source", "col", "wbr"):
            self.inside.append(tag)
        self.json_block = tag == "script" and attrs.get("type") == "application/json"
        self.pieces += [v for k, v in attrs.items() if v and k in self.SHOWN_ATTRIBUTES]
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.pieces.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in self.inside:
            while self.inside and self.inside.pop() != tag:
                pass
        self.json_block = False

    def handle_data(self, data):
        if self.json_block:
            self.pieces += strings_in(json.loads(data))
        elif not ({"script", "style", "template"} & set(self.inside)):
            self.pieces.append(data)


def strings_in(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def readable(response) -> str:
    """What a person could read in an answer."""
    kind = response.get("Content-Type", "")
    body = response.content.decode("utf-8", "replace")
    if kind.startswith("application/json"):
        return "\n".join(strings_in(json.loads(body))) if body else ""
    if kind.startswith("text/html"):
        parser = VisibleText()
        parser.feed(body)
        return " ".join(" ".join(parser.pieces).split())
    return body


def english_in(text: str) -> list[str]:
    return sorted({t for t in english_texts() if t in text} | set(FOREIGN.findall(text)))


def assert_swedish(response, where) -> None:
    if response.streaming:
        # A static file WhiteNoise serves (the favicon's target once `make run` has collected
        # the static files into TIDBOK_DATA_DIR): bytes from disk, no words of ours.
        return
    if b"<html" in response.content:  # a whole page, not a fragment of one
        assert re.search(rb'<html[^>]* lang="sv"', response.content), (where, response.status_code)
    english = english_in(readable(response))
    assert not english, (where, response.status_code, english)


def url_patterns(resolver=None, namespace="", route=()):
    """(name, the patterns from the root down to it) of every URL pattern under `resolver`,
    includes too. An unnamed pattern (the admin has a few) is named by its route."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_patterns(entry, inner, (*route, entry.pattern))
        elif isinstance(entry, URLPattern):
            chain = (*route, entry.pattern)
            yield f"{namespace}{entry.name}" if entry.name else f"{namespace}{''.join(map(str, chain))}", chain


def path_of(name: str, chain, values: dict) -> str:
    """The path of a pattern with its parameters filled: Django's reverse() for a named one,
    written out from its routes for an unnamed one (named by its route, so holding a "/")."""
    if "/" not in name:
        return reverse(name, kwargs=values)
    text = ""
    for piece in chain:
        if isinstance(piece, RoutePattern):
            text += re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), str(piece))
        else:
            text += re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), str(piece)).strip("^$")
    return "/" + text


def admin_model(name: str):
    """The model an admin URL is about: by its name (admin:domain_booking_change) or, for an
    unnamed one, by its route (admin/domain/booking/…)."""
    for model in apps.get_models():
        meta = model._meta
        if name.startswith((f"admin:{meta.app_label}_{meta.model_name}_",
                            f"admin:admin/{meta.app_label}/{meta.model_name}/")):
            return model
    raise AssertionError(f"{name}: no model of ours")


@pytest.fixture
def world(anna, bo, erik, nora, make_client):
    """Something real behind every path parameter: slots, a booking (and so its mail and its
    task), an own client with an invitation, an account waiting for verification, tokens."""
    from django.contrib.auth.models import Group

    open_slot = slot_for(anna, "2027-01-13 09:00")
    booking = booked(slot_for(anna, "2027-01-14 09:00"), erik)
    olle = make_client(first="Olle", last="Ohlsson", birth="19700101", therapist=anna, login=False)
    waiting = User.objects.create_user(email="ny@example.se", password="ett långt lösenord", first_name="Ny")
    staff = User.objects.create_superuser(email="staff@example.se", password="a long staff passphrase")
    api_for(erik.user)
    Group.objects.create(name="Personal")
    # R39: something in Erik's access log (her page) and behind the admin's access record pages.
    record_reads(actor=anna.user, clients=[erik], what="client_page", surface="page")
    record_reads(actor=staff, clients=[erik], what="admin_page", surface="admin")
    # R42: Bo has an authenticator app (his session owes the step after the password); Nora
    # a passkey, whose removal the others are refused.
    TOTPDevice.objects.create(user=bo.user, name="app", confirmed=True)
    recovery_codes_create(user=bo.user)
    passkey = WebAuthnCredential.objects.create(
        user=nora.user, name="Telefon", confirmed=True, credential_id=b"nora", credential_id_sha256="nora",
        public_key=b"x", aaguid="00000000-0000-0000-0000-000000000000")
    series = series_create(therapist=anna, client=erik, start=at("2027-02-01 10:00"), weeks=2, mode="video",
                           actor=anna.user)  # R32
    time_off = TimeOff.objects.create(therapist=anna, start_at=at("2027-03-01 00:00"), end_at=at("2027-03-02 00:00"))
    return {
        "anna": anna, "erik": erik, "nora": nora, "staff": staff, "slot": open_slot, "booking": booking,
        "olle": olle, "waiting": waiting, "bo": bo, "passkey": passkey, "series": series,
        "time_off": time_off,
    }


def fill(name: str, chain, world) -> dict:
    """The path parameters of one pattern, from the world's objects."""
    anna, erik, booking = world["anna"], world["erik"], world["booking"]
    params = {p for piece in chain for p in piece.regex.groupindex}
    values = {
        "slot_id": world["slot"].pk, "booking_id": booking.pk, "client_id": erik.pk, "therapist_id": anna.pk,
        "token_id": ApiToken.objects.filter(user=erik.user).first().pk, "app_label": "domain",
        "url": "finns-inte/",  # the admin's catch-all
        "id": erik.user.pk,  # a user's password in the admin
        "room": booking.video_room,  # the practice room (404 unless VIDEO_BASE_URL is Tidbok)
        "passkey_id": world["passkey"].pk,
        "series_id": world["series"].pk,
        "time_off_id": world["time_off"].pk,
    }
    tokens = {
        "video": booking.video_token,
        "therapist_pages:feed": anna.calendar_feed_token,
        "client_pages:invitation": invitation_token(world["olle"]),
        "client_pages:verify_email": email_verification_token.make_token(world["waiting"]),
        "client_pages:password_set": default_token_generator.make_token(erik.user),
    }
    if name.startswith("admin:") and "object_id" in params:
        if name == "admin:view_on_site":
            from django.contrib.contenttypes.models import ContentType

            values["content_type_id"] = ContentType.objects.get_for_model(type(anna)).pk
            values["object_id"] = anna.pk
        else:
            values["object_id"] = admin_model(name).objects.order_by("pk").first().pk
    if name == "client_pages:verify_email":
        values["uidb64"] = urlsafe_base64_encode(force_bytes(world["waiting"].pk))
    elif "uidb64" in params:
        values["uidb64"] = urlsafe_base64_encode(force_bytes(erik.user.pk))
    if "token" in params:
        values["token"] = tokens[name]
    unknown = params - set(values)
    assert not unknown, f"{name}: the walk does not know how to fill {sorted(unknown)}"
    return {k: values[k] for k in params}


def visitor(user) -> HttpClient:
    http = HttpClient()
    if user is not None:
        http.force_login(user)
    return http


def test_every_url_pattern_answers_in_swedish_to_everyone(world):
    people = {"anonymous": None, "therapist": world["anna"].user, "client": world["erik"].user,
              "staff": world["staff"], "two-step": world["bo"].user}
    urls = []
    for name, chain in url_patterns():
        urls.append((name, path_of(name, chain, fill(name, chain, world))))
    assert len(urls) > 60, urls  # the pages, the API's operations and the admin's
    seen = {}
    # Every GET first; then the empty POSTs, which may cancel, remove or log out.
    for method in ("get", "post"):
        for name, url in urls:
            for who, user in people.items():
                response = getattr(visitor(user), method)(url, follow=True)
                seen[(name, method, who)] = response.status_code
                if name not in NOT_PROSE:
                    assert_swedish(response, (method, url, who))
    # The walk met real pages, not only log-in redirects and refusals.
    assert seen[("therapist_pages:calendar", "get", "therapist")] == 200
    assert seen[("client_pages:bookings", "get", "client")] == 200
    assert seen[("client_pages:access_log", "get", "client")] == 200
    assert seen[("admin:domain_accessrecord_changelist", "get", "staff")] == 200
    assert seen[("admin:domain_booking_change", "get", "staff")] == 200
    assert seen[("therapist_pages:slot", "get", "therapist")] == 200
    assert seen[("privacy", "get", "anonymous")] == 200
    assert seen[("account_erase", "get", "client")] == seen[("account_erase", "get", "therapist")] == 200
    assert User.objects.filter(pk=world["erik"].user_id).exists()  # an empty form erased nobody
    assert seen[("api-v1:client_export", "get", "client")] == 200
    assert {code for (_n, _m, _w), code in seen.items()} >= {200, 400, 401, 403, 404, 405}


@pytest.mark.parametrize("path", ["/finns-inte/", "/kalender/tider/999999/", "/terapeut/999999/"])
def test_a_missing_page_says_so_in_swedish_with_a_way_back(path, world):
    response = visitor(world["anna"].user).get(path)

    assert response.status_code == 404
    assert_swedish(response, path)
    text = readable(response)
    assert "Sidan finns inte" in text and "Till startsidan" in text


def test_an_anonymous_visitor_of_a_missing_page_is_offered_to_log_in(db):
    response = HttpClient().get("/finns-inte/")

    assert response.status_code == 404
    assert "Logga in" in readable(response) and 'href="/logga-in/"' in response.content.decode()


def test_a_request_for_a_foreign_host_is_refused_in_swedish(db):
    response = HttpClient().get("/", HTTP_HOST="elak.example")

    assert response.status_code == 400
    assert_swedish(response, "foreign host")
    assert "Vi kunde inte läsa förfrågan" in readable(response)


def test_an_api_request_for_a_foreign_host_is_refused_in_the_apis_json(db):
    response = HttpClient().get("/api/v1/therapists", HTTP_HOST="elak.example", HTTP_ACCEPT_LANGUAGE="sv")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "bad_host", "detail": "Förfrågans Host-huvud anger en annan server än denna."}


def test_a_form_sent_without_its_csrf_token_is_refused_in_swedish(db):
    response = HttpClient(enforce_csrf_checks=True).post("/logga-in/", {"email": "a@example.se", "password": "x"})

    assert response.status_code == 403
    assert_swedish(response, "csrf")
    assert "Formuläret kunde inte skickas" in readable(response)


def test_the_server_error_page_is_swedish_and_needs_no_request(db):
    with translation.override("sv"):
        response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert_swedish(response, "500")
    assert "Något gick fel" in readable(response) and 'href="/"' in response.content.decode()


def test_the_server_error_page_is_english_on_request(db):
    with translation.override("en"):
        response = server_error(RequestFactory().get("/"))

    assert '<html lang="en">' in response.content.decode() and "Something went wrong" in readable(response)


def test_a_server_error_under_the_api_is_json_in_swedish(db):
    """What Django's 500 handler answers for an API path, after our middleware."""
    request = RequestFactory().get("/api/v1/therapist/calendar")
    with translation.override("sv"):
        response = api_errors_as_json(server_error)(request)

    assert response.status_code == 500 and response["Content-Type"].startswith("application/json")
    assert json.loads(response.content) == {"detail": "Något gick fel hos oss; försök igen om en stund."}


def api_errors(world, http_for) -> dict:
    """One API error of every kind the API answers, as (status, body)."""
    anna, erik, nora = world["anna"], world["erik"], world["nora"]
    therapist, client, anonymous = http_for(anna.user), http_for(erik.user), http_for(None)
    taken = world["booking"].slot_id
    return {
        "400 not a JSON object": therapist.patch("/api/v1/therapist/settings", "[1", content_type="application/json"),
        "401 not logged in": anonymous.get("/api/v1/me"),
        "403 wrong role": client.get("/api/v1/therapist/calendar"),
        "404 not yours": http_for(nora.user).post(f"/api/v1/bookings/{world['booking'].pk}/cancel"),
        "404 no such path": anonymous.get("/api/v1/finns-inte"),
        "405 wrong method": therapist.put("/api/v1/me"),
        "409 slot taken": therapist.post(f"/api/v1/therapist/slots/{taken}/booking",
                                         {"client_id": erik.pk, "mode": "video"}, content_type="application/json"),
        "422 pydantic": therapist.post("/api/v1/therapist/slots", {"start": "i morgon", "price": "gratis", "modes": []},
                                       content_type="application/json"),
        "422 missing field": therapist.post("/api/v1/therapist/slots", {}, content_type="application/json"),
        "422 window": therapist.get("/api/v1/therapist/calendar", {"start": "2027-01-11T00:00"}),
        "422 domain": therapist.patch("/api/v1/therapist/settings", {"timezone": "Mars/Olympus"},
                                      content_type="application/json"),
        "401 wrong password": anonymous.post("/api/v1/auth/token", {"email": "anna@example.se", "password": "fel"},
                                             content_type="application/json"),
    }


def with_token(user, language=None) -> HttpClient:
    headers = {"Authorization": api_for(user).headers["Authorization"]} if user else {}
    if language:
        headers["Accept-Language"] = language
    return HttpClient(headers=headers)


def test_every_kind_of_api_error_is_json_in_swedish_by_default(world):
    answers = api_errors(world, with_token)

    for kind, response in answers.items():
        assert response.status_code == int(kind[:3]), (kind, response.content)
        assert response["Content-Type"].startswith("application/json"), kind
        assert_swedish(response, kind)
    assert answers["422 pydantic"].json()["detail"][0] == {
        "type": "datetime_from_date_parsing", "loc": ["body", "payload", "start"],
        "msg": "Ska vara en giltig tidpunkt med UTC-förskjutning, t.ex. 2026-12-01T09:00:00+01:00",
    }
    assert answers["403 wrong role"].json() == {"detail": "Det här kräver ett terapeutkonto."}
    assert answers["404 no such path"].json() == {"detail": "Hittades inte."}


def test_the_api_speaks_english_on_request(world):
    answers = api_errors(world, lambda user: with_token(user, "en-GB,en;q=0.9"))

    assert answers["403 wrong role"].json() == {"detail": "This needs a therapist account."}
    assert answers["404 no such path"].json() == {"detail": "Not found."}
    assert answers["422 missing field"].json()["detail"][0]["msg"] == "Field required"
    # One 422 shape (docs/api.md): the window's own checks answer a list as pydantic's do.
    [window_error] = answers["422 window"].json()["detail"]
    assert window_error["loc"] == ["query", "start"] and window_error["type"] == "value_error"
    assert window_error["msg"].startswith("start: include a UTC offset")
