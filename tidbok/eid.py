"""eID log-in (R27), optional: BankID or Freja through an OpenID Connect broker (Idura/Criipto,
Signicat, …), with mozilla-django-oidc as the relying party. Only imported when OIDC_ISSUER is
set (`tidbok/urls.py`, `AUTHENTICATION_BACKENDS`).

The flow: `/login/eid/` (EidStart) sends the browser to the broker with state, nonce and PKCE
kept in the session; the broker sends it back to `/login/eid/callback/` (EidCallback), where
the library checks the state and the backend (EidBackend) trades the code for tokens, checks
the ID token's signature, issuer, audience, expiry and nonce, and reads the personnummer from
the claim OIDC_PERSONNUMMER_CLAIM. Then, by who is asking (domain/services/eid.py):

a. a logged-in client: her account is connected (personnummer verified, records joined);
b. a visitor whose verified personnummer an account carries: she is logged in to it;
c. anyone else: `/login/eid/nytt-konto/` asks only for an e-mail address. The proven
   personnummer and names wait in the session (never a URL: R24) for EID_PENDING_SECONDS.

The broker's endpoints come from its discovery document, read at first use and kept for a
day. When the broker cannot be reached, the page says so (503), never a 500."""

import logging
import threading
import time
from datetime import timedelta
from importlib import import_module

import jwt
import requests
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, user_logged_in
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.dispatch import receiver
from django.shortcuts import redirect, render
from django.tasks import task
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from domain.backends import source_address
from domain.models import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH
from domain.privacy import POLICY_VERSION
from domain.services import AccountRequestsThrottled
from domain.services.eid import (
    EID_PROOF_SESSION_KEY,
    eid_account,
    eid_account_request,
    eid_connect,
    eid_personnummer,
    eid_proof,
)

from .two_factor import EID_SESSION_KEY

log = logging.getLogger(__name__)

# The session a log-in ends in is an ordinary one: the request's user is loaded through the
# password backend, so no page needs the broker once she is in.
SESSION_BACKEND = "domain.backends.EmailBackend"
PENDING_KEY = "eid_pending"
EID_PENDING_SECONDS = 10 * 60
DISCOVERY_MAX_AGE = 24 * 3600
# Signatures the library checks with the broker's published keys (it would take any other
# name for a shared-secret HMAC).
SIGNING_ALGORITHMS = ("RS256", "ES256", "RS384", "ES384", "RS512", "ES512")


class EidUnavailable(Exception):
    """The broker cannot be reached, or what it publishes does not fit (logged)."""


# The discovery document ---------------------------------------------------------------------

_discovery: dict[str, tuple[float, dict]] = {}
_discovery_lock = threading.Lock()


def discovery_clear() -> None:
    _discovery.clear()


def provider_metadata() -> dict:
    """The broker's `<issuer>/.well-known/openid-configuration`, fetched with a timeout at
    first use and kept for DISCOVERY_MAX_AGE per issuer. A failure is not kept: the next
    log-in tries again."""
    issuer = settings.OIDC_ISSUER
    hit = _discovery.get(issuer)
    if hit is not None and time.monotonic() - hit[0] < DISCOVERY_MAX_AGE:
        return hit[1]
    with _discovery_lock:
        hit = _discovery.get(issuer)
        if hit is not None and time.monotonic() - hit[0] < DISCOVERY_MAX_AGE:
            return hit[1]
        url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as e:
            log.warning("eID: the broker's discovery document %s could not be read: %s", url, type(e).__name__)
            raise EidUnavailable from e
        problem = _discovery_problem(document, issuer)
        if problem:
            log.error("eID: the discovery document %s does not fit (OIDC_ISSUER?): %s", url, problem)
            raise EidUnavailable(problem)
        _discovery[issuer] = (time.monotonic(), document)
        return document


def _discovery_problem(document, issuer: str) -> str:
    if not isinstance(document, dict):
        return "not a JSON object"
    if str(document.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        return f"its issuer is {document.get('issuer')!r}, not {issuer!r}"
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(key), str) or not document[key]:
            return f"{key} is missing"
    if _signing_algorithm(document) is None:
        return f"none of the ID token signatures {SIGNING_ALGORITHMS} is offered"
    return ""


def _signing_algorithm(document: dict) -> str | None:
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    return next((alg for alg in SIGNING_ALGORITHMS if alg in offered), None)


