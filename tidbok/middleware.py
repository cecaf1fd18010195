"""Middleware of our own."""

from django.http import JsonResponse
from django.utils.cache import patch_cache_control


def no_store(get_response):
    """Every dynamic answer is private: a calendar, a client list, a booking, even the login
    page (its CSRF token) must not be kept by a browser's cache on a shared computer or by a
    proxy. An answer that set its own Cache-Control keeps it (the admin's never_cache, the
    calendar feed). Listed after WhiteNoise, which answers static files before this runs, so
    they keep their long, immutable caching."""

    def middleware(request):
        response = get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response

    return middleware


API_PREFIX = "/api/"
# Headers of the answer replaced that still hold for the JSON one.
KEPT_HEADERS = ("Allow", "Retry-After", "Cache-Control", "WWW-Authenticate")


def api_errors_as_json(get_response):
    """Under /api/ every error is JSON (API.md), never an HTML page: an unknown path (Django's
    404, which would render our 404 page), a method the path does not take (django-ninja's
    plain-text 405), a server error (our 500 page). The API's own errors are JSON already and
    pass untouched; the words are the caller's language's (`api.messages.status_detail`)."""
    from api.messages import status_detail

    def middleware(request):
        response = get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            answer = JsonResponse(
                {"detail": status_detail(response.status_code)}, status=response.status_code,
                content_type="application/json; charset=utf-8", json_dumps_params={"ensure_ascii": False},
            )
            for header in KEPT_HEADERS:
                if response.has_header(header):
                    answer[header] = response[header]
            return answer
        return response

    return middleware
