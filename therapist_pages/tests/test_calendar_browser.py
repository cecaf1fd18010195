"""The therapist's pages in Chromium (pytest-playwright against the live server), one test per
flow of issue 3. Each asserts on what the page shows and on the database. Nothing is frozen:
slots are made relative to the real now, in the coming week (Monday on)."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import STOCKHOLM, pnr
from domain.models import Booking, Client, ClientLink, Slot, Therapist
from domain.services import booking_create_by_therapist, slot_create

pytestmark = pytest.mark.browser


@pytest.fixture
def monday() -> date:
    """The Monday of next week in Stockholm: always in the future."""
    today = timezone.localdate(timezone.now(), STOCKHOLM)
    return today + timedelta(days=7 - today.weekday())


def local(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock)).replace(tzinfo=STOCKHOLM)


def rgb(hex_: str) -> str:
    """A colour of therapist_pages/colours.py as the browser computes it."""
    return "rgb({}, {}, {})".format(*(int(hex_[i:i + 2], 16) for i in (1, 3, 5)))


def shown(dt: datetime) -> datetime:
    return dt.astimezone(STOCKHOLM)


@pytest.fixture
def calendar(live_server, page, login_as, anna, monday):
    """Anna's week calendar at next week, loaded, scrolled so that all of it is in view. No
    script error may happen on the page while the test runs."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def open_(user=None, day=None):
        login_as(user or anna.user)
        page.goto(f"{live_server.url}/kalender/?datum={(day or monday).isoformat()}")
        settled(page)
        page.locator("#calendar").evaluate("el => el.scrollIntoView({block: 'start'})")
        return page

    yield open_
    assert errors == []


def settled(page):
    expect(page.locator("#calendar[aria-busy=false]")).to_have_count(1)


def point(page, day: date, clock: str, offset: float = 0.5):
    """Where in the time grid the given day and local time are (`offset` within the row)."""
    column = page.locator(f'[role=columnheader][data-date="{day.isoformat()}"]').bounding_box()
    row = page.locator(f'[data-time="{clock}:00"]').last.bounding_box()
    return column["x"] + column["width"] / 2, row["y"] + row["height"] * offset


def event(page, slot) -> "Locator":  # noqa: F821
    return page.locator(f"#calendar [data-slot-id='{slot.pk}']")


def open_slot(page, slot):
    event(page, slot).click()
    dialog = page.locator("#slot-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".slot-view")).to_have_attribute("data-slot-id", str(slot.pk))
    return dialog


def test_one_click_creates_an_open_slot_from_the_settings(calendar, anna, monday):
    page = calendar()
    x, y = point(page, monday + timedelta(days=1), "10:00", offset=0.3)

    page.mouse.click(x, y)

    expect(page.locator("#calendar-status")).to_contain_text("Ny tid")
    settled(page)
    slot = Slot.objects.get(therapist=anna)
    assert shown(slot.start_at) == local(monday + timedelta(days=1), "10:00")
    assert (slot.duration_minutes, slot.price, slot.modes, slot.audience) == (45, 1000, ["video", "onsite"], "all")
    expect(event(page, slot)).to_have_attribute("data-color", "green")
    expect(event(page, slot)).to_contain_text("10:00–10:45")
    expect(event(page, slot)).to_contain_text("Ledig")


def test_a_slot_is_moved_by_dragging(calendar, anna, monday):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page = calendar()
    box = event(page, slot).bounding_box()
    x, y = point(page, monday + timedelta(days=2), "11:00", offset=0.3)

    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(x, y + 8, steps=12)
    page.mouse.up()

    expect(page.locator("#calendar-status")).to_contain_text("Flyttad")
    settled(page)
    slot.refresh_from_db()
    assert shown(slot.start_at) == local(monday + timedelta(days=2), "11:00")
    assert slot.duration_minutes == 45
    expect(event(page, slot)).to_contain_text("11:00–11:45")


def test_dragging_the_lower_edge_changes_the_length_and_the_price_follows(calendar, anna, monday):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page = calendar()
    box = event(page, slot).bounding_box()
    _, y = point(page, monday, "10:30", offset=0.0)

    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, y - 3, steps=12)
    page.mouse.up()

    expect(page.locator("#calendar-status")).to_contain_text("90 minuter, 2000 kr")
    settled(page)
    slot.refresh_from_db()
    assert (slot.duration_minutes, slot.price) == (90, 2000)
    assert shown(slot.start_at) == local(monday, "09:00")
    expect(event(page, slot)).to_contain_text("2000 kr")