def eid_setting(name: str, *default):
    """mozilla-django-oidc's settings, fed from ours and the discovery document (it wants
    OIDC_OP_* and OIDC_RP_* settings); any other name is read from Django's settings."""
    if name.startswith("OIDC_OP_") or name == "OIDC_RP_SIGN_ALGO" or name == "OIDC_TOKEN_USE_BASIC_AUTH":
        meta = provider_metadata()
        auth_methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        return {
            "OIDC_OP_AUTHORIZATION_ENDPOINT": meta["authorization_endpoint"],
            "OIDC_OP_TOKEN_ENDPOINT": meta["token_endpoint"],
            "OIDC_OP_USER_ENDPOINT": meta.get("userinfo_endpoint"),
            "OIDC_OP_JWKS_ENDPOINT": meta["jwks_uri"],
            "OIDC_RP_SIGN_ALGO": _signing_algorithm(meta),
            # client_secret_basic is the default of the standard; _post only where it is the one offered.
            "OIDC_TOKEN_USE_BASIC_AUTH": "client_secret_basic" in auth_methods or "client_secret_post" not in auth_methods,
        }.get(name, *default)
    ours = {
        "OIDC_RP_CLIENT_ID": settings.OIDC_CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": settings.OIDC_CLIENT_SECRET,
        "OIDC_RP_SCOPES": settings.OIDC_SCOPES,
        # prompt=login: the broker asks for the eID every time. Its own session (single sign-on)
        # would otherwise log the next person at a shared computer in as the last one.
        "OIDC_AUTH_REQUEST_EXTRA_PARAMS": {
            "prompt": "login", **({"acr_values": settings.OIDC_ACR_VALUES} if settings.OIDC_ACR_VALUES else {}),
        },
        "OIDC_AUTHENTICATION_CALLBACK_URL": "eid_callback",
        "OIDC_REDIRECT_FIELD_NAME": "next",
        # PKCE always (RFC 9700): a broker that requires it gets it, one that does not know it
        # ignores the parameters (RFC 7636 section 5).
        "OIDC_USE_PKCE": True,
        "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
        "OIDC_USE_NONCE": True,
        "OIDC_CREATE_USER": False,  # accounts are made by domain.services.eid, with an e-mail address
        "OIDC_STORE_ACCESS_TOKEN": False,
        "OIDC_STORE_ID_TOKEN": False,
        "OIDC_VERIFY_SSL": True,
        "OIDC_ALLOW_UNSECURED_JWT": False,
        "OIDC_TIMEOUT": settings.OIDC_TIMEOUT,
    }
    if name in ours:
        return ours[name]
    return import_from_settings(name, *default)


# The backend ---------------------------------------------------------------------------------


