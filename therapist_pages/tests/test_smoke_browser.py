"""The browser set-up works: a logged-in therapist reaches her calendar page."""

import pytest

pytestmark = pytest.mark.browser


def test_a_therapist_logs_in_through_the_form_and_lands_on_her_calendar(anna, live_server, page):
    page.goto(f"{live_server.url}/logga-in/")
    page.get_by_label("E-postadress").fill("anna@example.se")
    page.get_by_label("Lösenord").fill("correct horse battery")
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{live_server.url}/kalender/")
    assert page.url.endswith("/kalender/")


def test_a_wrong_password_says_so(anna, live_server, page):
    page.goto(f"{live_server.url}/logga-in/")
    page.get_by_label("E-postadress").fill("anna@example.se")
    page.get_by_label("Lösenord").fill("wrong")
    page.get_by_role("button", name="Logga in").click()
    assert page.get_by_role("alert").is_visible()
