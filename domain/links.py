"""The pages a mail links to. The domain says what a link is for; the web layer, which owns
the URL patterns, says where it goes: `tidbok.links.PageLinks` registers itself when the
project starts (`tidbok.apps.TidbokConfig.ready`), so a mail written by the task worker links
the same pages as one written during a request. Every link is absolute (`SITE_URL`)."""

from datetime import date
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured


class Links(Protocol):
    def log_in(self) -> str:
        """The log-in page."""

    def log_in_to_connect_eid(self) -> str:
        """The log-in page, then the account page, where she connects her eID."""

    def sign_up(self) -> str:
        """A new client account."""

    def password_reset(self) -> str:
        """Where she asks for a link to choose a new password."""

    def password_set(self, user, token: str) -> str:
        """Where she chooses a password, proven by a `default_token_generator` token."""

    def email_verify(self, user, token: str, next_url: str = "") -> str:
        """Where a new account's address is proven (R27), then `next_url`."""

    def invitation(self, token: str) -> str:
        """Where an own client accepts her therapist's invitation (R26)."""

    def video(self, token: str) -> str:
        """The page of a video call, opened with the reader's own key (R20, R29)."""

    def therapist_calendar(self, day: date) -> str:
        """The therapist's calendar on `day`."""

    def therapist_settings(self) -> str:
        """The therapist's settings (where she turns her mails off, R30)."""

    def book(self, slot_id: int) -> str:
        """Where a client books one slot (R37's mail links straight to it)."""

    def waitlist(self) -> str:
        """Where a client sees and leaves her wait-list entries (Mina bokningar)."""


_links: Links | None = None


def register(links: Links) -> None:
    global _links
    _links = links


def links() -> Links:
    if _links is None:
        raise ImproperlyConfigured(
            "No page links are registered: the web layer registers them at start-up (tidbok.apps)."
        )
    return _links
