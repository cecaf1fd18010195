"""The pages every visitor shares: home (sends each role to her first view), log in, log out.
Language is switched by Django's `set_language` (a cookie, so the choice sticks)."""

from django import forms
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from domain.services import LoginFailed, LoginThrottled, login_check


def home(request):
    """R1: a therapist's first view is her week calendar; a client's, her bookings."""
    role = getattr(request.user, "role", None)
    if role == "therapist":
        return redirect("therapist_pages:calendar")
    if role == "client":
        return redirect("client_pages:bookings")
    return redirect("client_pages:find")


class LoginForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    password = forms.CharField(label=_("Password"), max_length=256, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


def login_view(request):
    form = LoginForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        try:
            user = login_check(email=form.cleaned_data["email"], password=form.cleaned_data["password"])
        except LoginThrottled:
            form.add_error(None, _("Too many failed attempts for this address. Wait 15 minutes and try again."))
        except LoginFailed:
            form.add_error(None, _("Wrong e-mail address or password."))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                next_url = reverse("home")
            return redirect(next_url or "home")
    return render(request, "tidbok/login.html", {"form": form, "next": next_url}, status=400 if form.errors else 200)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("login")
