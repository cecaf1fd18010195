"""The second factor (R42): an authenticator app (TOTP), passkeys and recovery codes, kept by
django-otp (TOTPDevice, StaticDevice with its StaticTokens) and django-otp-webauthn
(WebAuthnCredential). Every surface asks here: who must have one, who has one, is this code
good (throttled like a password), set up, remove, turn off. Set-up, removal and each use of a
recovery code are written to the audit trail.

What the libraries do not do, and this does: a code is counted before it is checked (R28's
counter, per account and source address), so guessing six digits is as slow as guessing a
password; a code is checked under a row lock, so two parallel requests cannot both spend the
same TOTP step or the same recovery code."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from ..models import ApiToken, User
from .audit import audit_write
from .throttle import Rate, rate_hit, rate_reset

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "app"
RECOVERY_NAME = "recovery"


class OtpRequired(Exception):
    """The account has a second factor and no code came with the password."""

    code = "otp_required"
    message = _("Enter the code from your authenticator app, or a recovery code.")


class OtpInvalid(Exception):
    """The code is not one of hers (or was used already)."""

    code = "otp_invalid"
    message = _("The code is wrong or has been used already. Try the next code from your app.")


class OtpSetupRequired(Exception):
    """She must have a second factor and has none yet: set one up on the web first."""

    code = "otp_setup_required"
    message = _("Your account needs a second factor. Set one up after logging in on the web page.")


def otp_rate() -> Rate:
    """Wrong codes count like wrong passwords: LOGIN_MAX_FAILURES per account and source
    address within LOGIN_FAILURE_WINDOW_SECONDS."""
    return Rate("otp", settings.LOGIN_MAX_FAILURES, timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS))


def second_factor_required(user: User) -> bool:
    """Staff must (STAFF_REQUIRE_2FA), therapists must when THERAPISTS_REQUIRE_2FA is on."""
    if user.is_staff and settings.STAFF_REQUIRE_2FA:
        return True
    return getattr(user, "role", None) == "therapist" and settings.THERAPISTS_REQUIRE_2FA


def totp_device_of(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def passkeys_of(user: User):
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at")


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def has_second_factor(user: User) -> bool:
    """A confirmed authenticator app or passkey. (Recovery codes alone are not a factor she
    chose: they stand in for one, and go when the last one goes.)"""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def otp_verify(*, user: User, code: str, source: str):
    """The device `code` belongs to (her authenticator app, or a recovery code, which is
    spent), or OtpInvalid; LoginThrottled past the limit. Spaces and dashes are ignored."""
    from .accounts import LoginThrottled

    code = "".join(str(code or "").split()).replace("-", "").lower()[:32]
    if not rate_hit(otp_rate(), str(user.pk), source):
        raise LoginThrottled
    device = _totp_verify(user, code) if code.isdigit() else None
    if device is None and code:
        device = _recovery_code_spend(user, code)
    if device is None:
        raise OtpInvalid
    rate_reset(otp_rate(), str(user.pk), source)
    return device


def _totp_verify(user: User, code: str) -> TOTPDevice | None:
    with transaction.atomic():
        # The row lock serialises two requests with the same code: the second sees the step
        # the first used (last_t) and is refused.
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is not None and device.verify_token(code):
            return device
    return None


def _recovery_code_spend(user: User, code: str) -> StaticDevice | None:
    """One statement deletes the code: of two parallel requests with it, one wins."""
    device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if device is None or not device.verify_is_allowed()[0]:
        return None
    if StaticToken.objects.filter(device=device, token=code).delete()[0] == 0:
        device.throttle_increment(commit=True)
        return None
    device.throttle_reset(commit=False)
    device.set_last_used_timestamp(commit=False)
    device.save()
    audit_write(actor=user, action="recovery_code_used", target=device,
                after={"left": StaticToken.objects.filter(device=device).count()})
    return device


def second_factor_check(*, user: User, code: str | None, source: str) -> object | None:
    """For a password log-in that gets no further step (the API's token): nothing to do for
    an account without a second factor; otherwise the code must be good. An account that must
    have one and has none cannot get a token until it is set up (on the web page)."""
    if not has_second_factor(user):
        if second_factor_required(user):
            raise OtpSetupRequired
        return None
    if not str(code or "").strip():
        raise OtpRequired
    return otp_verify(user=user, code=code, source=source)


def totp_setup_start(*, user: User) -> TOTPDevice:
    """An unconfirmed authenticator-app device with a fresh secret (or the one she is already
    setting up). It proves nothing until `totp_setup_confirm`: log-in uses confirmed ones only."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=TOTP_NAME).first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def totp_setup_confirm(*, user: User, code: str, source: str) -> TOTPDevice:
    """She typed a code from her app: the device is hers from now on. Her API keys made
    without a second factor end; recovery codes come with the first factor (the caller shows
    them). Raises OtpInvalid (counted like any code)."""
    from .accounts import LoginThrottled

    if not rate_hit(otp_rate(), str(user.pk), source):
        raise LoginThrottled
    code = "".join(str(code or "").split())
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False, name=TOTP_NAME).first()
        if device is None or not code.isdigit() or not device.verify_token(code):
            raise OtpInvalid
        first = not has_second_factor(user)
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()  # one app per account
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_write(actor=user, action="second_factor_added", target=device, after={"kind": "totp"})
        if first:
            _first_factor_added(user)
    rate_reset(otp_rate(), str(user.pk), source)
    return device


def passkey_added(*, credential: WebAuthnCredential) -> None:
    """django-otp-webauthn saved a passkey (its registration view): audit it, and do what
    a first factor does."""
    user = credential.user
    audit_write(actor=user, action="second_factor_added", target=credential,
                after={"kind": "passkey", "name": credential.name})
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists() and passkeys_of(user).count() == 1:
        _first_factor_added(user)


def _first_factor_added(user: User) -> None:
    """API keys issued before she had a second factor were issued without one: they end."""
    ApiToken.objects.filter(user=user).delete()


def recovery_codes_create(*, user: User) -> list[str]:
    """Ten new one-time codes (the old ones stop working). Only their owner sees them, once:
    the caller shows the list and it is never shown again."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
        device.token_set.all().delete()
        codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
        audit_write(actor=user, action="recovery_codes_created", target=device, after={"count": len(codes)})
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def _recovery_code():
    # 10 characters of base32 (50 bits): typed once, so legible beats short.
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def passkey_remove(*, user: User, passkey_id: int) -> bool:
    """Remove one of her passkeys; False when it is not hers."""
    with transaction.atomic():
        credential = WebAuthnCredential.objects.filter(user=user, pk=passkey_id).first()
        if credential is None:
            return False
        credential.delete()
        credential.pk = passkey_id
        audit_write(actor=user, action="second_factor_removed", target=credential,
                    before={"kind": "passkey", "name": credential.name})
        _recovery_codes_go_with_the_last_factor(user)
    return True


def second_factor_off(*, user: User, actor: User | None = None) -> None:
    """Every device of hers goes: the app, passkeys, recovery codes. The caller checked her
    password and a code (or staff do it for someone who lost her phone, in the admin)."""
    with transaction.atomic():
        kinds = []
        for model, kind in ((TOTPDevice, "totp"), (WebAuthnCredential, "passkey"), (StaticDevice, "recovery")):
            if model.objects.filter(user=user).delete()[0]:
                kinds.append(kind)
        audit_write(actor=actor or user, action="second_factor_removed", target=user, before={"kinds": kinds})


def _recovery_codes_go_with_the_last_factor(user: User) -> None:
    if not has_second_factor(user):
        StaticDevice.objects.filter(user=user).delete()
