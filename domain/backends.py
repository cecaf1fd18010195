"""The one authentication backend: every log-in with a password, the admin's included, goes
through `domain.services.login_check`, so the throttle of R28 has no way around it."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from .services.accounts import LoginFailed, LoginThrottled, login_check


def source_address(request) -> str:
    """The caller's IP address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies the
    address the outermost of ours saw (X-Forwarded-For is read from the right, so a client
    cannot choose what we read by sending the header herself)."""
    if request is None:
        return "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"


class EmailBackend(ModelBackend):
    """E-mail and password, throttled. A throttled try marks the request
    (`request.login_throttled`) so that a form can say why, and stops any other backend."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = email or username or kwargs.get("email")
        if email is None or password is None:
            return None
        try:
            return login_check(email=email, password=password, source=source_address(request))
        except LoginThrottled:
            if request is not None:
                request.login_throttled = True
            raise PermissionDenied
        except LoginFailed:
            return None
