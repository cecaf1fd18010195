"""RFC 6238 (TOTP) by hand, so that the tests check django-otp against the standard, not
against itself: HMAC-SHA1 of the 30-second step count, dynamically truncated (RFC 4226 §5.3)."""

import base64
import hashlib
import hmac
import struct
import time


def secret_of(device) -> str:
    """The base32 secret an authenticator app is given for a django-otp TOTPDevice."""
    return base64.b32encode(bytes.fromhex(device.key)).decode()


def totp_code(secret: str, at: float | None = None, step: int = 30, digits: int = 6, offset: int = 0) -> str:
    secret = "".join(secret.split()).upper()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // step) + offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    start = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[start:start + 4])[0] & 0x7FFFFFFF
    return f"{number % 10 ** digits:0{digits}d}"