def test_andra_changes_date_time_and_length_and_the_price_follows_the_length(calendar, anna, monday):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page = calendar()
    dialog = open_slot(page, slot)

    dialog.get_by_role("button", name="Ändra").click()
    dialog.get_by_label("Datum").fill((monday + timedelta(days=3)).isoformat())
    dialog.get_by_label("Tid", exact=True).fill("13:30")
    dialog.get_by_label("Längd (minuter)").fill("60")
    expect(dialog.get_by_label("Pris (kr)")).to_have_value("1333")
    dialog.get_by_role("button", name="Spara").click()

    expect(dialog.locator("[data-role=status]")).to_contain_text("Sparad")
    expect(dialog.locator("h2")).to_contain_text("13:30–14:30")
    slot.refresh_from_db()
    assert shown(slot.start_at) == local(monday + timedelta(days=3), "13:30")
    assert (slot.duration_minutes, slot.price) == (60, 1333)
    settled(page)
    expect(event(page, slot)).to_contain_text("1333 kr")


def test_a_price_typed_by_hand_stays(calendar, anna, monday):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page = calendar()
    dialog = open_slot(page, slot)

    dialog.get_by_role("button", name="Ändra").click()
    dialog.get_by_label("Pris (kr)").fill("900")
    dialog.get_by_label("Längd (minuter)").fill("90")
    dialog.get_by_role("button", name="Spara").click()

    expect(dialog.locator("[data-role=status]")).to_contain_text("900 kr")
    slot.refresh_from_db()
    assert (slot.duration_minutes, slot.price) == (90, 900)


def test_kinds_and_audience_are_changed_and_the_slot_turns_blue(calendar, anna, monday):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page = calendar()
    expect(event(page, slot)).to_have_attribute("data-color", "green")
    dialog = open_slot(page, slot)

    dialog.get_by_role("button", name="Ändra").click()
    dialog.locator("#slot-edit").get_by_label("Video").uncheck()
    dialog.get_by_label("Vem kan boka").select_option(label="Enbart befintliga klienter")
    dialog.get_by_role("button", name="Spara").click()

    expect(dialog.locator("[data-fact=audience]")).to_have_text("Enbart befintliga klienter")
    expect(dialog.locator("[data-fact=kinds]")).to_have_text("På plats")
    slot.refresh_from_db()
    assert (slot.video, slot.onsite, slot.audience) == (False, True, "existing")
    dialog.get_by_role("button", name="Stäng").click()
    settled(page)
    expect(event(page, slot)).to_have_attribute("data-color", "blue")
    expect(event(page, slot)).to_contain_text("Ledig tid (befintliga klienter)")  # its words, colours.py's label


def test_an_open_slot_is_removed(calendar, anna, monday):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page = calendar()
    dialog = open_slot(page, slot)

    dialog.get_by_role("button", name="Ta bort").click()

    expect(dialog).to_be_hidden()
    expect(page.locator("#calendar-status")).to_contain_text("togs bort")
    settled(page)
    expect(event(page, slot)).to_have_count(0)
    assert not Slot.objects.filter(pk=slot.pk).exists()


def test_a_client_is_booked_through_the_autocomplete_choosing_among_namesakes(calendar, anna, monday, make_client):
    first = make_client(first="Erik", last="Eriksson", birth="19850312", therapist=anna)
    second = make_client(first="Erik", last="Eriksson", birth="19790101", therapist=anna)
    make_client(first="Eva", last="Ek", therapist=anna)
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page = calendar()
    dialog = open_slot(page, slot)

    dialog.get_by_role("button", name="Boka med klient").click()
    dialog.get_by_label("Klientens förnamn").fill("eri")
    options = dialog.get_by_role("option")
    expect(options).to_have_count(2)
    page.keyboard.press("Escape")  # closes the suggestions, not the booking view
    expect(dialog.get_by_role("listbox")).to_be_hidden()
    expect(dialog).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(options).to_have_count(2)
    expect(options.first).to_contain_text(first.personnummer)
    expect(options.last).to_contain_text(second.personnummer)
    dialog.get_by_role("option", name=re.compile(second.personnummer)).click()
    expect(dialog.locator("[data-role=chosen]")).to_contain_text(second.personnummer)
    dialog.locator("#slot-book").get_by_label("Video").check()
    dialog.get_by_role("button", name="Slutför bokning").click()

    expect(dialog.locator("[data-fact=client]")).to_contain_text(second.personnummer)
    expect(dialog.locator("[data-fact=mode]")).to_have_text("Video")
    booking = Booking.objects.get(slot=slot)
    assert (booking.client, booking.mode, booking.status) == (second, "video", "confirmed")
    dialog.get_by_role("button", name="Stäng").click()
    settled(page)
    expect(event(page, slot)).to_have_attribute("data-color", "yellow")  # her first visit (R15)
    expect(event(page, slot)).to_contain_text("Erik Eriksson")


