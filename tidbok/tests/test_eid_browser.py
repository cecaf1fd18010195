"""eID log-in in a real browser (Chromium through Playwright), against the live server, a real
OpenID provider (node's oidc-provider, tidbok/tests/oidc/provider.mjs), a real SMTP server and
the production mail worker: someone new logs in with BankID, gives her e-mail address, opens
the link in the mail and is in, with her personnummer verified. Real clock throughout."""

import re

import pytest
from playwright.sync_api import expect

from conftest import run_worker
from domain.models import User
from domain.tests.test_email_delivery import text_of

from .conftest import PEOPLE, eid_configured

pytestmark = pytest.mark.browser


@pytest.fixture
def site(live_server, settings, start_provider):
    """The live server, configured for a provider whose client returns to it."""
    settings.SITE_URL = live_server.url
    provider = start_provider(redirect_uris=[f"{live_server.url}/login/eid/callback/"])
    with eid_configured(**provider.settings()):
        yield live_server.url


def test_someone_new_logs_in_with_bankid_confirms_her_address_and_is_in(site, smtp, page):
    page.goto(f"{site}/logga-in/")
    page.get_by_role("link", name="Logga in med BankID").click()

    # The provider's own pages (another origin): she identifies herself.
    expect(page.get_by_role("heading", name="Testleverantör för e-legitimation")).to_be_visible()
    page.get_by_label("Testperson").fill("nils")
    page.get_by_role("button", name="Legitimera").click()

    # Back at Tidbok: no account carries her personnummer, so only an address is asked.
    expect(page.get_by_role("heading", name="Skapa ditt konto med BankID")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Nils Nyström")
    assert PEOPLE["nils"]["number"].replace("-", "")[2:] not in page.url  # R24: not in a URL
    page.get_by_label("E-postadress").fill("nils@example.se")
    page.get_by_label("Jag har läst personuppgiftspolicyn").check()
    page.get_by_role("button", name="Skapa konto").click()
    expect(page.get_by_role("heading", name="Kolla din e-post")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("nils@example.se")

    run_worker()
    [message] = smtp.messages
    assert message["To"] == "nils@example.se"
    link = re.search(rf"{re.escape(site)}/bekrafta/\S+", text_of(message)).group(0)
    page.goto(link)
    page.locator("main").get_by_role("button").click()  # confirm: the link alone does nothing

    page.wait_for_url(f"{site}/mina-bokningar/")
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    user = User.objects.get(email="nils@example.se")
    assert user.email_verified is True
    assert (user.client.personnummer, user.client.personnummer_verified) == (PEOPLE["nils"]["number"], True)
    assert (user.first_name, user.last_name) == ("Nils", "Nyström")

    # Later, on another day: BankID alone logs her in to the same account.
    page.get_by_role("button", name="Logga ut").click()
    page.get_by_role("link", name="Logga in med BankID").click()
    page.get_by_label("Testperson").fill("nils")
    page.get_by_role("button", name="Legitimera").click()
    page.wait_for_url(f"{site}/mina-bokningar/")
    expect(page.locator(".messages")).to_contain_text("Du är inloggad med BankID.")
    assert User.objects.filter(client__personnummer=PEOPLE["nils"]["number"]).count() == 1
