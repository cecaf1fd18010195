"""The pages every visitor shares: home (sends each role to her first view), log in, log out.
Language is switched by Django's `set_language` (a cookie, so the choice sticks)."""

import sys

from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import DisallowedHost
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.http import require_POST

from domain.backends import source_address
from domain.errors import DomainError
from domain.models import EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH
from domain.privacy import POLICY_DATE, POLICY_VERSION
from domain.services import LoginFailed, LoginThrottled, login_check, token_delete, tokens_of
from domain.services import account_erase as erase
from domain.services.erasure import ACCOUNT_REQUEST_KEEP

from .http import safe_next
from .middleware import database_unavailable_answer, database_unavailable_code
from .two_factor import after_password


def server_error(request):
    """handler500: a database that went away while a middleware used it (the session or the
    user of a logged-in request, before any view ran) answers 503 like a view's outage does
    (`tidbok.middleware.database_unavailable`); everything else is Django's 500 page."""
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)) and database_unavailable_code(error):
        return database_unavailable_answer(request, error)
    return defaults.server_error(request)


def bad_request(request, exception):
    """handler400: the API answers in its own JSON shape (`{code, detail}`), so a client of it
    never has to read an HTML page; a page request gets Django's 400 page (in the visitor's
    language). The usual cause is a Host header the server does not answer to (ALLOWED_HOSTS)."""
    if request.path.startswith("/api/"):
        if isinstance(exception, DisallowedHost):
            code, detail = "bad_host", _("The request's Host header names a server this is not.")
        else:
            code, detail = "bad_request", _("The request could not be read.")
        return JsonResponse({"code": code, "detail": str(detail)}, status=400)
    return defaults.bad_request(request, exception)


def home(request):
    """R1: a therapist's first view is her week calendar; a client's, her bookings."""
    role = getattr(request.user, "role", None)
    if role == "therapist":
        return redirect("therapist_pages:calendar")
    if role == "client":
        return redirect("client_pages:bookings")
    return redirect("client_pages:find")


class LoginForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=EMAIL_MAX_LENGTH,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    password = forms.CharField(label=_("Password"), max_length=PASSWORD_MAX_LENGTH, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


def login_view(request):
    form = LoginForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = login_check(
                email=form.cleaned_data["email"], password=form.cleaned_data["password"], source=source_address(request)
            )
        except LoginThrottled:
            form.add_error(None, LoginThrottled.message())
            status = 429
        except LoginFailed:
            # The same words whether the address is unknown, the password wrong or the address
            # not confirmed yet (R26); in the last case a new link is on its way.
            form.add_error(None, _("Wrong e-mail address or password. If you have just created an account, "
                                   "first open the link in the mail we sent you."))
        else:
            login(request, user, backend="domain.backends.EmailBackend")
            next_url = safe_next(request, next_url, reverse("home"))
            # R42: with a second factor the session counts for nothing until the next step.
            return after_password(request, next_url)
    if form.errors and status == 200:
        status = 400
    return render(request, "tidbok/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("login")


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """The old password is a guess like any other (R28): it goes through `login_check`, so a
    stolen session cannot be used to guess it without limit."""

    def __init__(self, user, data=None, *, source: str):
        super().__init__(user, data)
        self.source = source

    def clean_old_password(self):
        try:
            login_check(email=self.user.email, password=self.cleaned_data.get("old_password", ""), source=self.source)
        except LoginThrottled:
            raise forms.ValidationError(LoginThrottled.message(), code="throttled")
        except LoginFailed:
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return self.cleaned_data["old_password"]


@login_required
def account(request):
    """Konto: change the password (which ends every other session and every API token, R28),
    and see and end API tokens one by one."""
    form = ThrottledPasswordChangeForm(request.user, request.POST or None, source=source_address(request))
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)  # this session stays; all others end
        messages.success(request, _("Your password is changed. You are logged out everywhere else."))
        return redirect("account")
    context = {"form": form, "tokens": tokens_of(request.user)}
    throttled = any(e.code == "throttled" for e in form.errors.as_data().get("old_password", []))
    return render(request, "tidbok/account.html", context, status=429 if throttled else 400 if form.errors else 200)


@login_required
@require_POST
def account_token_delete(request, token_id: int):
    if not token_delete(user=request.user, token_id=token_id):
        raise Http404
    messages.success(request, _("The key no longer works."))
    return redirect("account")


def privacy(request):
    """The privacy policy ("Personuppgiftspolicy"): what is stored, why, how long, who reads
    it, and her rights. Linked from every page's footer and from sign-up."""
    from django.conf import settings

    return render(request, "tidbok/privacy.html", {
        "version": POLICY_VERSION, "date": POLICY_DATE, "retention_years": settings.RETENTION_YEARS,
        "outbox_days": settings.OUTBOX_KEEP_DAYS, "request_days": ACCOUNT_REQUEST_KEEP.days,
    })


class EraseForm(forms.Form):
    password = forms.CharField(label=_("Your password"), max_length=PASSWORD_MAX_LENGTH, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    confirm = forms.BooleanField(label=_("I understand that my account and my data are erased for good."))


@login_required
def account_erase(request):
    """R41: what erasing her account means, then the password and a confirmation; erased,
    logged out, and on to a page that says so. A therapist or staff account is told why not."""
    user = request.user
    erasable = user.role == "client" and not user.is_staff
    form = EraseForm(request.POST or None)
    status = 200
    if request.method == "POST" and erasable and form.is_valid():
        try:
            erase(user=user, password=form.cleaned_data["password"], source=source_address(request))
        except LoginThrottled:
            form.add_error("password", LoginThrottled.message())
            status = 429
        except LoginFailed:
            form.add_error("password", _("Wrong password."))
        except DomainError as e:
            form.add_error(None, e.detail)
        else:
            logout(request)
            return redirect("account_erased")
    if form.errors and status == 200:
        status = 400
    return render(request, "tidbok/account_erase.html", {"form": form, "erasable": erasable}, status=status)


def account_erased(request):
    return render(request, "tidbok/account_erased.html")