def test_a_booking_is_cancelled_and_the_slot_is_open_again(calendar, anna, erik, monday):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    booking = booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="onsite", actor=anna.user)
    page = calendar()
    expect(event(page, slot)).to_contain_text("Erik Eriksson")
    dialog = open_slot(page, slot)
    expect(dialog.locator("[data-fact=first-visit]")).to_contain_text("första besök")

    dialog.get_by_role("button", name="Avboka").click()
    dialog.get_by_role("button", name="Ja, avboka").click()

    expect(dialog.locator("[data-role=status]")).to_contain_text("avbokad")
    expect(dialog.get_by_role("button", name="Boka med klient")).to_be_visible()
    expect(dialog.locator(".slot-history")).to_contain_text("avbokad")
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    page.keyboard.press("Escape")
    settled(page)
    expect(event(page, slot)).to_have_attribute("data-color", "green")


def test_a_refused_overlap_snaps_back_and_says_why(calendar, anna, monday):
    slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    later = slot_create(therapist=anna, actor=anna.user, start=local(monday, "11:00"))
    page = calendar()
    box = event(page, later).bounding_box()
    x, y = point(page, monday, "09:15", offset=0.3)

    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(x, y + 8, steps=12)
    page.mouse.up()

    expect(page.locator("#calendar-alert")).to_contain_text("krockar med en annan tid")
    expect(event(page, later)).to_contain_text("11:00–11:45")
    later.refresh_from_db()
    assert shown(later.start_at) == local(monday, "11:00")


def test_repeat_weekly_skips_the_taken_weeks_and_says_which(calendar, anna, monday):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    taken = monday + timedelta(weeks=2)
    slot_create(therapist=anna, actor=anna.user, start=local(taken, "09:30"))
    page = calendar()
    dialog = open_slot(page, slot)

    dialog.get_by_role("button", name="Upprepa varje vecka").click()
    dialog.get_by_label("Även de följande veckorna (antal)").fill("3")
    dialog.get_by_role("button", name="Upprepa", exact=True).click()

    status = dialog.locator("[data-role=status]")
    expect(status).to_contain_text("Skapade 2 kopior")
    expect(status).to_contain_text(f"Hoppade över: {taken.day} ")
    starts = sorted(shown(s.start_at) for s in Slot.objects.filter(therapist=anna, start_at__hour__in=[8, 9, 7]))
    assert local(monday + timedelta(weeks=1), "09:00") in starts
    assert local(monday + timedelta(weeks=3), "09:00") in starts
    assert local(taken, "09:00") not in starts
    assert Slot.objects.filter(therapist=anna).count() == 4


