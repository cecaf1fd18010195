"""The client's side in a real browser (Chromium through Playwright) against the live server,
with a real SMTP server and the production mail worker. Times are relative to the real now:
the live server runs in another thread, where frozen time would not reach."""

import ast
import re
from datetime import datetime, time, timedelta
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from conftest import STOCKHOLM, api_for, pnr, run_worker
from domain.models import Booking, Slot
from domain.services import booking_create_by_therapist, client_add, slot_create
from domain.tests.test_email_delivery import calendar_parts, text_of

pytestmark = pytest.mark.browser


def days_ahead(days: int, hour: int, minute: int = 0) -> datetime:
    """A local Stockholm time `days` from today."""
    day = timezone.localtime(timezone.now(), STOCKHOLM).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=STOCKHOLM)


@pytest.fixture
def site(live_server, settings):
    settings.SITE_URL = live_server.url
    settings.VIDEO_BASE_URL = f"{live_server.url}/videorum/"  # the practice room: "in the room" is a page
    return live_server.url


def profile(therapist, **fields):
    for k, v in fields.items():
        setattr(therapist, k, v)
    therapist.save()
    return therapist


def po_entries(path: Path) -> list[dict[str, str]]:
    """The entries of a gettext catalog, {"msgid": …, "msgstr": …} (plural forms too)."""
    entries, entry, key = [], {}, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if line.startswith('"'):
            entry[key] += ast.literal_eval(line)
            continue
        if (not line or line.startswith("#")) and entry:
            entries.append(entry)
            entry, key = {}, None
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entries


