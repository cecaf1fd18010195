"""Every page of both sides in Chromium, the way people meet them: at a phone's width (390 px)
nothing scrolls sideways and the header takes two rows, not three; axe-core (the npm package,
Deque's rules, not ours) finds no serious or critical violation, at a laptop's width and at a
phone's; no page asks for a file that is not there (the favicon was a 404 on every page).

The walk is one list, `PAGES`, of what a person does to reach each page (a path, or a path and
a click: the calendar's day and list views, its booking view, the cancel question). A test
without a browser checks that the list names every HTML page our URL patterns serve, so a new
page cannot be left out of the walk unnoticed.

axe is injected the way our Content-Security-Policy allows (a script tag with axe's text is
inline script, which the CSP refuses, and rightly): `page.add_init_script`, which the browser
runs in every document before the page's own scripts through the DevTools protocol; the site's
CSP is not loosened for the test (`bypass_csp` is off)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from conftest import STOCKHOLM, mailed_link, pnr, process_account_requests
from domain.models import Booking, Slot
from domain.services import (
    account_signup_request,
    booking_cancel,
    booking_create_by_therapist,
    client_add,
    password_reset_request,
    slot_create,
    time_off_create,
)
from domain.services.access_log import record_reads

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}


# The walk ---------------------------------------------------------------------------------


@dataclass
class Page:
    """One page as a person reaches it: who she is, where she goes, what she does there."""

    name: str
    who: str  # "therapist", "client", "anonymous"; "pending" / "verified": Bo, who has an authenticator app
    path: Callable[[dict], str]
    then: Callable[["object", dict], None] | None = None
    url_name: str = field(default="")


def settled(page):
    expect(page.locator("#calendar[aria-busy=false]")).to_have_count(1)


def calendar_view(tab):
    def go(page, w):
        settled(page)
        if tab:
            page.get_by_role("tab", name=tab).click()
            settled(page)
    return go


def booking_view(page, w):
    settled(page)
    page.locator(f"#calendar [data-slot-id='{w['booked_slot'].pk}']").click()
    expect(page.locator("#slot-dialog .slot-view")).to_be_visible()


def book_with_new_client(page, w):
    """The booking view of an open slot with "Boka med klient" open, a name nobody on her list
    has typed, and the small form for a new client shown."""
    settled(page)
    page.locator(f"#calendar [data-slot-id='{w['open_slot'].pk}']").click()
    dialog = page.locator("#slot-dialog")
    dialog.get_by_role("button", name="Boka med klient").click()
    dialog.get_by_label("Klientens förnamn").fill("Zelda")
    dialog.get_by_role("button", name="Lägg till ny klient").click()
    expect(dialog.get_by_role("group", name="Ny klient i din lista")).to_be_visible()


def new_slot_dialog(page, w):
    settled(page)
    page.get_by_role("button", name="Ny tid").click()
    expect(page.locator("#new-slot-dialog")).to_be_visible()


def time_off_confirmation(page, w):
    """R36: the day of the world's bookings as time off, continued to its confirmation (the open
    slots that go, the bookings inside)."""
    page.get_by_label("Från", exact=True).fill(w["day"].isoformat())
    page.get_by_label("Till och med").fill(w["day"].isoformat())
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_role("button", name="Lägg in ledighet")).to_be_visible()


def make_recovery_codes(page, w):
    page.get_by_role("button", name="Skapa reservkoder").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)


def calendar_path(w):
    return f"/kalender/?datum={w['day'].isoformat()}"


PAGES = [
    # The therapist's side.
    Page("calendar, week", "therapist", calendar_path, calendar_view(None), "therapist_pages:calendar"),
    Page("calendar, day", "therapist", calendar_path, calendar_view("Dag")),
    Page("calendar, list", "therapist", calendar_path, calendar_view("Lista")),
    Page("calendar, booking view of a booked slot", "therapist", calendar_path, booking_view, "therapist_pages:slot"),
    Page("calendar, booking with a new client", "therapist", calendar_path, book_with_new_client),
    Page("calendar, new slot", "therapist", calendar_path, new_slot_dialog),
    Page("book every week, the weeks", "therapist",
         lambda w: f"/kalender/tider/{w['open_slot'].pk}/serie/?client={w['erik'].pk}&mode=video&weeks=10",
         url_name="therapist_pages:series"),
    Page("book every week, a week refused", "therapist",
         lambda w: f"/kalender/tider/{w['booked_slot'].pk}/serie/?client={w['erik'].pk}&mode=video&weeks=52"),
    Page("clients", "therapist", lambda w: "/kalender/klienter/", url_name="therapist_pages:clients"),
    Page("a client", "therapist", lambda w: f"/kalender/klienter/{w['erik'].pk}/", url_name="therapist_pages:client"),
    Page("settings", "therapist", lambda w: "/kalender/installningar/", url_name="therapist_pages:settings"),
    Page("time off", "therapist", lambda w: "/kalender/ledighet/", url_name="therapist_pages:time_off"),
    Page("time off, the confirmation", "therapist", lambda w: "/kalender/ledighet/", time_off_confirmation),
    Page("account, therapist", "therapist", lambda w: "/konto/", url_name="account"),
    # The client's side.
    Page("find a therapist", "client", lambda w: "/hitta-terapeut/", url_name="client_pages:find"),
    Page("matching", "client", lambda w: "/hitta-terapeut/matchning/", url_name="client_pages:match"),
    Page("matching, answers", "client",
         lambda w: "/hitta-terapeut/matchning/?area=stress&mode=video&language=sv&days=2&parts=morning"),
    Page("a therapist's profile", "client", lambda w: f"/terapeut/{w['anna'].pk}/", url_name="client_pages:profile"),
    Page("book", "client", lambda w: f"/boka/{w['open_slot'].pk}/", url_name="client_pages:book"),
    Page("Mina bokningar", "client", lambda w: "/mina-bokningar/", url_name="client_pages:bookings"),
    Page("a booking", "client", lambda w: f"/mina-bokningar/{w['booking'].pk}/", url_name="client_pages:booking"),
    Page("who has read my data", "client", lambda w: "/vem-har-last-mina-uppgifter/",
         url_name="client_pages:access_log"),
    Page("cancel, the question", "client", lambda w: f"/mina-bokningar/{w['booking'].pk}/avboka/",
         url_name="client_pages:cancel"),
    Page("a booking past the cut-off", "client", lambda w: f"/mina-bokningar/{w['soon'].pk}/"),
    Page("move, the open times (R33)", "client", lambda w: f"/mina-bokningar/{w['booking'].pk}/flytta/",
         url_name="client_pages:move"),
    Page("move, the question (R33)", "client",
         lambda w: f"/mina-bokningar/{w['booking'].pk}/flytta/{w['open_slot'].pk}/", url_name="client_pages:move_to"),
    Page("move past the cut-off (R33)", "client", lambda w: f"/mina-bokningar/{w['soon'].pk}/flytta/"),
    Page("the video page before the call", "client", lambda w: f"/video/{w['booking'].video_token}", url_name="video"),
    Page("the practice room (make run's video rooms)", "anonymous",
         # The widest name a room can have (its key is random base64): it must wrap on a phone.
         lambda w: f"/videorum/tidbok-{'W' * 32}", url_name="practice_room"),
    Page("account, client", "client", lambda w: "/konto/"),
    Page("erase my account", "client", lambda w: "/konto/radera/", url_name="account_erase"),
    Page("erase my account, therapist", "therapist", lambda w: "/konto/radera/"),
    # The second factor (R42): set-up without one, the step after the password, and with one.
    Page("two-step verification, off", "therapist", lambda w: "/konto/tvastegsverifiering/", url_name="two_factor"),
    Page("set up an authenticator app", "therapist", lambda w: "/konto/tvastegsverifiering/app/",
         url_name="two_factor_totp"),
    Page("the step after the password", "pending", lambda w: "/logga-in/kod/", url_name="login_otp"),
    Page("two-step verification, on", "verified", lambda w: "/konto/tvastegsverifiering/"),
    Page("recovery codes, shown once", "verified", lambda w: "/konto/tvastegsverifiering/", make_recovery_codes),
    Page("turn two-step verification off", "verified", lambda w: "/konto/tvastegsverifiering/stang-av/",
         url_name="two_factor_off"),
    # A visitor.
    Page("find a therapist, visitor", "anonymous", lambda w: "/hitta-terapeut/"),
    Page("a therapist's profile, visitor", "anonymous", lambda w: f"/terapeut/{w['anna'].pk}/"),
    Page("book, visitor", "anonymous", lambda w: f"/boka/{w['open_slot'].pk}/"),
    Page("sign-up", "anonymous", lambda w: "/skapa-konto/", url_name="client_pages:signup"),
    Page("confirm the e-mail address", "anonymous", lambda w: w["verify_link"], url_name="client_pages:verify_email"),
    Page("log-in", "anonymous", lambda w: "/logga-in/", url_name="login"),
    Page("password reset", "anonymous", lambda w: "/glomt-losenord/", url_name="client_pages:password_reset"),
    Page("password reset, sent", "anonymous", lambda w: "/glomt-losenord/skickat/",
         url_name="client_pages:password_reset_done"),
    Page("choose a password", "anonymous", lambda w: w["reset_link"], url_name="client_pages:password_set"),
    Page("password chosen", "anonymous", lambda w: "/losenord/klart/", url_name="client_pages:password_set_done"),
    Page("an invitation", "anonymous", lambda w: w["invitation_link"], url_name="client_pages:invitation"),
    Page("privacy policy", "anonymous", lambda w: "/personuppgiftspolicy/", url_name="privacy"),
    Page("account erased", "anonymous", lambda w: "/konto/raderat/", url_name="account_erased"),
]

# What our URL patterns serve that is not a page to walk, and why.
NOT_PAGES = {
    "home": "a redirect to each person's first page",
    "logout": "POST only",
    "set_language": "POST only",
    "account_token_delete": "POST only",
    "therapist_pages:price": "JSON for the edit form",
    "therapist_pages:slot_new": "POST only", "therapist_pages:slot_range": "POST only",
    "therapist_pages:slot_edit": "POST only", "therapist_pages:slot_delete": "POST only",
    "therapist_pages:slot_repeat": "POST only", "therapist_pages:slot_book": "POST only",
    "therapist_pages:booking_cancel": "POST only", "therapist_pages:client_invite": "POST only",
    "therapist_pages:feed_regenerate": "POST only",
    "therapist_pages:busy_calendar": "POST only", "therapist_pages:busy_calendar_fetch": "POST only",
    "therapist_pages:feed": "an iCalendar file",
    "therapist_pages:booking_video_link": "POST only", "client_pages:video_link": "POST only",
    "therapist_pages:booking_outcome": "POST only",
    "therapist_pages:series_start": "POST only (JSON: where the weeks are shown)",
    "therapist_pages:series_cancel": "POST only",
    "therapist_pages:time_off_delete": "POST only",
    "client_pages:waitlist_join": "POST only (its form is on the profile page)",
    "client_pages:waitlist_leave": "POST only (its button is on Mina bokningar)",
    "favicon": "a redirect to the icon's static file",
    "two_factor_recovery": "POST only (its answer, the codes, is walked)",
    "two_factor_passkey_delete": "POST only",
    "otp_webauthn:credential-registration-begin": "JSON for the passkey script (django-otp-webauthn)",
    "otp_webauthn:credential-registration-complete": "JSON for the passkey script (django-otp-webauthn)",
    "otp_webauthn:credential-authentication-begin": "JSON for the passkey script (django-otp-webauthn)",
    "otp_webauthn:credential-authentication-complete": "JSON for the passkey script (django-otp-webauthn)",
    "otp_webauthn:js-i18n-catalog": "the passkey script's messages (JavaScript)",
}


def our_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith(("admin/", "api/")):
                    continue
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name:
                names.add(f"{namespace}:{p.name}" if namespace else p.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_the_walk_names_every_page_we_serve():
    """A page added to the URL patterns must be added to the walk (or to NOT_PAGES, saying why)."""
    walked = {p.url_name for p in PAGES if p.url_name}

    assert our_url_names() - set(NOT_PAGES) == walked


# The world the walk sees ------------------------------------------------------------------


def local(days: int, hour: int, minute: int = 0) -> datetime:
    day = timezone.localtime(timezone.now(), STOCKHOLM).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=STOCKHOLM)


@pytest.fixture
def world(anna, erik, make_client, make_therapist, settings, live_server):
    """Anna with a full week (open, existing-only, booked, first visit, a cancellation), her
    profile filled in, Erik's bookings (one far off, one past the cut-off), and the links a
    visitor follows from her mail: a sign-up's, a reset's and an own client's invitation."""
    settings.SITE_URL = live_server.url
    settings.VIDEO_BASE_URL = f"{live_server.url}/videorum/"  # as `make run` does: the practice room
    for name, value in {
        "title": "Leg. psykolog", "city": "Stockholm", "languages": ["sv", "en"], "areas": ["stress", "sömn"],
        "presentation": "Jag arbetar med KBT.", "reception_address": "Storgatan 1\n111 22 Stockholm",
        "personal_info": "Ring på porttelefonen.", "contact_phone": "070-123 45 67",
    }.items():
        setattr(anna, name, value)
    anna.save()
    day = local(3, 9).date()
    open_slot = slot_create(therapist=anna, actor=None, start=local(3, 9))
    slot_create(therapist=anna, actor=None, start=local(3, 13), audience="existing")
    booked_slot = slot_create(therapist=anna, actor=None, start=local(3, 11))
    booking = booking_create_by_therapist(therapist=anna, slot=booked_slot, client=erik, mode="video", actor=anna.user)
    nora = make_client(first="Nora", last="Nilsson", birth="19920704", therapist=anna)
    again = slot_create(therapist=anna, actor=None, start=local(4, 10))
    booking_create_by_therapist(therapist=anna, slot=again, client=nora, mode="onsite", actor=anna.user)
    cancelled = slot_create(therapist=anna, actor=None, start=local(5, 10))
    booking_cancel(booking=booking_create_by_therapist(therapist=anna, slot=cancelled, client=erik, mode="onsite",
                                                       actor=anna.user), actor=anna.user)
    soon_start = (timezone.now() + timedelta(hours=3)).replace(second=0, microsecond=0)
    soon_slot = Slot.objects.create(therapist=anna, start_at=soon_start, end_at=soon_start + timedelta(minutes=45),
                                    price=1000, onsite=True, video=False)
    soon = Booking.objects.create(slot=soon_slot, therapist=anna, client=erik, start_at=soon_slot.start_at,
                                  end_at=soon_slot.end_at, price=1000, mode="onsite")

    account_signup_request(role="client", email="ny@example.se", password="lingon-sylt-1987", first_name="Ny",
                           last_name="Klient", source="127.0.0.1")
    # R37: Erik waits for a time with Anna: his list with "Lämna kön", her count, his filled-in form.
    from domain.services import waitlist_join

    waitlist_join(client=erik, therapist=anna, actor=erik.user, weekdays=[2, 4], modes=["video"])
    password_reset_request(email=erik.email, source="127.0.0.1")
    process_account_requests()
    bo = make_therapist(email="bo@example.se", first="Bo", last="Berg")
    bo_device = TOTPDevice.objects.create(user=bo.user, name="app", confirmed=True)
    client_add(therapist=anna, actor=anna.user, first_name="Ulla", last_name="Ek",
               personnummer=pnr("19700303", "468"), email="ulla@example.se")
    # R36: time off later in the week: the calendar's band, the time off page's list.
    time_off_create(therapist=anna, start=local(6, 0).date(), end=local(7, 0).date(), note="Kurs", actor=anna.user)
    # R39: a long access log for Erik, so that his page shows its pages too.
    for minutes in range(60):
        record_reads(actor=anna.user, clients=[erik], what="calendar", surface="api",
                     at=timezone.now() - timedelta(minutes=minutes))
    return {
        "anna": anna, "erik": erik, "day": day, "open_slot": open_slot, "booked_slot": booked_slot,
        "booking": booking, "soon": soon, "bo": bo, "bo_device": bo_device,
        "verify_link": mailed_link("email_verification", to="ny@example.se"),
        "reset_link": mailed_link("password_reset", to=erik.email),
        "invitation_link": mailed_link("client_invitation", to="ulla@example.se"),
    }


