"""R20, R29: the two parties' links to a video booking's call, and where they lead.

Each party has a link of her own (`Booking.video_token` for the client,
`Booking.therapist_video_token` for the therapist): the link is the key, so whoever holds it
gets into the room inside the window, without logging in, and renewing one party's link ends
only that one. The room's name (`Booking.video_room`) is a third random value, unrelated to
both links.

With `VIDEO_JWT_SECRET` set, the room address carries a Jitsi JWT (lib-jitsi-meet's
doc/tokens.md): a self-hosted Jitsi with token authentication then admits only Tidbok's
parties, to this room only, and only inside the window (`nbf`/`exp`)."""

from urllib.parse import urlencode

import jwt
from django.conf import settings

from .models import Booking, User

CLIENT, THERAPIST = "client", "therapist"
PARTIES = (CLIENT, THERAPIST)
# The column that holds each party's key.
TOKEN_FIELDS = {CLIENT: "video_token", THERAPIST: "therapist_video_token"}


def party_of(user: User, booking: Booking) -> str:
    """Whose side of the booking `user` is on (she must be one of its two parties)."""
    therapist = getattr(user, "therapist", None)
    return THERAPIST if therapist is not None and therapist.pk == booking.therapist_id else CLIENT


def link_of(booking: Booking, party: str) -> str | None:
    """The party's own link (None for an on-site booking)."""
    return booking.therapist_video_url if party == THERAPIST else booking.video_url


def room_claims(booking: Booking, party: str) -> dict:
    """What the token says: who issued it (`iss`, prosody's `app_id`), for which service
    (`aud`) and domain or tenant (`sub`), which room, and when it is valid: exactly the
    link's window (R20). The therapist is the moderator (`context.user.moderator`, read by
    8x8's JaaS and token-affiliation modules; `affiliation` for jitsi-contrib's
    mod_token_affiliation). Jitsi wants every `context.user` value as a string. The client is
    not named: a link may be forwarded, and the token in the room address is readable by
    whoever follows it."""
    opens, closes = booking.video_window()
    if party == THERAPIST:
        user = {"name": booking.therapist.full_name, "moderator": "true", "affiliation": "owner"}
    else:
        user = {"moderator": "false", "affiliation": "member"}
    return {
        "iss": settings.VIDEO_JWT_APP_ID,
        "aud": settings.VIDEO_JWT_AUDIENCE,
        "sub": settings.VIDEO_JWT_SUBJECT,
        "room": booking.video_room_name,
        "nbf": opens,
        "exp": closes,
        "context": {"user": user},
    }


def room_url(booking: Booking, party: str) -> str:
    """Where the party's link sends her inside the window: the room, with her token when
    Jitsi token authentication is configured (HS256, the secret shared with prosody)."""
    url = booking.video_room_url
    if not settings.VIDEO_JWT_SECRET:
        return url
    token = jwt.encode(room_claims(booking, party), settings.VIDEO_JWT_SECRET, algorithm="HS256")
    return f"{url}?{urlencode({'jwt': token})}"
