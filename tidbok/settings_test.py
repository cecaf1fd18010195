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

if IS_POSTGRES and "replica" not in DATABASES:
    # The router and its second alias as production has them with DATABASE_REPLICA_URL, the
    # replica a second connection to the test database (tidbok/tests/test_replica.py).
    DATABASES["replica"] = {
        **DATABASES["default"],
        "OPTIONS": {**DATABASES["default"]["OPTIONS"], "connect_timeout": 2},
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["tidbok.replica.ReplicaRouter"]
    MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,  # noqa: F405
                      "tidbok.replica.primary_after_writes")
# Off unless a test turns it on: a test may read from the replica alias only when it says so
# (pytest-django's `databases`), and one in a transaction never reads from it anyway.
REPLICA_READS = False
