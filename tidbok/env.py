"""Strict readers of the environment for tidbok/settings.py: a value that is set but cannot be
read (a misspelt boolean such as "flase", a number with a typo, a URL without a scheme)
stops the start with ImproperlyConfigured naming the variable, instead of quietly becoming a
default. An empty value counts as unset, so `FOO=` in an env file means "the default"."""

import os
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def _raw(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value if value else default


def envbool(name: str, default: str) -> bool:
    value = _raw(name, default).lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of {', '.join(TRUE + FALSE)} (it is {value!r}).")


def envint(name: str, default: str, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name, default)
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number (it is {value!r}).") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum} (it is {number}).")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum} (it is {number}).")
    return number


def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)} (it is {value!r}).")
    return value


def envurl(name: str, default: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """An absolute URL with one of `schemes` and a host."""
    value = _raw(name, default)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in schemes or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must be an address such as {schemes[-1]}://example.se/ (it is {value!r}).")
    return value


def envsecret(name: str) -> str | None:
    """A secret from NAME, or from the file that NAME_FILE points to."""
    if value := os.environ.get(name):
        return value
    if path := os.environ.get(f"{name}_FILE"):
        try:
            return Path(path).read_text().strip()
        except OSError as e:
            raise ImproperlyConfigured(f"{name}_FILE names a file that cannot be read ({e.strerror}: {path}).") from None
    return None
