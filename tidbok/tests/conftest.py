"""A real OpenID Connect provider for the eID tests (tidbok/tests/oidc/provider.mjs: node's
certified `oidc-provider`), started by a fixture on a free loopback port and stopped after the
test, and the settings that point Tidbok at it (as OIDC_ISSUER etc. would in production)."""

import importlib
import json
import secrets
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from django.conf import settings
from django.test import override_settings
from django.urls import clear_url_caches

from conftest import free_port, pnr

NODE = shutil.which("node")
ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = Path(__file__).resolve().parent / "oidc" / "provider.mjs"
TESTSERVER_CALLBACK = "http://testserver/login/eid/callback/"


def person(birth: str, serial: str, given: str, family: str) -> dict:
    """A test person as the broker knows her: her personnummer as Swedish brokers give it
    (12 digits, no separator) and her names."""
    return {"number": pnr(birth, serial), "given_name": given, "family_name": family}


# Who can log in at the test provider, by the id typed on its page.
PEOPLE = {
    "nils": person("19880808", "357", "Nils", "Nyström"),
    "erik": person("19850312", "246", "Erik", "Eriksson"),
    "saga": person("19990101", "238", "Saga", "Sjöberg"),
}


class OidcProvider:
    """One running provider: its issuer, its one client and the claim that holds the
    personnummer (`claim`, released with `claim_scope`; in the ID token or only from
    userinfo by `id_token_claims`)."""

    def __init__(self, *, redirect_uris, claim="ssn", claim_scope="openid", id_token_claims=True, extra_accounts=None):
        if NODE is None:
            pytest.skip("node is not installed: the eID tests run a real OpenID provider in node (oidc-provider)")
        if not (ROOT / "node_modules" / "oidc-provider").exists():
            pytest.skip("npm package oidc-provider is missing: run `npm ci` (make install does)")
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id = "tidbok"
        self.client_secret = secrets.token_urlsafe(24)
        self.claim, self.claim_scope = claim, claim_scope
        accounts = {
            login: {claim: p["number"].replace("-", ""), "given_name": p["given_name"], "family_name": p["family_name"],
                    "name": f"{p['given_name']} {p['family_name']}"}
            for login, p in PEOPLE.items()
        }
        accounts.update(extra_accounts or {})
        config = {
            "port": self.port, "client_id": self.client_id, "client_secret": self.client_secret,
            "redirect_uris": list(redirect_uris), "accounts": accounts, "claim": claim, "claim_scope": claim_scope,
            "id_token_claims": id_token_claims,
        }
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [NODE, str(SCRIPT), json.dumps(config)], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT
        )
        self._wait_until_ready()

    def _wait_until_ready(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"the OpenID provider stopped at start:\n{self.log.read()}")
            try:
                if requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the OpenID provider did not start within 30 s")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    @property
    def scopes(self) -> str:
        return " ".join(dict.fromkeys(["openid", "profile", self.claim_scope]))

    def settings(self) -> dict:
        """What an operator would put in the environment for this provider."""
        return {
            "OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": self.client_id, "OIDC_CLIENT_SECRET": self.client_secret,
            "OIDC_PERSONNUMMER_CLAIM": self.claim, "OIDC_SCOPES": self.scopes, "OIDC_ACR_VALUES": "",
            "OIDC_TIMEOUT": 5,
        }


def reload_urls():
    """tidbok/urls.py adds the eID URLs only when OIDC_ISSUER is set: read it again."""
    import tidbok.urls

    importlib.reload(tidbok.urls)
    clear_url_caches()


@contextmanager
def eid_configured(**values):
    """Tidbok configured for eID log-in as tidbok/settings.py makes it from the environment
    (the backend added, the URLs there), for the test process and its live server alike."""
    from tidbok import eid

    backends = [*settings.AUTHENTICATION_BACKENDS, "tidbok.eid.EidBackend"]
    try:
        with override_settings(AUTHENTICATION_BACKENDS=backends, **values):
            eid.discovery_clear()
            reload_urls()
            yield
    finally:
        eid.discovery_clear()
        reload_urls()


@pytest.fixture
def start_provider(db):
    """Start OpenID providers for this test (stopped after it): start_provider(redirect_uris=…)."""
    started = []

    def start(**kwargs):
        kwargs.setdefault("redirect_uris", [TESTSERVER_CALLBACK])
        provider = OidcProvider(**kwargs)
        started.append(provider)
        return provider

    yield start
    for provider in started:
        provider.stop()


@pytest.fixture
def provider(start_provider):
    """A provider like Idura's: the personnummer as `ssn` in the ID token; Tidbok uses it."""
    provider = start_provider()
    with eid_configured(**provider.settings()):
        yield provider


def at_provider(authorize_url: str, login: str | None, *, back_to: str = "http://testserver/") -> str:
    """A person at the provider's pages (a browser of her own, so her provider cookies are
    hers): she opens the authorization URL Tidbok sent her to, types her test id and
    identifies herself (or, with login None, cancels). Answers the URL the provider sends her
    back to, at Tidbok."""
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)
    assert page.status_code == 200 and "/interaction/" in page.url, page.text
    if login is None:
        answer = browser.post(f"{page.url}/abort", allow_redirects=False, timeout=10)
    else:
        answer = browser.post(page.url, data={"login": login}, allow_redirects=False, timeout=10)
    while answer.status_code in (302, 303) and not answer.headers["Location"].startswith(back_to):
        answer = browser.get(urljoin(answer.url, answer.headers["Location"]), allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text
    return answer.headers["Location"]


def eid_round_trip(http, login: str | None, start: str = "/login/eid/"):
    """Through eID log-in with Django's test client `http`: Tidbok's start, the provider's
    pages, and back to Tidbok's callback. Answers the callback's response."""
    response = http.get(start)
    assert response.status_code == 302, response.content
    return http.get(at_provider(response["Location"], login))