@cache
def english_texts() -> frozenset[str]:
    """Every English source text of ours whose Swedish differs, translated or not (so that an
    untranslated text shows up too), cut at its placeholders: the pieces of at least two
    words (a single word can be a name)."""
    texts = set()
    for po in Path(settings.BASE_DIR).glob("*/locale/sv/LC_MESSAGES/django.po"):
        for entry in po_entries(po):
            swedish = {v for k, v in entry.items() if k.startswith("msgstr")}
            for msgid in (entry.get("msgid", ""), entry.get("msgid_plural", "")):
                if not msgid or swedish == {msgid}:
                    continue
                for piece in re.split(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|\n", msgid):
                    piece = piece.strip(" .,:;!?()\"'")
                    if len(piece.split()) >= 2:
                        texts.add(piece)
    return frozenset(texts)


def in_swedish(page) -> None:
    """The page says it is Swedish and shows none of our English texts."""
    assert page.locator("html").get_attribute("lang") == "sv", page.url
    shown = page.locator("body").inner_text()
    english = sorted(t for t in english_texts() if t in shown)
    assert not english, (page.url, english)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_new_visitor_finds_signs_up_books_a_video_slot_gets_the_mail_and_sees_it(anna, site, smtp, page):
    """The way in (R26, R27): pick a slot, sign up, the verification mail, its link, back at
    that slot with the choice kept, booked; in Swedish on every page and in every mail."""
    profile(anna, title="Leg. psykolog", city="Stockholm", languages=["sv"], areas=["stress"])
    start = days_ahead(3, 10)
    slot = slot_create(therapist=anna, actor=None, start=start, modes=["video"])

    page.goto(f"{site}/hitta-terapeut/")
    in_swedish(page)
    card = page.get_by_role("article").filter(has_text="Anna Andersson")
    expect(card).to_contain_text("Nästa lediga tid:")
    card.get_by_role("link", name="Anna Andersson", exact=True).click()
    in_swedish(page)
    page.get_by_role("link", name=re.compile("10:00–10:45")).click()
    expect(page.get_by_label("Videosamtal")).to_be_checked()
    in_swedish(page)
    page.get_by_role("button", name="Skapa konto").click()

    in_swedish(page)
    page.get_by_label("Förnamn").fill("Nils")
    page.get_by_label("Efternamn").fill("Nyström")
    page.get_by_label("Personnummer").fill(pnr("19880808", "357"))
    page.get_by_label("E-postadress").fill("nils@example.se")
    page.get_by_label("Lösenord").fill("lingon-sylt-1987")
    page.get_by_label("Jag har läst personuppgiftspolicyn").check()
    page.get_by_role("button", name="Skapa konto").click()

    expect(page.get_by_role("heading", name="Kolla din e-post")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("nils@example.se")
    in_swedish(page)
    assert not smtp.messages and not Booking.objects.exists()

    run_worker()  # the sign-up is decided by the worker, which then delivers the mail
    [verification] = smtp.messages
    assert verification["To"] == "nils@example.se"
    assert verification["Subject"] == "Bekräfta din e-postadress för Tidbok"
    body = text_of(verification)
    assert "Hej Nils!" in body and "Länken fungerar en gång" in body
    link = re.search(r"https?://\S+/bekrafta/\S+", body).group(0)
    assert link.startswith(f"{site}/bekrafta/")
    assert parse_qs(urlsplit(link).query)["next"] == [f"/boka/{slot.pk}/?mode=video"]

    # Before the link is followed the account cannot log in, and says so exactly as to a
    # wrong password (R26: nothing tells that the address has signed up).
    said = {}
    for password in ("fel-lösenord-123", "lingon-sylt-1987"):
        page.goto(f"{site}/logga-in/")
        page.get_by_label("E-postadress").fill("nils@example.se")
        page.get_by_label("Lösenord").fill(password)
        page.get_by_role("button", name="Logga in").click()
        expect(page.get_by_role("alert")).to_contain_text("Fel e-postadress eller lösenord")
        said[password] = page.get_by_role("alert").inner_text()
        assert page.url.startswith(f"{site}/logga-in/")
        in_swedish(page)
    assert said["fel-lösenord-123"] == said["lingon-sylt-1987"]

    page.goto(link)
    expect(page.get_by_role("heading", name="Bekräfta din e-postadress")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("nils@example.se")  # which address is being confirmed
    in_swedish(page)
    page.get_by_label("Lösenord").fill("lingon-sylt-1987")  # the one chosen at sign-up
    page.get_by_role("button", name="Bekräfta och fortsätt").click()

    page.wait_for_url(f"{site}/boka/{slot.pk}/?mode=video")  # back at the slot she picked
    expect(page.get_by_role("status").first).to_contain_text("Din e-postadress är bekräftad")
    expect(page.get_by_label("Videosamtal")).to_be_checked()  # the choice survived the sign-up
    in_swedish(page)
    page.get_by_role("button", name="Boka").click()
    expect(page.get_by_role("status").first).to_contain_text("Din bokning är klar")
    in_swedish(page)
    booking = Booking.objects.get(slot=slot)
    assert (booking.client.email, booking.mode) == ("nils@example.se", "video")

    run_worker()
    # The right password before the link sent a fresh link (R27); then the booking's mail.
    fresh, message = [m for m in smtp.messages if m["To"] == "nils@example.se"][1:]  # (her therapist is told too)
    assert (fresh["To"], fresh["Subject"]) == ("nils@example.se", "Bekräfta din e-postadress för Tidbok")
    assert message["To"] == "nils@example.se"
    assert "Anna Andersson" in message["Subject"]
    assert "Hej Nils" in text_of(message)
    assert booking.video_url in text_of(message)
    assert len(calendar_parts(message)) == 1

    page.get_by_role("button", name="Logga ut").click()
    page.get_by_label("E-postadress").fill("nils@example.se")
    page.get_by_label("Lösenord").fill("lingon-sylt-1987")
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{site}/mina-bokningar/")
    in_swedish(page)
    upcoming = page.get_by_role("region", name="Kommande")
    expect(upcoming).to_contain_text("Anna Andersson")
    expect(upcoming).to_contain_text("10:00–10:45")
    expect(upcoming.get_by_role("link", name="Gå till videosamtalet")).to_have_attribute("href", booking.video_url)


def test_existing_only_slots_are_seen_and_booked_by_existing_clients_only(anna, erik, nora, site, page, login_as):
    open_to_all = slot_create(therapist=anna, actor=None, start=days_ahead(2, 9))
    existing = slot_create(therapist=anna, actor=None, start=days_ahead(2, 13), audience="existing")
    url = f"{site}/terapeut/{anna.pk}/"

    page.goto(url)  # a visitor
    expect(page.locator(f'a[href="/boka/{open_to_all.pk}/"]')).to_have_count(1)
    expect(page.locator(f'a[href="/boka/{existing.pk}/"]')).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("13:00")
    login_as(nora.user)
    page.goto(url)
    expect(page.locator(f'a[href="/boka/{open_to_all.pk}/"]')).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("13:00")
    assert page.goto(f"{site}/boka/{existing.pk}/").status == 404

    page.context.clear_cookies()
    login_as(erik.user)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(url)
    assert no_sideways_scroll(page)
    page.locator(f'a[href="/boka/{existing.pk}/"]').click()
    page.get_by_label("På plats").check()
    page.get_by_role("button", name="Boka").click()
    expect(page.get_by_role("heading", name="Din bokning")).to_be_visible()
    assert no_sideways_scroll(page)
    assert Booking.objects.get(slot=existing).client == erik


def test_a_therapist_without_client_booster_is_absent_and_matching_ranks_an_exact_fit_first(
    anna, bo, make_therapist, site, page
):
    profile(anna, areas=["sömn"], languages=["sv"], city="Malmö")
    slot_create(therapist=anna, actor=None, start=days_ahead(1, 9))  # sooner, but fits less
    ella = profile(make_therapist(email="ella@example.se", first="Ella", last="Ek"),
                   areas=["Ångest"], languages=["sv", "en"], city="Uppsala")
    evening = days_ahead(7 - timezone.localtime(timezone.now(), STOCKHOLM).weekday() + 2, 18)  # a Wednesday
    slot_create(therapist=ella, actor=None, start=evening, modes=["video"])
    profile(bo, areas=["Ångest"], languages=["en"])
    slot_create(therapist=bo, actor=None, start=evening, modes=["video"])

    page.goto(f"{site}/hitta-terapeut/")
    expect(page.get_by_role("article")).to_have_count(2)
    expect(page.locator("main")).not_to_contain_text("Bo Berg")

    page.get_by_role("link", name=re.compile("Svara på fyra frågor")).click()
    page.get_by_label("Vad vill du ha hjälp med?").select_option("Ångest")
    page.locator("#id_mode").select_option("video")
    page.get_by_label("Språk").select_option("en")
    page.get_by_label("onsdag").check()
    page.get_by_label("Kväll (17–23)").check()
    page.get_by_role("button", name="Föreslå terapeuter").click()

    results = page.locator("ol.matches > li")
    expect(results).to_have_count(2)
    expect(results.first.get_by_role("heading", level=2)).to_have_text("Ella Ek")
    expect(results.first).to_contain_text("Arbetar med Ångest.")
    expect(results.first).to_contain_text("Talar engelska.")
    expect(results.first).to_contain_text("1 ledig tid de dagar och tider du valde")
    expect(page.locator("main")).not_to_contain_text("Bo Berg")


def test_a_client_cancels_before_the_cut_off_and_the_slot_opens_but_not_after_it(anna, erik, site, page, login_as):
    later = slot_create(therapist=anna, actor=None, start=days_ahead(3, 10))
    soon = slot_create(therapist=anna, actor=None, start=(timezone.now() + timedelta(hours=3)).replace(second=0, microsecond=0))
    first = booking_create_by_therapist(therapist=anna, slot=later, client=erik, mode="video", actor=anna.user)
    second = booking_create_by_therapist(therapist=anna, slot=soon, client=erik, mode="video", actor=anna.user)
    login_as(erik.user)

    page.goto(f"{site}/mina-bokningar/")
    upcoming = page.get_by_role("region", name="Kommande")
    expect(upcoming.get_by_role("link", name="Avboka")).to_have_count(1)
    expect(upcoming).to_contain_text("Kontakta Anna Andersson")
    upcoming.get_by_role("link", name="Avboka").click()
    page.get_by_role("button", name="Ja, avboka").click()
    expect(page.get_by_role("status").first).to_contain_text("Bokningen är avbokad")
    expect(page.get_by_role("region", name="Avbokad")).to_contain_text("Anna Andersson")

    calendar = api_for(anna.user).get(
        "/therapist/calendar", start=days_ahead(0, 0).isoformat(), end=days_ahead(5, 0).isoformat()
    ).json()
    by_id = {entry["id"]: entry for entry in calendar}
    assert (by_id[later.pk]["status"], by_id[later.pk]["color"]) == ("available", "green")
    assert by_id[soon.pk]["status"] == "booked"
    assert Booking.objects.get(pk=first.pk).status == "cancelled"
    assert Booking.objects.get(pk=second.pk).status == "confirmed"


def test_an_invited_own_client_sets_a_password_and_sees_the_booking_the_therapist_made(anna, site, smtp, page):
    ulla = client_add(therapist=anna, actor=anna.user, first_name="Ulla", last_name="Ek",
                      personnummer=pnr("19700303", "468"), email="ulla@example.se")
    booking_create_by_therapist(therapist=anna, slot=slot_create(therapist=anna, actor=None, start=days_ahead(4, 14)),
                                client=ulla, mode="onsite", actor=anna.user)
    run_worker()
    invitation = next(m for m in smtp.messages if m["Subject"] == "Välkommen till Tidbok")
    assert invitation["To"] == "ulla@example.se"
    link = re.search(r"https?://\S+/inbjudan/\S+/", text_of(invitation)).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", name="Din inbjudan")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Anna Andersson har lagt till dig som klient")
    in_swedish(page)
    page.locator("#id_new_password1").fill("lingon-sylt-1987")
    page.locator("#id_new_password2").fill("lingon-sylt-1987")
    page.get_by_role("button", name="Tacka ja och spara lösenordet").click()

    page.wait_for_url(f"{site}/mina-bokningar/")
    expect(page.get_by_role("status").first).to_contain_text("Du är nu kopplad till Anna Andersson")
    in_swedish(page)
    upcoming = page.get_by_role("region", name="Kommande")
    expect(upcoming).to_contain_text("Anna Andersson")
    expect(upcoming).to_contain_text("14:00–14:45")
    expect(upcoming).to_contain_text("På plats")


def test_the_video_page_counts_down_then_opens_the_room_and_closes_after_the_end(anna, erik, site, page):
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    def booked_at(start):
        """Straight into the tables: the services take whole minutes and refuse the past."""
        slot = Slot.objects.create(therapist=anna, start_at=start, end_at=start + timedelta(minutes=45), price=1000)
        return Booking.objects.create(slot=slot, therapist=anna, client=erik, start_at=slot.start_at,
                                      end_at=slot.end_at, price=1000, mode="video")

    booking = booked_at(timezone.now() + timedelta(minutes=15, seconds=4))  # its link opens in 4 seconds
    ended = booked_at(timezone.now() - timedelta(hours=2))

    page.goto(f"{site}/video/{booking.video_token}")  # without a login: the link is the key (R29)
    expect(page.get_by_role("heading", name="Videosamtal")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Ditt videosamtal med Anna Andersson börjar")
    expect(page.locator("main")).not_to_contain_text("Erik")  # a link may be forwarded: never the client
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^00:00:0[1-4]$"))
    page.wait_for_url(re.compile(re.escape(f"{site}/videorum/tidbok-")), timeout=15_000)  # opened by itself
    assert page.url == booking.video_room_url
    expect(page.get_by_role("heading", name="Övningsrum för video")).to_be_visible()

    response = page.goto(f"{site}/video/{ended.video_token}")
    assert response.status == 410
    expect(page.locator("main")).to_contain_text("är avslutat")
    assert not [p for p in problems if "Content Security Policy" in p], problems


# Issue 10, finding 7 -----------------------------------------------------------------------


def test_avboka_asks_first_and_no_keeps_the_booking(anna, erik, site, page, login_as):
    booking = booking_create_by_therapist(therapist=anna, slot=slot_create(therapist=anna, actor=None,
                                          start=days_ahead(4, 10)), client=erik, mode="video", actor=anna.user)
    login_as(erik.user)
    page.goto(f"{site}/mina-bokningar/")

    page.get_by_role("region", name="Kommande").get_by_role("link", name="Avboka").click()

    expect(page.get_by_role("heading", name="Vill du avboka?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("10:00–10:45")
    expect(page.locator("main")).to_contain_text("Tiden blir ledig för andra och Anna Andersson får besked.")
    in_swedish(page)
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"  # asking changed nothing
    page.get_by_role("link", name="Nej, behåll bokningen").click()

    expect(page.get_by_role("heading", name="Din bokning")).to_be_visible()
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    page.get_by_role("link", name="Avboka").click()
    page.get_by_role("button", name="Ja, avboka").click()

    expect(page.get_by_role("status").first).to_contain_text("Bokningen är avbokad")
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"


def test_before_booking_she_sees_the_reception_address_and_the_cancellation_policy(anna, site, page):
    profile(anna, reception_address="Storgatan 1\n111 22 Stockholm", cancellation_cutoff_hours=24)
    both = slot_create(therapist=anna, actor=None, start=days_ahead(3, 9))
    video = slot_create(therapist=anna, actor=None, start=days_ahead(3, 11), modes=["video"])

    page.goto(f"{site}/boka/{both.pk}/")

    expect(page.get_by_role("term").filter(has_text="Adress vid besök på plats")).to_be_visible()
    expect(page.locator("[data-fact=address]")).to_have_text("Storgatan 1\n111 22 Stockholm")
    expect(page.get_by_role("term").filter(has_text="Avbokning")).to_be_visible()
    expect(page.locator("[data-fact=cutoff]")).to_have_text("Senast 24 timmar före starten. Därefter kontaktar du terapeuten.")
    in_swedish(page)

    profile(anna, cancellation_cutoff_hours=1)
    page.goto(f"{site}/boka/{video.pk}/")

    expect(page.locator("[data-fact=address]")).to_have_count(0)  # a video call has no address
    expect(page.locator("[data-fact=cutoff]")).to_have_text("Senast 1 timme före starten. Därefter kontaktar du terapeuten.")


def test_after_the_cut_off_she_is_shown_how_to_reach_the_therapist(anna, erik, site, page, login_as):
    profile(anna, contact_email="mottagning@example.se", contact_phone="070-123 45 67")
    soon = booking_create_by_therapist(
        therapist=anna, client=erik, mode="video", actor=anna.user,
        slot=slot_create(therapist=anna, actor=None,
                         start=(timezone.now() + timedelta(hours=3)).replace(second=0, microsecond=0)),
    )
    login_as(erik.user)

    for path in ("/mina-bokningar/", f"/mina-bokningar/{soon.pk}/", f"/mina-bokningar/{soon.pk}/avboka/"):
        page.goto(f"{site}{path}")
        main = page.locator("main")
        expect(main).to_contain_text("Kontakta Anna Andersson om du inte kan komma.")
        contact = page.get_by_role("list", name="Så når du Anna Andersson")
        expect(contact.get_by_role("link", name="mottagning@example.se")).to_have_attribute(
            "href", "mailto:mottagning@example.se")
        expect(contact.get_by_role("link", name="070-123 45 67")).to_have_attribute("href", "tel:0701234567")
        expect(main.get_by_role("button", name="Ja, avboka")).to_have_count(0)
        in_swedish(page)

    profile(anna, contact_email="", contact_phone="")
    page.goto(f"{site}/mina-bokningar/{soon.pk}/")  # no contact address of her own: her log-in address
    contact = page.get_by_role("list", name="Så når du Anna Andersson")
    expect(contact.get_by_role("link")).to_have_count(1)
    expect(contact.get_by_role("link", name="anna@example.se")).to_have_attribute("href", "mailto:anna@example.se")
    assert Booking.objects.get(pk=soon.pk).status == "confirmed"
