"""Small helpers for views of every app."""

import functools

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import resolve_url
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _


def safe_next(request, url: str | None, default: str = "") -> str:
    """A `next` address to go on to, if it stays on this site; else `default` (no open
    redirect through a log-in or a set-up page)."""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return default


# A page's endpoints that its script fetches ----------------------------------------------

NOT_LOGGED_IN = "not_logged_in"


def not_logged_in() -> JsonResponse:
    """401 {code, detail, login_url}: the session has ended (or never was); the script goes to
    `login_url` and comes back to its page after the log-in."""
    return JsonResponse(
        {
            "code": NOT_LOGGED_IN,
            "detail": _("You are no longer logged in. Log in again to go on."),
            "login_url": resolve_url(settings.LOGIN_URL),
        },
        status=401,
    )


def login_required_401(view):
    """`login_required` for an endpoint that a page's script fetches (JSON, or a fragment of
    HTML): without a log-in it answers 401 JSON (`not_logged_in`), not a redirect to the log-in
    page, which fetch would follow and hand the script as if it were the answer. The middleware
    that ends sessions (`tidbok.middleware`) leaves such a view to answer for itself
    (`answers_401`)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return not_logged_in()
        return view(request, *args, **kwargs)

    wrapper.answers_401 = True
    return wrapper


def answers_401(request) -> bool:
    """Whether the request's view is a `login_required_401` one (the flag survives every
    decorator made with functools.wraps)."""
    try:
        return getattr(resolve(request.path_info).func, "answers_401", False)
    except Resolver404:
        return False


def url_template(viewname: str, *names: str) -> str:
    """A URL with `{name}` where each of its arguments goes, for a script to fill in
    (dialog.js `Tidbok.url`): reversed with numbers no real URL holds in their places, which
    are then replaced. Every argument must be a number in the pattern (`<int:…>`)."""
    marks = {name: str(987_654_321_000 + i) for i, name in enumerate(names)}
    url = reverse(viewname, kwargs=marks)
    for name, mark in marks.items():
        if url.count(mark) != 1:
            raise ValueError(f"{viewname}: the argument {name} is not found once in {url}")
        url = url.replace(mark, "{" + name + "}")
    return url
