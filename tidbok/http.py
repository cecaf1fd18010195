"""Small helpers for views of every app."""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, url: str | None, default: str = "") -> str:
    """A `next` address to go on to, if it stays on this site; else `default` (no open
    redirect through a log-in or a set-up page)."""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return default