class EidBackend(OIDCAuthenticationBackend):
    """Trades the broker's code for tokens and checks them (the library), then reads the
    proven personnummer. It never makes an account; it answers the account that carries the
    personnummer verified, or None, and leaves what it proved on the request
    (`request.eid_identity`) for the callback view to act on."""

    get_settings = staticmethod(eid_setting)

    def __init__(self, *args, **kwargs):
        # Not the library's __init__, which reads the broker's endpoints: Django builds every
        # backend for each authenticate() and permission check, the admin's password log-in
        # too, and those must not wait for (or fail with) the broker.
        self.UserModel = get_user_model()

    def authenticate(self, request, nonce=None, code_verifier=None, **kwargs):
        if request is None or nonce is None or kwargs:
            return None  # a password log-in, not the broker's callback
        super().__init__()
        return super().authenticate(request, nonce=nonce, code_verifier=code_verifier)

    def verify_token(self, token, **kwargs):
        """The library checks the signature, expiry and nonce; the issuer and audience too
        (it does not): a token the broker made for another of its clients is no log-in here."""
        payload = super().verify_token(token, **kwargs)
        issuer = provider_metadata()["issuer"]
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if payload.get("iss") != issuer or self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token is from another issuer or for another client.")
        if len(audiences) > 1 and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("The ID token was issued to another party.")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, completed from the userinfo endpoint when the personnummer
        is not among them (Idura puts it in the ID token, Signicat in userinfo)."""
        claims = dict(payload)
        if settings.OIDC_PERSONNUMMER_CLAIM not in claims and self.OIDC_OP_USER_ENDPOINT and access_token:
            info = super().get_userinfo(access_token, id_token, payload)
            if not isinstance(info, dict) or info.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("The userinfo answer is about someone else.")
            for key, value in info.items():
                claims.setdefault(key, value)
        return claims

    def verify_claims(self, claims):
        name = settings.OIDC_PERSONNUMMER_CLAIM
        try:
            number = eid_personnummer(claims.get(name))
        except ValidationError:
            # Claim names only: the values are who she is (R24).
            log.warning("eID: no Swedish personnummer in the claim %r (OIDC_PERSONNUMMER_CLAIM); claims given: %s",
                        name, ", ".join(sorted(claims)))
            self.request.eid_error = "claim"
            return False
        given, family = _names(claims)
        self.request.eid_identity = {"personnummer": number, "given_name": given, "family_name": family}
        return True

    def filter_users_by_claims(self, claims):
        user = eid_account(self.request.eid_identity["personnummer"])
        return [user] if user is not None else []

    def describe_user_by_claims(self, claims):
        return "this eID"  # never the personnummer, even at DEBUG

    # Permissions are the password backend's answer; this one adds none.
    def has_perm(self, user_obj, perm, obj=None):
        return False

    def has_module_perms(self, user_obj, app_label):
        return False

    def get_all_permissions(self, user_obj, obj=None):
        return set()


def _names(claims: dict) -> tuple[str, str]:
    given = str(claims.get("given_name") or "").strip()[:150]
    family = str(claims.get("family_name") or "").strip()[:150]
    if not (given and family) and isinstance(claims.get("name"), str):
        parts = claims["name"].strip().rsplit(" ", 1)
        if len(parts) == 2:
            given, family = given or parts[0][:150], family or parts[1][:150]
    return given, family


# The views -----------------------------------------------------------------------------------


def unavailable(request):
    return render(request, "tidbok/eid_unavailable.html", status=503)


def _client_of(user):
    return getattr(user, "client", None) if user.is_authenticated else None


class EidStart(OIDCAuthenticationRequestView):
    """`/login/eid/`: to the broker. A logged-in client comes here to connect her account."""

    get_settings = staticmethod(eid_setting)

    def __init__(self, **kwargs):
        # The library reads the broker's endpoints here, where a failure cannot be answered
        # with a page; `get` does it instead.
        View.__init__(self, **kwargs)

    def get(self, request):
        if request.user.is_authenticated:
            client = _client_of(request.user)
            if client is None:
                messages.error(request, _("Only a client's account can be connected to BankID."))
                return redirect("account")
            if client.personnummer_verified:
                messages.info(request, _("Your account is already connected to BankID."))
                return redirect("account")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except EidUnavailable:
            return unavailable(request)
        self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")
        return super().get(request)


class EidCallback(OIDCAuthenticationCallbackView):
    """`/login/eid/callback/`: the broker sends the browser back here. The library checks the
    state against the session (and drops it: a code works once) and asks the backend; then
    `_finish` acts on what was proven."""

    get_settings = staticmethod(eid_setting)

    def get(self, request):
        if request.GET.get("error"):
            # She cancelled at the broker (or it refused). Unlike the library, we do not log
            # out a client who was connecting her account: her session is hers.
            states = request.session.get("oidc_states")
            if isinstance(states, dict) and states.pop(request.GET.get("state", ""), None) is not None:
                request.session.modified = True
            return self._failed(_("The log-in with BankID was cancelled."))
        try:
            return super().get(request)
        except EidUnavailable:
            return unavailable(request)
        except requests.HTTPError as e:
            status = e.response.status_code if e.response is not None else 0
            log.warning("eID: the broker answered %s%s", status,
                        " (OIDC_CLIENT_ID / OIDC_CLIENT_SECRET?)" if status in (400, 401) else "")
            if status >= 500 or status == 0:
                return unavailable(request)
            return self._failed(_("The log-in with BankID did not work. Try again."))
        except requests.RequestException as e:
            log.warning("eID: the broker could not be reached: %s", type(e).__name__)
            return unavailable(request)
        except (SuspiciousOperation, jwt.InvalidTokenError, KeyError, TypeError, ValueError) as e:
            log.warning("eID: refused the broker's answer: %s: %s", type(e).__name__, e)
            return self._failed(_("The log-in with BankID did not work. Try again."))

    def login_success(self):
        return self._finish(self.user)

    def login_failure(self):
        return self._finish(None)

    def _failed(self, message: str):
        messages.error(self.request, message)
        return redirect("account" if self.request.user.is_authenticated else "login")

    def _finish(self, account):
        request = self.request
        identity = getattr(request, "eid_identity", None)
        next_url = request.session.pop("oidc_login_next", None) or ""
        if identity is None:
            if getattr(request, "eid_error", "") == "claim":
                return self._failed(_("The log-in with BankID gave us no Swedish personnummer, so it cannot be used here."))
            return self._failed(_("The log-in with BankID did not work. Try again."))
        if request.user.is_authenticated:  # a: she connects her account
            try:
                eid_connect(user=request.user, personnummer=identity["personnummer"])
            except ValidationError as e:
                messages.error(request, " ".join(e.messages))
            else:
                messages.success(request, _("BankID is connected: your personnummer is verified."))
            return redirect("account")
        if account is not None:  # b: the account that carries it
            login(request, account, backend=SESSION_BACKEND)
            # BankID is two factors in itself (the card or phone, and its PIN or face): the
            # session owes no second step (R42; docs/security.md, "Second factor").
            request.session[EID_SESSION_KEY] = "eid"
            messages.success(request, _("You are logged in with BankID."))
            return redirect(next_url or "home")
        # c: nobody carries it; she may create an account. What was proven waits in the
        # session (server-side), never in a URL, and is taken out of it after
        # EID_PENDING_SECONDS even if she never comes back (eid_pending_forget).
        request.session[PENDING_KEY] = {**identity, "next": next_url, "at": time.time()}
        request.session.save()
        eid_pending_forget.using(run_after=timezone.now() + timedelta(seconds=EID_PENDING_SECONDS + 5)).enqueue(
            request.session.session_key
        )
        return redirect("eid_signup")


@task
def eid_pending_forget(session_key: str) -> str:
    """Take a proven personnummer out of a session it waited in for an account that was never
    asked for (R24: no copy of it is kept longer than it is needed). A session that logged
    in or out since has a new key, and dropped it then (`forget_on_login`)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if PENDING_KEY not in store:
        return "gone"
    del store[PENDING_KEY]
    store.save()
    return "forgotten"