def test_ny_tid_makes_a_slot_and_its_weekly_repeats_in_one_step(calendar, anna, monday):
    tuesday = monday + timedelta(days=1)
    taken = slot_create(therapist=anna, actor=anna.user, start=local(tuesday + timedelta(weeks=2), "10:30"))
    page = calendar()

    page.get_by_role("button", name="Ny tid").click()
    new_dialog = page.locator("#new-slot-dialog")
    new_dialog.get_by_label("Datum").fill(tuesday.isoformat())
    new_dialog.get_by_label("Tid", exact=True).fill("10:00")
    weeks = new_dialog.get_by_label("Även de följande veckorna (antal)")
    weeks.fill("53")
    new_dialog.get_by_role("button", name="Skapa tid").click()

    # Too many weeks: said on the field, nothing made, the form still open to correct.
    expect(new_dialog.locator("[data-error-for=weeks]")).to_contain_text("52")
    expect(weeks).to_have_attribute("aria-invalid", "true")
    assert Slot.objects.filter(therapist=anna).count() == 1

    weeks.fill("3")
    new_dialog.get_by_role("button", name="Skapa tid").click()

    dialog = page.locator("#slot-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_contain_text("10:00–10:45")
    status = dialog.locator("[data-role=status]")
    expect(status).to_contain_text("Skapade 2 kopior")
    expect(status).to_contain_text(f"Hoppade över: {(tuesday + timedelta(weeks=2)).day} ")
    made = list(Slot.objects.filter(therapist=anna).exclude(pk=taken.pk).order_by("start_at"))
    assert [shown(s.start_at) for s in made] == [
        local(tuesday + timedelta(weeks=week), "10:00") for week in (0, 1, 3)
    ]
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    settled(page)

    # The repeats are in the calendar, week by week; the taken week keeps its own slot.
    expect(event(page, made[0])).to_contain_text("10:00–10:45")
    next_week = page.get_by_role("button", name="Nästa vecka")
    for shown_slot, hidden_slot in [(made[1], made[0]), (taken, made[1]), (made[2], taken)]:
        next_week.click()
        settled(page)
        expect(event(page, shown_slot)).to_be_visible()
        expect(event(page, hidden_slot)).to_have_count(0)
    expect(event(page, made[2])).to_contain_text("10:00–10:45")
    expect(event(page, made[2])).to_contain_text("Ledig")

    # The next new slot does not repeat unless asked again.
    page.get_by_role("button", name="Ny tid").click()
    expect(weeks).to_have_value("")


def test_an_own_client_with_a_bad_personnummer_is_refused_per_field(live_server, page, login_as, anna):
    good = pnr("19850312", "123")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    login_as(anna.user)
    page.goto(f"{live_server.url}/kalender/klienter/")

    page.get_by_label("Förnamn", exact=True).fill("Åsa")
    page.get_by_label("Efternamn").fill("Öberg")
    page.get_by_label("Personnummer").fill(bad)
    page.get_by_label("E-postadress").fill("asa@example.se")
    page.get_by_role("button", name="Lägg till klient").click()

    expect(page.locator("#id_personnummer-error")).to_be_visible()
    expect(page.get_by_label("Förnamn", exact=True)).to_have_value("Åsa")
    assert not Client.objects.filter(email="asa@example.se").exists()

    page.get_by_label("Personnummer").fill(good.replace("-", ""))
    page.get_by_role("button", name="Lägg till klient").click()

    expect(page.get_by_role("status")).to_contain_text("Åsa Öberg")
    expect(page.get_by_role("row", name=re.compile("Åsa Öberg"))).to_contain_text("Egen")
    link = ClientLink.objects.get(therapist=anna, client__email="asa@example.se")
    assert (link.source, link.client.personnummer) == ("own", good)

    page.get_by_label("Sök på förnamn").fill("asa")
    page.get_by_role("button", name="Sök").click()
    expect(page.get_by_role("row", name=re.compile("Åsa Öberg"))).to_be_visible()


def test_a_changed_setting_applies_to_the_next_created_slot(calendar, live_server, anna, monday):
    page = calendar()
    page.get_by_role("link", name="Inställningar").click()
    expect(page.get_by_role("heading", name="Inställningar")).to_be_visible()

    page.get_by_label("Standardlängd (minuter)").fill("60")
    page.get_by_label("Standardpris (kr)").fill("1200")
    page.get_by_label("Ort").fill("Uppsala")
    page.get_by_role("button", name="Spara inställningar").click()

    expect(page.get_by_role("status")).to_contain_text("sparade")
    anna = Therapist.objects.get(pk=anna.pk)
    assert (anna.default_duration_minutes, anna.default_price, anna.city) == (60, 1200, "Uppsala")
    expect(page.locator(".feed-url")).to_contain_text(f"/kalender/feed/{anna.calendar_feed_token}.ics")

    page.goto(f"{live_server.url}/kalender/?datum={monday.isoformat()}")
    settled(page)
    page.locator("#calendar").evaluate("el => el.scrollIntoView({block: 'start'})")
    x, y = point(page, monday, "09:00", offset=0.3)
    page.mouse.click(x, y)

    expect(page.locator("#calendar-status")).to_contain_text("Ny tid")
    settled(page)
    slot = Slot.objects.get(therapist=anna)
    assert (slot.duration_minutes, slot.price) == (60, 1200)
    expect(event(page, slot)).to_contain_text("09:00–10:00")
    expect(event(page, slot)).to_contain_text("1200 kr")


def test_the_english_switch_sticks(calendar, live_server, anna, monday):
    page = calendar()
    expect(page.get_by_role("heading", name="Kalender")).to_be_visible()
    expect(page.locator("#calendar button", has_text="Idag")).to_be_visible()

    page.get_by_role("button", name="English").click()

    expect(page.get_by_role("heading", name="Calendar")).to_be_visible()
    expect(page.locator("#calendar button", has_text="Today")).to_be_visible()
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    expect(page.get_by_label("Default length (minutes)")).to_have_value("45")
    page.goto(f"{live_server.url}/kalender/klienter/")
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies["tidbok_language"] == "en"
    assert Therapist.objects.get(pk=anna.pk).default_duration_minutes == 45


def test_the_calendar_is_usable_by_keyboard(calendar, anna, monday):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page = calendar()

    # A new slot without the mouse: the "Ny tid" button, typed date and time, Enter.
    page.get_by_role("button", name="Ny tid").focus()
    page.keyboard.press("Enter")
    new_dialog = page.locator("#new-slot-dialog")
    expect(new_dialog).to_be_visible()
    new_dialog.get_by_label("Datum").fill((monday + timedelta(days=1)).isoformat())
    new_dialog.get_by_label("Tid", exact=True).fill("10:15")
    new_dialog.get_by_label("Tid", exact=True).press("Enter")
    dialog = page.locator("#slot-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_contain_text("10:15–11:00")
    created = Slot.objects.exclude(pk=slot.pk).get()
    assert shown(created.start_at) == local(monday + timedelta(days=1), "10:15")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Focus returns to what opened it (the dialog's close event comes a moment after it closes:
    # wait for it, or it would take the focus back from the event focused below).
    expect(page.get_by_role("button", name="Ny tid")).to_be_focused()
    settled(page)

    # Open an existing slot with Enter; Tab stays inside the dialog; act; Escape closes.
    event(page, slot).focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    for _ in range(25):
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('slot-dialog').contains(document.activeElement)")
    for _ in range(25):
        if page.evaluate("document.activeElement.textContent.trim()") == "Ta bort":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    settled(page)
    assert not Slot.objects.filter(pk=slot.pk).exists()
    expect(event(page, created)).to_be_visible()
    settled(page)

    event(page, created).focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(event(page, created)).to_be_focused()  # back on the event that opened it


def test_at_phone_width_a_day_and_a_list_view_are_usable(live_server, page, login_as, anna, monday):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page.set_viewport_size({"width": 375, "height": 740})
    login_as(anna.user)
    page.goto(f"{live_server.url}/kalender/?datum={monday.isoformat()}")
    settled(page)

    expect(page.locator("[role=columnheader][data-date]")).to_have_count(1)  # the day view
    expect(event(page, slot)).to_contain_text("09:00–09:45")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The day scrolls inside the calendar, which opens at the morning: bring the calendar up.
    page.locator("#calendar").evaluate("el => el.scrollIntoView({block: 'start'})")
    x, y = point(page, monday, "11:00", offset=0.3)
    page.mouse.click(x, y)
    expect(page.locator("#calendar-status")).to_contain_text("Ny tid")
    settled(page)
    created = Slot.objects.exclude(pk=slot.pk).get()
    assert shown(created.start_at) == local(monday, "11:00")

    page.get_by_role("tab", name="Lista").click()
    settled(page)
    expect(event(page, slot)).to_contain_text("Ledig")
    expect(event(page, created)).to_be_visible()
    event(page, created).click()
    dialog = page.locator("#slot-dialog")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    dialog.get_by_role("button", name="Ta bort").click()
    expect(dialog).to_be_hidden()
    assert not Slot.objects.filter(pk=created.pk).exists()


def test_times_are_shown_in_the_therapists_zone_wherever_the_browser_is(browser, live_server, anna, monday):
    from django.conf import settings
    from django.test import Client as HttpClient

    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    http = HttpClient()
    http.force_login(anna.user)
    context = browser.new_context(locale="sv-SE", timezone_id="America/New_York", viewport={"width": 1280, "height": 900})
    context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME, "value": http.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }])
    page = context.new_page()
    page.goto(f"{live_server.url}/kalender/?datum={monday.isoformat()}")
    settled(page)

    expect(event(page, slot)).to_contain_text("09:00–09:45")
    page.locator("#calendar").evaluate("el => el.scrollIntoView({block: 'start'})")
    x, y = point(page, monday + timedelta(days=1), "10:00", offset=0.3)
    page.mouse.click(x, y)
    expect(page.locator("#calendar-status")).to_contain_text("Ny tid")
    created = Slot.objects.exclude(pk=slot.pk).get()
    assert shown(created.start_at) == local(monday + timedelta(days=1), "10:00")
    context.close()


