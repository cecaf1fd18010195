"""The pages' URLs for the domain's mails (`domain.links.Links`), registered at start-up."""

from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlencode, urlsafe_base64_encode


def _absolute(path: str, **query) -> str:
    query = {key: value for key, value in query.items() if value}
    return f"{settings.SITE_URL}{path}" + (f"?{urlencode(query)}" if query else "")


def _uid(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


class PageLinks:
    def log_in(self) -> str:
        return _absolute(reverse("login"))

    def log_in_to_connect_eid(self) -> str:
        return _absolute(reverse("login"), next=reverse("account"))

    def sign_up(self) -> str:
        return _absolute(reverse("client_pages:signup"))

    def password_reset(self) -> str:
        return _absolute(reverse("client_pages:password_reset"))

    def password_set(self, user, token: str) -> str:
        return _absolute(reverse("client_pages:password_set", kwargs={"uidb64": _uid(user), "token": token}))

    def email_verify(self, user, token: str, next_url: str = "") -> str:
        path = reverse("client_pages:verify_email", kwargs={"uidb64": _uid(user), "token": token})
        return _absolute(path, next=next_url)

    def invitation(self, token: str) -> str:
        return _absolute(reverse("client_pages:invitation", args=[token]))

    def video(self, token: str) -> str:
        return _absolute(reverse("video", args=[token]))

    def therapist_calendar(self, day: date) -> str:
        return _absolute(reverse("therapist_pages:calendar"), datum=day.isoformat())

    def therapist_settings(self) -> str:
        return _absolute(reverse("therapist_pages:settings"))

    def book(self, slot_id: int) -> str:
        return _absolute(reverse("client_pages:book", args=[slot_id]))

    def waitlist(self) -> str:
        return _absolute(reverse("client_pages:bookings")) + "#vantelista"
