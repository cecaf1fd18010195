"""The site's navigation (base.html) tells assistive technology which link is the page being
shown: that link, and only that one, carries aria-current="page"; a page that is none of the
links (a booking view, a client's page) marks none."""

from html.parser import HTMLParser

import pytest
from django.test import Client as HttpClient


class HeaderLinks(HTMLParser):
    """The links of the page's header (the navigation and the log-in link), each as
    (path, aria-current or None)."""

    def __init__(self):
        super().__init__()
        self.in_header = False
        self.links: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "header":
            self.in_header = True
        elif tag == "a" and self.in_header and "brand" not in (attrs.get("class") or ""):
            self.links.append((attrs["href"], attrs.get("aria-current")))

    def handle_endtag(self, tag):
        if tag == "header":
            self.in_header = False


def header_links(response) -> dict[str, str | None]:
    assert response.status_code == 200
    parser = HeaderLinks()
    parser.feed(response.content.decode())
    return dict(parser.links)


def web(user=None) -> HttpClient:
    http = HttpClient()
    if user is not None:
        http.force_login(user)
    return http


THERAPIST_LINKS = ["/kalender/", "/kalender/klienter/", "/kalender/installningar/", "/konto/"]
CLIENT_LINKS = ["/hitta-terapeut/", "/mina-bokningar/", "/konto/"]


@pytest.mark.parametrize("path", THERAPIST_LINKS)
def test_the_therapists_current_page_is_marked_and_no_other(anna, path):
    links = header_links(web(anna.user).get(path))

    assert list(links) == THERAPIST_LINKS
    assert {href: current for href, current in links.items() if current} == {path: "page"}


def test_a_query_string_does_not_hide_the_current_page(anna):
    links = header_links(web(anna.user).get("/kalender/?datum=2027-01-11"))

    assert links["/kalender/"] == "page"


def test_a_page_under_a_link_is_not_that_page(anna, erik):
    links = header_links(web(anna.user).get(f"/kalender/klienter/{erik.pk}/"))

    assert set(links) == set(THERAPIST_LINKS)
    assert not any(links.values())


@pytest.mark.parametrize("path", CLIENT_LINKS)
def test_the_clients_current_page_is_marked_and_no_other(erik, path):
    links = header_links(web(erik.user).get(path))

    assert list(links) == CLIENT_LINKS
    assert {href: current for href, current in links.items() if current} == {path: "page"}


@pytest.mark.parametrize("path", ["/hitta-terapeut/", "/logga-in/"])
def test_a_visitors_current_page_is_marked_and_no_other(db, path):
    links = header_links(web().get(path))

    assert list(links) == ["/hitta-terapeut/", "/logga-in/"]
    assert {href: current for href, current in links.items() if current} == {path: "page"}


def link_style(page, href: str) -> dict:
    """How the browser draws the header's link to `href`: what the stylesheet finally gives it."""
    return page.locator(f'header a[href="{href}"]').evaluate(
        """a => { const s = getComputedStyle(a), box = a.getBoundingClientRect();
                 return {weight: s.fontWeight, bar: s.borderBottomStyle, barWidth: s.borderBottomWidth,
                         barColour: s.borderBottomColor, colour: s.color, shown: box.width > 0 && box.height > 0}; }"""
    )


@pytest.mark.browser
@pytest.mark.parametrize("who, path, others", [
    ("client", "/mina-bokningar/", ["/hitta-terapeut/", "/konto/"]),  # in the main navigation
    ("visitor", "/logga-in/", ["/hitta-terapeut/"]),  # among the header's tools
])
def test_the_current_link_is_drawn_bold_with_a_bar_and_the_others_are_not(live_server, page, login_as, erik, who, path,
                                                                           others):
    """Weight and a bar, not colour alone (site.css): checked on what Chromium computes, so a
    rule that stops matching or is overridden later fails here."""
    if who == "client":
        login_as(erik.user)
    page.goto(f"{live_server.url}{path}")

    current = link_style(page, path)
    assert current["shown"]
    assert (current["weight"], current["bar"], current["barWidth"]) == ("600", "solid", "3px")
    assert current["barColour"] == current["colour"]  # the bar in the accent colour of its text
    for href in others:
        other = link_style(page, href)
        assert other["shown"]
        assert (other["weight"], other["bar"]) == ("400", "none"), href


def test_a_browser_asking_for_favicon_ico_gets_our_icon(client):
    """The admin and the API's docs name no icon; a browser then asks for /favicon.ico."""
    response = client.get("/favicon.ico")

    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    assert response.status_code == 301
    assert response["Location"] == static("tidbok/favicon-32.png")
    with open(finders.find("tidbok/favicon-32.png"), "rb") as icon:
        assert icon.read(8) == b"\x89PNG\r\n\x1a\n"