def test_the_week_in_four_colours(calendar, anna, monday, make_client, artifacts):
    erik = make_client(first="Erik", therapist=anna)
    nora = make_client(first="Nora", last="Nilsson", therapist=anna)
    slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    slot_create(therapist=anna, actor=anna.user, start=local(monday, "10:00"), audience="existing")
    first = slot_create(therapist=anna, actor=anna.user, start=local(monday + timedelta(days=1), "09:00"))
    again = slot_create(therapist=anna, actor=anna.user, start=local(monday + timedelta(days=2), "11:00"))
    new = slot_create(therapist=anna, actor=anna.user, start=local(monday + timedelta(days=3), "10:00"))
    booking_create_by_therapist(therapist=anna, slot=first, client=erik, mode="video", actor=anna.user)
    booking_create_by_therapist(therapist=anna, slot=again, client=erik, mode="onsite", actor=anna.user)
    booking_create_by_therapist(therapist=anna, slot=new, client=nora, mode="video", actor=anna.user)

    page = calendar()

    for color in ("green", "blue", "red", "yellow"):
        expect(page.locator(f"#calendar [data-color={color}]").first).to_be_visible()
    expect(event(page, again)).to_contain_text("Bokad: Erik Eriksson")
    expect(event(page, new)).to_contain_text("Nybesök: Nora Nilsson")
    assert {s.color for s in Slot.objects.filter(therapist=anna)} == {"green", "blue", "red", "yellow"}
    page.locator(".calendar-page").screenshot(path=str(artifacts / "week-four-colours.png"))


