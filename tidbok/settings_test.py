"""Settings for the test suite: the real settings with a fixed secret, a fast password hash
for the many throw-away users the fixtures make (one test checks that production uses
Argon2), and static files without the manifest so tests need no collectstatic."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")

from .settings import *  # noqa: E402,F403
from .settings import DATA_DIR, DATABASES, IS_POSTGRES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
EMAIL_RETRY_DELAY = 1

if not IS_POSTGRES:
    # A file, not SQLite's shared in-memory database: threads in the concurrency tests then
    # lock it the way separate server processes do.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

# The admin's own tests log staff in with force_login and test what the admin does; the
# second factor in front of it (R42, on by default outside DEBUG) is tested with it turned on
# in tidbok/tests/test_two_factor*.py, which also check the default.
STAFF_REQUIRE_2FA = False
