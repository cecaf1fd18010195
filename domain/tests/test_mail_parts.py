"""What every mail is made of, as a real SMTP server receives it: the text, an HTML alternative
with the same words (escaped, inline styles, nothing fetched from elsewhere), and on a
client's booking mails a Reply-To that reaches her therapist (issue 10, R30), not noreply.

Time is frozen on Monday 2027-01-11 08:00 in Stockholm."""

from html.parser import HTMLParser

import pytest

from conftest import api_for, pnr, run_worker
from domain.models import Therapist

pytestmark = pytest.mark.django_db(transaction=True)

# What a therapist may type into her settings, and must reach the client as text, not markup.
INFO = 'Ring på porten "Andersson & Co" <b>två</b> gånger. Vägbeskrivning: https://example.se/väg?a=1&b=2.'


class Rendered(HTMLParser):
    """The words a mail program shows for the HTML part (its <body>), with its line and
    paragraph breaks, and every tag and link met on the way."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.tags, self.links, self.in_body = [], [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "body":
            self.in_body = True
        elif tag == "br":
            self.out.append("\n")
        elif tag == "a":
            self.links.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag == "p":
            self.out.append("\n\n")
        elif tag == "body":
            self.in_body = False

    def handle_data(self, data):
        if self.in_body:
            self.out.append(data.replace("\n", " ") if data.strip() else "")

    def text(self) -> str:
        return "\n".join(line.strip() for line in "".join(self.out).strip().split("\n"))


def parts(message) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def assert_same_words(message) -> Rendered:
    text, html = parts(message)
    shown = Rendered()
    shown.feed(html)
    assert shown.text() == "\n".join(line.strip() for line in text.strip().split("\n"))
    # Nothing is fetched from elsewhere, nothing runs; every link is one the text shows.
    assert {tag for tag, _ in shown.tags} <= {"html", "head", "meta", "title", "body", "div", "p", "br", "a"}
    assert all("src" not in attrs and "url(" not in attrs.get("style", "") for _, attrs in shown.tags)
    assert all(link in text for link in shown.links)
    return shown


def test_a_clients_booking_mail_has_html_with_the_same_words_and_answers_to_her_therapist(now, smtp, anna, erik):
    anna_api = api_for(anna.user)
    assert anna_api.patch("/therapist/settings", {"personal_info": INFO, "reception_address": "Sveavägen 1"}).status_code == 200
    slot_id = anna_api.post("/therapist/slots", {"start": "2027-01-12T09:00:00+01:00"}).json()["id"]
    assert api_for(erik.user).post(f"/slots/{slot_id}/book", {"mode": "onsite"}).status_code == 201

    run_worker()

    client_mail, therapist_mail = smtp.messages
    assert client_mail["To"] == erik.email
    assert str(client_mail["Reply-To"]) == f"Anna Andersson <{anna.user.email}>"  # her log-in address by default
    assert client_mail["From"] == "Tidbok <noreply@tidbok.se>"
    shown = assert_same_words(client_mail)
    assert INFO in shown.text()  # the markup she typed is shown as she typed it
    text, html = parts(client_mail)
    assert "<b>två</b>" not in html and "&lt;b&gt;två&lt;/b&gt;" in html
    assert "https://example.se/väg?a=1&b=2" in shown.links  # without the sentence's full stop
    assert "svaret går till Anna Andersson" in text
    # Her own notification: the same parts; replies to it have nowhere to go but noreply.
    assert therapist_mail["To"] == anna.user.email
    assert therapist_mail["Reply-To"] is None
    assert_same_words(therapist_mail)


def test_replies_reach_the_contact_address_she_chose(now, smtp, anna, erik):
    anna_api = api_for(anna.user)
    assert anna_api.patch("/therapist/settings", {"contact_email": "Reception@Example.se"}).status_code == 200
    slot_id = anna_api.post("/therapist/slots", {"start": "2027-01-12T09:00:00+01:00"}).json()["id"]
    booked = anna_api.post(f"/therapist/slots/{slot_id}/booking", {"client_id": erik.pk, "mode": "video"})
    assert booked.status_code == 201, booked.content

    run_worker()

    [mail] = smtp.messages
    assert str(mail["Reply-To"]) == "Anna Andersson <reception@example.se>"
    assert Therapist.objects.get(pk=anna.pk).contact_address == "reception@example.se"


def test_a_mail_about_an_account_has_the_html_part_too(now, smtp, anna):
    response = api_for(anna.user).post("/therapist/clients", {
        "first_name": "Åsa", "last_name": "Öberg", "personnummer": pnr("19850312", "321"), "email": "asa@example.se",
    })
    assert response.status_code == 201, response.content

    run_worker()

    [mail] = smtp.messages
    assert mail["To"] == "asa@example.se"
    assert mail["Reply-To"] is None
    assert "Hej Åsa!" in assert_same_words(mail).text()