def test_dragging_over_free_time_creates_back_to_back_slots(calendar, anna, monday):
    page = calendar()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    x, top = point(page, monday + timedelta(days=4), "09:00", offset=0.3)
    _, bottom = point(page, monday + timedelta(days=4), "11:15", offset=0.5)

    page.mouse.move(x, top)
    page.mouse.down()
    page.mouse.move(x, bottom, steps=12)
    page.mouse.up()

    expect(page.locator("#calendar-status")).to_contain_text("3 nya tider")
    settled(page)
    slots = list(Slot.objects.filter(therapist=anna).order_by("start_at"))
    assert [shown(s.start_at) for s in slots] == [
        local(monday + timedelta(days=4), clock) for clock in ("09:00", "09:45", "10:30")
    ]
    assert all((s.duration_minutes, s.price) == (45, 1000) for s in slots)
    for s in slots:
        expect(event(page, s)).to_have_attribute("data-color", "green")
    assert errors == []


def test_a_booked_slot_is_moved_from_its_booking_view_and_the_client_is_told(calendar, anna, erik, monday):
    from domain.models import OutboundEmail

    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    booking = booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)
    page = calendar()
    dialog = open_slot(page, slot)

    dialog.get_by_role("button", name="Flytta").click()
    dialog.get_by_label("Tid", exact=True).fill("14:00")
    dialog.get_by_role("button", name="Spara").click()

    expect(dialog.locator("h2")).to_contain_text("14:00–14:45")
    expect(dialog.locator(".slot-history")).to_contain_text("flyttad")
    booking.refresh_from_db()
    assert shown(booking.start_at) == local(monday, "14:00")
    assert OutboundEmail.objects.filter(booking=booking, kind="booking_rescheduled").count() == 1


