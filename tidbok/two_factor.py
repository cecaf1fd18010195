"""The second factor's pages (R42): the step after the password (a code from the app, a
recovery code, or a passkey), and the page under Konto where she sets it up, lists and removes
passkeys, makes new recovery codes and turns it off. The rules are in
domain/services/two_factor.py; what a session owes is decided here, for the middleware
(tidbok/middleware.py) and the views alike."""

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login

from domain.backends import source_address
from domain.models import PASSWORD_MAX_LENGTH
from domain.services import LoginFailed, LoginThrottled, login_check
from domain.services import two_factor as tf

from .http import safe_next

# Set in the session by an eID log-in (tidbok/eid.py): BankID is a second factor in itself.
EID_SESSION_KEY = "tidbok_second_factor"
VERIFY, SETUP = "verify", "setup"


def passed(request) -> bool:
    """This session proved a second factor: a device (django-otp's mark) or BankID."""
    user = request.user
    return bool(getattr(user, "is_verified", lambda: False)()) or request.session.get(EID_SESSION_KEY) == "eid"


def owed(request) -> str | None:
    """What a logged-in session still owes before it counts for anything: VERIFY (she has a
    second factor and has not used it), SETUP (she must have one and has none), or None."""
    user = request.user
    if not user.is_authenticated or passed(request):
        return None
    if tf.has_second_factor(user):
        return VERIFY
    if tf.second_factor_required(user):
        return SETUP
    return None


def after_password(request, next_url: str):
    """Where a password log-in goes: the second step, the set-up, or on."""
    state = owed(request)
    query = f"?{urlencode({'next': next_url})}" if next_url and next_url != reverse("home") else ""
    if state == VERIFY:
        return redirect(reverse("login_otp") + query)
    if state == SETUP:
        messages.info(request, _("Your account needs a second factor. Set one up to go on."))
        return redirect(reverse("two_factor") + query)
    return redirect(next_url or "home")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=32,
        help_text=_("Six digits from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


def _code_error(form, request, exc) -> int:
    if isinstance(exc, LoginThrottled):
        form.add_error(None, LoginThrottled.message())
        return 429
    form.add_error("code", exc.message)
    return 400


@login_required
def login_otp(request):
    """The step after the password for an account with a second factor."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if owed(request) != VERIFY:
        return redirect(next_url or "home")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device = tf.otp_verify(user=request.user, code=form.cleaned_data["code"], source=source_address(request))
        except (tf.OtpInvalid, LoginThrottled) as e:
            status = _code_error(form, request, e)
        else:
            request.session.cycle_key()  # a new session id for the session that now counts
            otp_login(request, device)
            if device.__class__.__name__ == "StaticDevice":
                left = tf.recovery_codes_left(request.user)
                messages.warning(request, _("You used a recovery code; %(left)d are left. Make new ones under "
                                            "Account, Two-step verification.") % {"left": left})
            return redirect(next_url or "home")
    elif form.errors:
        status = 400
    context = {"form": form, "next": next_url, "has_totp": tf.totp_device_of(request.user) is not None,
               "has_passkey": tf.passkeys_of(request.user).exists()}
    return render(request, "tidbok/login_otp.html", context, status=status)


@login_required
def two_factor(request):
    """Konto → Tvåstegsverifiering: what she has, and what she can do with it."""
    user = request.user
    context = {
        "totp": tf.totp_device_of(user),
        "passkeys": tf.passkeys_of(user),
        "codes_left": tf.recovery_codes_left(user),
        "enabled": tf.has_second_factor(user),
        "required": tf.second_factor_required(user),
        "next": safe_next(request, request.GET.get("next")),
    }
    return render(request, "tidbok/two_factor.html", context)


def _qr_data_uri(text: str) -> str:
    return segno.make(text, error="m").svg_data_uri(scale=5, border=2)


@login_required
def two_factor_totp(request):
    """Set up an authenticator app: the QR code and the same secret as text, then a code
    from the app proves it is there."""
    device = tf.totp_setup_start(user=request.user)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            had_codes = tf.recovery_codes_left(request.user) > 0
            device = tf.totp_setup_confirm(user=request.user, code=form.cleaned_data["code"],
                                           source=source_address(request))
        except (tf.OtpInvalid, LoginThrottled) as e:
            status = _code_error(form, request, e)
        else:
            otp_login(request, device)
            messages.success(request, _("Two-step verification is on: you log in with a code from the app."))
            if not had_codes:
                return _show_codes(request, tf.recovery_codes_create(user=request.user), next_url)
            return redirect(next_url or "two_factor")
    elif form.errors:
        status = 400
    form.fields["code"].help_text = _("The six digits the app shows for Tidbok.")
    secret = device.config_url.split("secret=", 1)[1].split("&", 1)[0]
    context = {
        "form": form, "next": next_url, "qr": _qr_data_uri(device.config_url), "otpauth": device.config_url,
        "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
    }
    return render(request, "tidbok/two_factor_totp.html", context, status=status)


def _show_codes(request, codes: list[str], next_url: str = ""):
    return render(request, "tidbok/two_factor_codes.html", {"codes": codes, "next": next_url})


@login_required
@require_POST
def two_factor_recovery(request):
    if not tf.has_second_factor(request.user):
        return redirect("two_factor")
    return _show_codes(request, tf.recovery_codes_create(user=request.user))


@login_required
@require_POST
def two_factor_passkey_delete(request, passkey_id: int):
    if tf.second_factor_required(request.user) and tf.passkeys_of(request.user).count() == 1 \
            and tf.totp_device_of(request.user) is None:
        messages.error(request, _("Your account must have a second factor: add another before removing this one."))
        return redirect("two_factor")
    if not tf.passkey_remove(user=request.user, passkey_id=passkey_id):
        raise Http404
    messages.success(request, _("The passkey is removed."))
    return redirect("two_factor")


class TurnOffForm(forms.Form):
    password = forms.CharField(label=_("Password"), max_length=PASSWORD_MAX_LENGTH, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(label=_("Code from the app, or a recovery code"), max_length=32, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}))

    def __init__(self, data=None, *, user, source: str):
        super().__init__(data)
        self.user, self.source = user, source
        # A code is asked for when she has something that makes one; a passkey-only account
        # proved its passkey for this session already.
        self.needs_code = tf.totp_device_of(user) is not None or tf.recovery_codes_left(user) > 0
        if not self.needs_code:
            del self.fields["code"]
        self.status = 400

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            login_check(email=self.user.email, password=data["password"], source=self.source)
            if self.needs_code:
                tf.otp_verify(user=self.user, code=data.get("code", ""), source=self.source)
        except LoginThrottled:
            self.status = 429
            raise forms.ValidationError(LoginThrottled.message())
        except LoginFailed:
            self.add_error("password", _("The password is wrong."))
        except tf.OtpInvalid as e:
            self.add_error("code", e.message)
        return data


@login_required
def two_factor_off(request):
    user = request.user
    if tf.second_factor_required(user):
        messages.error(request, _("Your account must have a second factor; it cannot be turned off."))
        return redirect("two_factor")
    if not tf.has_second_factor(user):
        return redirect("two_factor")
    form = TurnOffForm(request.POST or None, user=user, source=source_address(request))
    if request.method == "POST" and form.is_valid():
        tf.second_factor_off(user=user)
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        messages.success(request, _("Two-step verification is off."))
        return redirect("two_factor")
    status = form.status if request.method == "POST" else 200
    return render(request, "tidbok/two_factor_off.html", {"form": form}, status=status)
