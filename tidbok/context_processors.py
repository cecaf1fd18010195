"""What every template may ask: whether eID log-in (R27) is configured, for its buttons."""

from django.conf import settings


def eid(request):
    return {"eid_enabled": bool(settings.OIDC_ISSUER)}