def test_a_client_is_booked_by_keyboard(calendar, anna, erik, monday):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"), modes=["onsite"])
    page = calendar()
    event(page, slot).focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#slot-dialog")
    expect(dialog).to_be_visible()

    dialog.get_by_role("button", name="Boka med klient").focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_label("Klientens förnamn")).to_be_focused()
    page.keyboard.type("ERI")
    expect(dialog.get_by_role("option")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(dialog.locator("[data-role=chosen]")).to_contain_text(erik.personnummer)
    expect(dialog.locator("#slot-book").get_by_label("På plats")).to_be_checked()  # the one kind offered
    dialog.get_by_role("button", name="Slutför bokning").focus()
    page.keyboard.press("Enter")

    expect(dialog.locator("[data-fact=client]")).to_contain_text("Erik Eriksson")
    booking = Booking.objects.get(slot=slot)
    assert (booking.client, booking.mode) == (erik, "onsite")


# Issue 10, finding 8 -----------------------------------------------------------------------


def test_she_reads_whether_client_booster_is_on_in_the_calendar_and_the_settings(live_server, page, login_as, anna, bo):
    login_as(anna.user)
    for path in ("/kalender/", "/kalender/installningar/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("main")).to_contain_text(
            "Client Booster är på. Nya klienter hittar dig under Hitta terapeut och kan boka dina tider som är öppna för alla."
        )

    page.context.clear_cookies()
    login_as(bo.user)
    for path in ("/kalender/", "/kalender/installningar/"):
        page.goto(f"{live_server.url}{path}")
        main = page.locator("main")
        expect(main).to_contain_text("Client Booster är av.")
        expect(main).to_contain_text("Nya klienter hittar dig inte och ser inga av dina tider, inte ens dem som är öppna "
                                     "för alla: bara dina befintliga klienter kan boka dem.")
        expect(main).not_to_contain_text("Client Booster är på")


def test_a_client_not_on_her_list_is_added_in_the_booking_view_and_booked(calendar, anna, monday):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page = calendar()
    dialog = open_slot(page, slot)
    dialog.get_by_role("button", name="Boka med klient").click()
    dialog.get_by_label("Klientens förnamn").fill("åsa")

    expect(dialog.locator("[data-role=no-match]")).to_contain_text("Ingen klient i din lista har det förnamnet.")
    dialog.get_by_role("button", name="Lägg till ny klient").click()
    new_client = dialog.get_by_role("group", name="Ny klient i din lista")
    expect(new_client.get_by_label("Förnamn", exact=True)).to_have_value("Åsa")  # what she typed, capitalised
    expect(new_client.get_by_label("Efternamn")).to_be_focused()
    new_client.get_by_label("Efternamn").fill("Öberg")
    good = pnr("19850312", "123")
    new_client.get_by_label("Personnummer").fill(good[:-1] + str((int(good[-1]) + 1) % 10))
    new_client.get_by_label("E-postadress").fill("asa@example.se")
    new_client.get_by_role("button", name="Lägg till och välj").click()

    # A wrong check digit: said on the field, nobody added, the form still open.
    expect(new_client.locator("[data-error-for=personnummer]")).not_to_be_empty()
    expect(new_client.get_by_label("Personnummer")).to_have_attribute("aria-invalid", "true")
    assert not Client.objects.filter(email="asa@example.se").exists()

    new_client.get_by_label("Personnummer").fill(good)
    new_client.get_by_role("button", name="Lägg till och välj").click()

    expect(new_client).to_be_hidden()
    expect(dialog.locator("[data-role=chosen]")).to_contain_text(f"Åsa Öberg ({good}, asa@example.se)")
    expect(dialog.locator("[data-role=status]")).to_contain_text("Åsa Öberg finns nu i din klientlista och är vald.")
    link = ClientLink.objects.get(therapist=anna, client__email="asa@example.se")
    assert (link.source, link.client.first_name, link.client.personnummer) == ("own", "Åsa", good)
    dialog.locator("#slot-book").get_by_label("Video").check()
    dialog.get_by_role("button", name="Slutför bokning").click()

    expect(dialog.locator("[data-fact=client]")).to_contain_text("Åsa Öberg")
    booking = Booking.objects.get(slot=slot)
    assert (booking.client, booking.mode, booking.status) == (link.client, "video", "confirmed")


def test_the_week_holds_the_whole_day_and_opens_at_the_morning(calendar, anna, monday):
    early = slot_create(therapist=anna, actor=anna.user, start=local(monday, "05:00"))
    late = slot_create(therapist=anna, actor=anna.user, start=local(monday + timedelta(days=2), "22:30"))
    page = calendar()

    expect(page.locator('[data-time="00:00:00"]').first).to_be_attached()
    expect(page.locator('[data-time="23:45:00"]').first).to_be_attached()
    # Opened at 07:00: the morning is at the top of the grid, the night hours above it.
    offset = page.evaluate("""() => {
        const row = document.querySelector('#calendar [data-time="07:00:00"]');
        const scrolls = el => el.scrollHeight > el.clientHeight && getComputedStyle(el).overflowY !== 'visible';
        let scroller = row.parentElement;
        while (scroller && !scrolls(scroller)) scroller = scroller.parentElement;
        return row.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    }""")
    assert abs(offset) < 40, offset
    expect(event(page, early)).not_to_be_in_viewport()

    for slot, text in ((early, "05:00–05:45"), (late, "22:30–23:15")):
        event(page, slot).scroll_into_view_if_needed()
        expect(event(page, slot)).to_contain_text(text)
        dialog = open_slot(page, slot)
        expect(dialog.locator("h2")).to_contain_text(text)
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()


def test_dragging_a_booked_slot_asks_first_then_moves_the_booking_and_mails_the_client(
    calendar, anna, erik, monday, smtp
):
    from conftest import run_worker

    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    booking = booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)
    run_worker()
    smtp.envelopes.clear()  # the confirmation
    page = calendar()
    wednesday = monday + timedelta(days=2)

    def drag_to_wednesday():
        box = event(page, slot).bounding_box()
        x, y = point(page, wednesday, "11:00", offset=0.3)
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 8)
        page.mouse.down()
        page.mouse.move(x, y + 8, steps=12)
        page.mouse.up()

    ask = page.locator("#move-dialog")
    drag_to_wednesday()
    expect(ask).to_be_visible()
    expect(ask).to_contain_text("Erik Eriksson har bokat den här tiden. Ändra bokningen till")
    expect(ask).to_contain_text("11:00–11:45")
    expect(ask.get_by_role("button", name="Ja, ändra bokningen")).to_be_focused()
    ask.get_by_role("button", name="Nej, behåll tiden").click()

    expect(ask).to_be_hidden()
    expect(page.locator("#calendar-status")).to_have_text("Inte ändrad: bokningen behåller sin tid.")
    expect(event(page, slot)).to_contain_text("09:00–09:45")
    booking.refresh_from_db()
    assert shown(booking.start_at) == local(monday, "09:00")

    drag_to_wednesday()
    ask.get_by_role("button", name="Ja, ändra bokningen").click()

    expect(page.locator("#calendar-status")).to_contain_text("Bokningen för Erik Eriksson är flyttad till")
    expect(page.locator("#calendar-status")).to_contain_text("Erik Eriksson får ett mejl om det.")
    settled(page)
    expect(event(page, slot)).to_contain_text("11:00–11:45")
    expect(event(page, slot)).to_contain_text("Erik Eriksson")
    booking.refresh_from_db()
    assert (shown(booking.start_at), booking.status) == (local(wednesday, "11:00"), "confirmed")
    run_worker()
    [mail] = smtp.messages
    assert mail["To"] == erik.email
    assert "11:00" in mail.get_body(preferencelist=("plain",)).get_content()


def test_a_click_in_the_past_says_the_slot_was_not_created(calendar, anna, monday):
    last_week = monday - timedelta(weeks=2)  # wholly past, whatever today is
    page = calendar(day=last_week)
    x, y = point(page, last_week + timedelta(days=1), "10:00", offset=0.3)

    page.mouse.click(x, y)

    expect(page.locator("#calendar-alert")).to_have_text("Inte skapad: Tiden har redan passerat.")
    assert not Slot.objects.filter(therapist=anna).exists()


