"""How a mail is put together, beyond its words (test_emails_golden.py holds those): the
reader's language and its fallback, the links the web layer gives the domain, and what a
booking tells each reader about where it happens (domain/where.py), the same in the mail,
the invitation, the API and the client's page."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import timezone

from conftest import api_for, at
from domain import links as domain_links
from domain.models import Booking, Client, OutboundEmail, Slot
from domain.services import emails
from domain.where import Where
from tidbok.links import PageLinks

DOMAIN = Path(__file__).resolve().parent.parent


def booking(therapist, client, mode, days=7):
    start = (timezone.now() + timedelta(days=days)).replace(microsecond=0)
    slot = Slot.objects.create(therapist=therapist, start_at=start, end_at=start + timedelta(minutes=45), price=850)
    return Booking.objects.create(slot=slot, therapist=therapist, client=client, start_at=slot.start_at,
                                  end_at=slot.end_at, price=850, mode=mode)


# The reader's language ----------------------------------------------------------------------


@pytest.mark.parametrize(("stored", "language"), [("en", "en"), ("sv", "sv"), ("", "sv"), ("fr", "sv")])
def test_a_mail_is_in_the_readers_language_or_else_the_sites(anna, erik, stored, language):
    Client.objects.filter(pk=erik.pk).update(language=stored)
    erik.refresh_from_db()

    email = emails.email_booking_confirmed(booking=booking(anna, erik, "video"))

    assert email.subject.startswith({"sv": "Bokningsbekräftelse: ", "en": "Booking confirmed: "}[language])


def test_the_fallback_is_the_sites_language(anna, erik):
    """The one definition is the site's: LANGUAGES and LANGUAGE_CODE, not a list of its own."""
    Client.objects.filter(pk=erik.pk).update(language="fr")
    erik.refresh_from_db()

    with override_settings(LANGUAGE_CODE="en"):
        email = emails.email_booking_confirmed(booking=booking(anna, erik, "video"))

    assert email.subject.startswith("Booking confirmed: ")


def test_an_account_mail_falls_back_the_same_way(make_client):
    nora = make_client(first="Nora", last="Nilsson", language="sv").user
    nora.language = "de"

    email = emails.email_password_reset(user=nora)

    assert email.subject == "Välj ett nytt lösenord för Tidbok"


# Links --------------------------------------------------------------------------------------


def test_no_module_of_the_domain_knows_a_page_url():
    """The domain names what a link is for (domain/links.py); only the web layer reverses."""
    offenders = []
    for path in DOMAIN.rglob("*.py"):
        if "tests" in path.relative_to(DOMAIN).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("django.urls"):
                offenders.append(f"{path.relative_to(DOMAIN)}:{node.lineno}")
            if isinstance(node, ast.Import) and any(a.name.startswith("django.urls") for a in node.names):
                offenders.append(f"{path.relative_to(DOMAIN)}:{node.lineno}")
            # Nor does it write one by hand: SITE_URL followed by a path.
            if isinstance(node, ast.JoinedStr) and "SITE_URL" in ast.unparse(node) and "/" in "".join(
                    part.value for part in node.values if isinstance(part, ast.Constant)):
                offenders.append(f"{path.relative_to(DOMAIN)}:{node.lineno}")
    assert offenders == []


def test_the_web_layer_gives_every_link_the_domain_asks_for():
    wanted = {name for name in vars(domain_links.Links) if not name.startswith("_")}
    assert wanted <= set(dir(PageLinks))
    assert isinstance(domain_links.links(), PageLinks)  # registered at start-up (tidbok.apps)


def test_without_the_web_layer_a_mail_says_what_is_missing(monkeypatch, make_client):
    monkeypatch.setattr(domain_links, "_links", None)
    nora = make_client(first="Nora", last="Nilsson").user

    with pytest.raises(ImproperlyConfigured, match="No page links are registered"):
        emails.email_account_exists(user=nora)
    assert not OutboundEmail.objects.exists()


def test_the_links_are_absolute_and_go_to_the_pages(anna, client, db):
    assert domain_links.links().log_in() == f"{settings.SITE_URL}/logga-in/"
    calendar = domain_links.links().therapist_calendar(at("2027-01-12 09:00").date())
    assert calendar == f"{settings.SITE_URL}/kalender/?datum=2027-01-12"
    client.force_login(anna.user)
    assert client.get(calendar[len(settings.SITE_URL):]).status_code == 200


# Where a booking happens ------------------------------------------------------------------


@override_settings(VIDEO_OPENS_MINUTES_BEFORE=10)
def test_a_video_call_gives_each_reader_her_own_link_and_when_it_opens(anna, erik):
    b = booking(anna, erik, "video")

    assert b.where() == Where(video_url=b.video_url, opens_minutes_before=10)
    assert b.where(for_therapist=True) == Where(video_url=b.therapist_video_url, opens_minutes_before=10)
    assert b.video_url != b.therapist_video_url
    mail = emails.email_booking_confirmed(booking=b)
    assert f"Länken öppnar cirka 10 minuter före besöket:\n{b.video_url}\n" in mail.body


@override_settings(VIDEO_OPENS_MINUTES_BEFORE=1)
def test_one_minute_is_said_in_the_singular_to_both_readers(anna, erik):
    b = booking(anna, erik, "video")

    assert "Länken öppnar cirka 1 minut före besöket:" in emails.email_booking_confirmed(booking=b).body
    assert "öppnar cirka 1 minut före besöket:" in emails.email_therapist_booking_created(booking=b, actor=erik.user).body


def test_on_site_the_client_gets_the_address_and_the_information_and_the_therapist_the_address(make_therapist, erik):
    anna = make_therapist(email="anna2@example.se", reception_address="Storgatan 1", personal_info="Ring på.")
    b = booking(anna, erik, "onsite")

    assert b.where() == Where(address="Storgatan 1", personal_info="Ring på.")
    assert b.where(for_therapist=True) == Where(address="Storgatan 1")


def test_the_api_and_the_page_say_what_the_mail_says(make_therapist, make_client, client):
    anna = make_therapist(email="anna2@example.se", reception_address="Storgatan 1", personal_info="Ring på.")
    erik = make_client(therapist=anna)
    video, onsite = booking(anna, erik, "video"), booking(anna, erik, "onsite", days=8)

    answers = {b["id"]: b for b in api_for(erik.user).get("/client/bookings").json()}
    assert (answers[video.pk]["video_url"], answers[video.pk]["reception_address"]) == (video.video_url, None)
    assert answers[video.pk]["personal_info"] is None
    assert answers[onsite.pk]["video_url"] is None
    assert (answers[onsite.pk]["reception_address"], answers[onsite.pk]["personal_info"]) == ("Storgatan 1", "Ring på.")
    client.force_login(erik.user)
    with override_settings(VIDEO_OPENS_MINUTES_BEFORE=10):
        page = client.get(f"/mina-bokningar/{video.pk}/").content.decode()
    assert f'href="{video.video_url}"' in page
    assert "(öppnar 10 minuter före start)" in page
    page = client.get(f"/mina-bokningar/{onsite.pk}/").content.decode()
    assert "Storgatan 1" in page and "Ring på." in page
