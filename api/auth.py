"""Who is calling: a bearer token, or the browser's session with CSRF (docs/api.md, Auth)."""

from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from domain.models import AccessRecord, Client, Therapist, User
from domain.services import token_user, two_factor


class BearerAuth(HttpBearer):
    def authenticate(self, request, token: str) -> User | None:
        user = token_user(token)
        if user is None:
            return None
        # R42: an account that must have a second factor and has none (STAFF_REQUIRE_2FA, or
        # THERAPISTS_REQUIRE_2FA turned on after her token was made) is refused a new token;
        # a token made before that counts for nothing either until she has set one up (which
        # ends it anyway). The settings are read first: no query unless the rule applies.
        if two_factor.second_factor_required(user) and not two_factor.has_second_factor(user):
            raise HttpError(401, str(two_factor.OtpSetupRequired.message))
        request.by_token = True  # R39: the access log says which surface read (API, not page)
        return user


class Anonymous:
    """The caller of a public endpoint who sent no credentials."""

    is_authenticated = False

    def __bool__(self):
        return True  # ninja treats a falsy result as "not authenticated"


def allow_anonymous(request):
    return Anonymous()


class SessionAuth(NinjaSessionAuth):
    """The browser's session, with CSRF checked only when the session is logged in.

    ninja's own checks CSRF before it looks at the session, so a write with no login at all
    (no token, a revoked or expired one, no session) answered 403 "CSRF check Failed" where
    docs/api.md promises 401. CSRF guards a logged-in browser against a foreign page; a request
    that logs in no one has nothing to guard, and is simply not logged in (ninja: 401)."""

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)  # raises the CSRF 403 for a logged-in session


LOGGED_IN = [BearerAuth(), SessionAuth(csrf=True)]
ANYONE = [*LOGGED_IN, allow_anonymous]


class WrongRole(HttpError):
    def __init__(self, role: str):
        # Whole sentences per role, so that each language can say it its own way.
        message = _("This needs a therapist account.") if role == "therapist" else _("This needs a client account.")
        super().__init__(403, message)


def therapist_of(request) -> Therapist:
    user = request.auth
    therapist = getattr(user, "therapist", None) if isinstance(user, User) else None
    if therapist is None:
        raise WrongRole("therapist")
    return therapist


def client_of(request) -> Client:
    user = request.auth
    client = getattr(user, "client", None) if isinstance(user, User) else None
    if client is None:
        raise WrongRole("client")
    return client


def viewer_client(request) -> Client | None:
    """The client looking at a public page, if the caller is one."""
    user = request.auth
    return getattr(user, "client", None) if isinstance(user, User) else None


def read_surface(request) -> str:
    """R39: the surface a read went through: an app or program with a bearer token is the
    API; the browser's session (the calendar's script, the booking view) is the web pages."""
    return AccessRecord.Surface.API if getattr(request, "by_token", False) else AccessRecord.Surface.PAGE
