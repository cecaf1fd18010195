"""The one authentication backend: every log-in with a password, the admin's included, goes
through `domain.services.login_check`, so the throttle of R28 has no way around it."""

import ipaddress

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from .services.accounts import LoginFailed, LoginThrottled, login_check


def source_address(request) -> str:
    """Who is calling, for the throttle: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse
    proxies the address the outermost of ours saw (X-Forwarded-For is read from the right, so
    a client cannot choose what we read by sending the header herself). An IPv6 address
    counts by its /64 network: one subscriber holds a whole /64, so counting by single
    addresses would give a guesser 2^64 fresh starts."""
    if request is None:
        return "unknown"
    address = request.META.get("REMOTE_ADDR") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    return throttle_key_of(address)


def throttle_key_of(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


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