def prove_second_factor(context, live_server, device):
    """Mark the browser's session as having passed its second factor (what django_otp.login
    does after a good code), so that the walk reaches the pages of an account with one."""
    from importlib import import_module

    from django_otp import DEVICE_ID_SESSION_KEY

    key = next(c["value"] for c in context.cookies(live_server.url) if c["name"] == settings.SESSION_COOKIE_NAME)
    session = import_module(settings.SESSION_ENGINE).SessionStore(key)
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def walk(world, live_server, page, login_as):
    """Visit every page of PAGES as its person, call `check(page, name)` on each; answers the
    names visited. Any failed request (a 4xx/5xx for a file the page asks for, such as a
    missing favicon) or script error on any page fails the walk, naming the page."""
    people = {"therapist": world["anna"].user, "client": world["erik"].user, "anonymous": None,
              "pending": world["bo"].user, "verified": world["bo"].user}
    problems: list[str] = []
    current = {"name": ""}
    page.on("response", lambda r: problems.append(f"{current['name']}: {r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: problems.append(f"{current['name']}: failed {r.url}"))
    page.on("pageerror", lambda e: problems.append(f"{current['name']}: script error {e}"))
    page.on("console", lambda m: problems.append(f"{current['name']}: console {m.text}") if m.type == "error" else None)

    def run(viewport, check):
        page.set_viewport_size(viewport)
        visited = []
        who = None
        for p in PAGES:
            if p.who != who:
                page.context.clear_cookies()
                if people[p.who] is not None:
                    login_as(people[p.who])
                if p.who == "verified":
                    prove_second_factor(page.context, live_server, world["bo_device"])
                who = p.who
            current["name"] = p.name
            path = p.path(world)
            if p.url_name and p.url_name != "therapist_pages:slot":  # that one is the dialog's fragment
                assert resolve(urlsplit(path).path).view_name == p.url_name, (p.name, path)
            response = page.goto(live_server.url + path)
            assert response.status == 200, (p.name, response.status, page.url)
            expect(page.locator("html")).to_have_attribute("lang", "sv")
            if p.then:
                p.then(page, world)
            # The favicon is asked for by the browser on its own: wait for it to have been.
            page.wait_for_load_state("networkidle")
            check(page, p.name)
            visited.append(p.name)
        assert problems == [], "\n".join(problems)
        return visited

    return run


# Phone width ------------------------------------------------------------------------------


HEADER_ROWS = """() => {
  const tops = [...document.querySelectorAll('header.site-header a, header.site-header button')]
    .filter(el => el.getClientRects().length)
    .map(el => Math.round(el.getBoundingClientRect().top));
  const rows = [];
  for (const top of tops.sort((a, b) => a - b)) {
    if (!rows.length || top - rows[rows.length - 1] > 8) rows.push(top);
  }
  return rows.length;
}"""

WIDER = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > innerWidth + 0.5 && !el.closest('.main-nav, .fc'))
  .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + [...el.classList].join('.'))"""


@pytest.mark.browser
def test_at_phone_width_no_page_scrolls_sideways_and_the_header_takes_two_rows(walk):
    wide, tall = [], []

    def check(page, name):
        if not page.evaluate("document.documentElement.scrollWidth <= innerWidth"):
            wide.append(f"{name}: {page.evaluate('document.documentElement.scrollWidth')} px wide, {page.evaluate(WIDER)}")
        rows = page.evaluate(HEADER_ROWS)
        if rows > 2:
            tall.append(f"{name}: the header's links and buttons take {rows} rows")

    visited = walk(PHONE, check)

    assert len(visited) == len(PAGES), visited
    assert wide == [], "\n".join(wide)
    assert tall == [], "\n".join(tall)


# axe-core --------------------------------------------------------------------------------

AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .flatMap(v => v.nodes.map(n => ({ rule: v.id, impact: v.impact, help: v.help,
                                      node: n.target.join(" "), html: n.html.slice(0, 160) })));
}"""


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_axe_finds_no_serious_or_critical_violation_on_any_page(walk, page, viewport):
    """Deque's axe-core over every page of both sides (and the calendar's views and dialogs),
    at a laptop's and a phone's width. A failure names the page, the rule and the node."""
    page.add_init_script(path=str(AXE))
    found: list[str] = []

    def check(page, name):
        assert page.evaluate("typeof axe") == "object", f"{name}: axe-core was not injected"
        for v in page.evaluate(AXE_RUN):
            found.append(f"{name}: {v['rule']} ({v['impact']}: {v['help']}) at {v['node']}: {v['html']}")

    visited = walk(viewport, check)

    pages = "\n  ".join(visited)
    print(f"axe-core visited {len(visited)} pages:\n  {pages}")
    assert len(visited) == len(PAGES)
    assert found == [], "\n".join(found) + f"\n\naxe-core visited {len(visited)} pages:\n  {pages}"