def test_the_repeat_field_says_it_counts_the_following_weeks_and_one_more_slot_is_made(calendar, anna, monday):
    page = calendar()
    page.get_by_role("button", name="Ny tid").click()
    new_dialog = page.locator("#new-slot-dialog")
    new_dialog.get_by_label("Datum").fill(monday.isoformat())
    new_dialog.get_by_label("Tid", exact=True).fill("10:00")
    weeks = new_dialog.get_by_label("Även de följande veckorna (antal)")
    expect(weeks).to_have_accessible_description(re.compile(
        "2 ger den här tiden och samma tid de 2 följande veckorna, 3 tider sammanlagt"
    ))

    weeks.fill("2")
    new_dialog.get_by_role("button", name="Skapa tid").click()

    expect(page.locator("#slot-dialog [data-role=status]")).to_contain_text("Skapade 2 kopior")
    assert [shown(s.start_at) for s in Slot.objects.filter(therapist=anna).order_by("start_at")] == [
        local(monday + timedelta(weeks=week), "10:00") for week in (0, 1, 2)
    ]


# The session gone while the calendar is open -----------------------------------------------


def end_sessions(how: str) -> None:
    """Every session of the test ends: idle for longer than SESSION_IDLE_MINUTES (R42), or
    logged out in another tab (the session is gone from the database)."""
    import time

    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    from tidbok.middleware import IDLE_KEY

    for row in Session.objects.all():
        if how == "idle":
            session = SessionStore(session_key=row.session_key)
            session[IDLE_KEY] = time.time() - settings.SESSION_IDLE_MINUTES * 60 - 60
            session.save()
        else:
            row.delete()


@pytest.mark.parametrize(("how", "action"), [
    ("idle", "open a slot"),  # this app's booking view: 401 JSON from the page's endpoint
    ("logged out elsewhere", "next week"),  # the slots of the next week: 401 from the JSON API
])
def test_when_the_session_has_gone_the_calendar_goes_to_the_log_in_and_back(calendar, anna, monday, live_server,
                                                                            how, action):
    slot = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    page = calendar()
    here = page.url
    end_sessions(how)

    with page.expect_response(lambda r: r.status == 401):
        if action == "open a slot":
            event(page, slot).click()
        else:
            page.get_by_role("button", name="Nästa vecka").click()

    page.wait_for_url(re.compile(r"/logga-in/\?next="))
    assert page.url.endswith("/logga-in/?next=" + re.sub(r"[/?=]", lambda m: f"%{ord(m[0]):02X}",
                                                         here.removeprefix(live_server.url)))
    if how == "idle":
        expect(page.get_by_text("Du loggades ut efter")).to_be_visible()
    page.get_by_label("E-postadress").fill(anna.user.email)
    page.get_by_label("Lösenord").fill("correct horse battery")
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(here)
    settled(page)
    expect(event(page, slot)).to_be_visible()


def test_each_colour_looks_and_reads_the_same_in_the_legend_the_calendar_and_the_booking_view(
        calendar, anna, erik, monday):
    """therapist_pages/colours.py is the one definition; the swatches' CSS comes from it in a
    <style> that the page's CSP must let through."""
    from therapist_pages.colours import COLOURS

    open_slot_ = slot_create(therapist=anna, actor=anna.user, start=local(monday, "09:00"))
    booked = slot_create(therapist=anna, actor=anna.user, start=local(monday, "11:00"))
    booking_create_by_therapist(therapist=anna, slot=booked, client=erik, mode="video", actor=anna.user)
    page = calendar()

    # The marks (R35): test_booking_window_browser.py; time off (R36): test_time_off_browser.py.
    legend = page.locator(".legend li:not(.legend-mark):not(.legend-time-off)")
    expect(legend).to_have_text([f"{c.icon} {c.meaning}" for c in COLOURS.values()])
    for i, c in enumerate(COLOURS.values()):
        expect(legend.nth(i).locator(".swatch")).to_have_css("background-color", rgb(c.background))
        expect(legend.nth(i).locator(".swatch")).to_have_css("color", rgb(c.text))
    for slot, c in ((open_slot_, COLOURS["green"]), (booked, COLOURS["yellow"])):
        expect(event(page, slot)).to_have_attribute("data-color", c.name)
        expect(event(page, slot).locator(".slot-icon")).to_have_text(c.icon)
        expect(event(page, slot)).to_have_css("background-color", rgb(c.background))
        dialog = open_slot(page, slot)
        expect(dialog.locator(".slot-state")).to_have_text(f"{c.icon} {c.meaning}")
        expect(dialog.locator(".slot-state .swatch")).to_have_css("background-color", rgb(c.background))
        dialog.get_by_role("button", name="Stäng").click()
    expect(event(page, booked)).to_contain_text(f"{COLOURS['yellow'].label}: Erik Eriksson")