@receiver(user_logged_in)
def forget_on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session.pop(PENDING_KEY, None)


class EidSignupForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail address"), max_length=EMAIL_MAX_LENGTH,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    accept_privacy_policy = forms.BooleanField(
        label=gettext_lazy("I have read the privacy policy and agree that Tidbok stores my data as it says."),
        error_messages={"required": gettext_lazy("To create an account, accept the privacy policy.")},
    )

    def __init__(self, *args, need_names: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if need_names:
            # The broker gave no names (its scopes lack `profile`): she types them.
            self.fields = {
                "first_name": forms.CharField(label=gettext_lazy("First name"), max_length=NAME_MAX_LENGTH,
                                              widget=forms.TextInput(attrs={"autocomplete": "given-name"})),
                "last_name": forms.CharField(label=gettext_lazy("Last name"), max_length=NAME_MAX_LENGTH,
                                             widget=forms.TextInput(attrs={"autocomplete": "family-name"})),
                **self.fields,
            }


def _pending(request) -> dict | None:
    """What the callback proved, if it is fresh; an old one is dropped."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if not (0 <= time.time() - float(pending.get("at", 0)) < EID_PENDING_SECONDS):
        del request.session[PENDING_KEY]
        return None
    return pending


def eid_signup(request):
    """c: "Create your account with BankID". Only an e-mail address is asked; the page after
    it is the same whether the address has an account or not (R26)."""
    if request.user.is_authenticated:
        return redirect("account")
    pending = _pending(request)
    if pending is None:
        return render(request, "tidbok/eid_signup.html", {"expired": True}, status=400)
    need_names = not (pending["given_name"] and pending["family_name"])
    form = EidSignupForm(request.POST or None, need_names=need_names)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            f = form.cleaned_data
            try:
                eid_account_request(
                    email=f["email"], personnummer=pending["personnummer"],
                    first_name=f.get("first_name") or pending["given_name"],
                    last_name=f.get("last_name") or pending["family_name"],
                    language=(get_language() or "sv")[:2], next_url=pending.get("next", ""),
                    source=source_address(request), accept_privacy_policy=POLICY_VERSION,
                )
            except AccountRequestsThrottled:
                form.add_error(None, _("Too many sign-ups from your address. Try again in an hour."))
                status = 429
            except ValidationError as e:
                for field, errors in (e.message_dict if hasattr(e, "error_dict") else {None: e.messages}).items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                # One account request per eID log-in: another address needs another log-in.
                request.session[EID_PROOF_SESSION_KEY] = eid_proof(pending["personnummer"])
                del request.session[PENDING_KEY]
                return render(request, "tidbok/eid_sent.html", {"email": f["email"]})
    context = {"form": form, "given_name": pending["given_name"], "family_name": pending["family_name"],
               "need_names": need_names, "policy_version": POLICY_VERSION}
    return render(request, "tidbok/eid_signup.html", context, status=status)
