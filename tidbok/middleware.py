"""Middleware of our own."""

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
