"""The services: every state change of Tidbok, each one function (STYLE.md)."""

from .accounts import (
    LoginFailed,
    LoginThrottled,
    SignupInvitationSent,
    account_signup,
    client_booster_set,
    login_check,
    password_reset_request,
    token_create,
    token_revoke,
    token_user,
)
from .bookings import booking_cancel, booking_create_by_client, booking_create_by_therapist
from .clients import client_add, client_invite
from .reminders import booking_reminders_queue
from .slots import (
    UNSET,
    RepeatResult,
    slot_create,
    slot_create_many,
    slot_create_repeating,
    slot_delete,
    slot_repeat_weekly,
    slot_update,
)
from .therapists import therapist_feed_token_regenerate, therapist_settings_update

__all__ = [
    "UNSET",
    "RepeatResult",
    "LoginFailed",
    "LoginThrottled",
    "SignupInvitationSent",
    "account_signup",
    "booking_cancel",
    "booking_create_by_client",
    "booking_create_by_therapist",
    "booking_reminders_queue",
    "client_add",
    "client_invite",
    "client_booster_set",
    "login_check",
    "password_reset_request",
    "slot_create",
    "slot_create_many",
    "slot_create_repeating",
    "slot_delete",
    "slot_repeat_weekly",
    "slot_update",
    "therapist_feed_token_regenerate",
    "therapist_settings_update",
    "token_create",
    "token_revoke",
    "token_user",
]
